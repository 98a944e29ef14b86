// Package reliability runs the real Lambda code (lambda/iamdb,
// lambda/queryfn, lambda/dbuser) against the local Aurora stand-in
// (auroralocal) under faults, load and bad input. It holds tests only and
// does not import the CDK, so it runs in a few seconds; RELIABILITY.md at the
// repository root lists what each test proves.
package reliability

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/internal/standin"
	"github.com/rdsiam/rdsiam/lambda/dbuser"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// Names and keys of the emulated account. The keys are test values that
// only the stand-in knows.
const (
	appUser       = "app_user"
	appDatabase   = "appdb"
	testRegion    = "eu-west-1"
	testAccessKey = "AKIARELIABILITYTEST0"
	testSecretKey = "reliability/test/secret/key/0000000000000"
	secretArn     = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-x"
	queryRoleArn  = "arn:aws:iam::123456789012:role/QueryRole"
)

// env is one stand-in cluster; createUser adds the application user with
// the real custom-resource handler.
type env struct {
	srv *auroralocal.Server
}

// testKeys are the query role's keys.
var testKeys = aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}

// startEnv starts a stand-in whose only principal may rds-db:connect as
// app_user, and closes it when the test ends. It does not create the user.
// Call it from one goroutine at a time: go-mysql-server keeps state in
// globals, so stand-ins must not start concurrently.
func startEnv(t testing.TB) *env {
	t.Helper()
	srv := standin.Start(t, auroralocal.Options{
		Region: testRegion,
		Principals: []auroralocal.Principal{{
			ARN: queryRoleArn, AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey,
			Authorize: standin.AllowConnect(connectARN(appUser)),
		}},
	})
	if got := srv.DBUserARN(appUser); got != connectARN(appUser) {
		t.Fatalf("stand-in authorizes against %s, the policy names %s", got, connectARN(appUser))
	}
	return &env{srv: srv}
}

// connectARN is the rds-db resource a login as user is authorized against
// on every stand-in of these tests (default account and cluster id).
func connectARN(user string) string {
	return fmt.Sprintf("arn:%s:rds-db:%s:%s:dbuser:%s/%s", auroralocal.Partition, testRegion,
		auroralocal.DefaultAccount, auroralocal.DefaultClusterResourceID, user)
}

// secrets plays Secrets Manager: it hands out the stand-in's master
// credentials for secretArn, and reports any other ARN as not found.
func (e *env) secrets() standin.Secrets {
	return standin.Secrets{Master: standin.Master(e.srv), ARNs: []string{secretArn}}
}

// userHandler is the real custom-resource handler wired to e's
// stand-in.
func (e *env) userHandler() *dbuser.Handler {
	h := standin.Handler(e.srv, e.secrets(), slog.New(slog.DiscardHandler))
	h.WaitFor = 5 * time.Second
	return h
}

// userProps are the ResourceProperties CloudFormation sends for the user,
// as strings and lists the way it delivers them.
func (e *env) userProps(privileges ...string) map[string]any {
	return standin.User{UserName: appUser, DatabaseName: appDatabase, Privileges: privileges, SecretArn: secretArn}.Props(e.srv)
}

// userEvent is a custom-resource event for the user resource.
func userEvent(requestType string, props, old map[string]any) dbuser.Event {
	physical := ""
	if requestType != dbuser.RequestCreate {
		physical = dbuser.PhysicalID(appUser)
	}
	return standin.Event(requestType, "DatabaseUser", physical, props, old)
}

// createUser runs the real Create for the app's sample table (which the
// query function's actions use) and for app_user with privileges.
func (e *env) createUser(t testing.TB, privileges ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.userHandler().Handle(ctx, standin.SampleTableCreate(e.srv, secretArn, appDatabase)); err != nil {
		t.Fatalf("create sample table: %v", err)
	}
	if _, err := e.userHandler().Handle(ctx, userEvent(dbuser.RequestCreate, e.userProps(privileges...), nil)); err != nil {
		t.Fatalf("create user: %v", err)
	}
}

// container is what one Lambda execution environment of the query function
// holds: its own connector, pool and handler.
type container struct {
	conn *iamdb.Connector
	db   *sql.DB
	h    *queryfn.Handler
}

// queryConfig is the query function's connector configuration for e's
// stand-in, as ConfigFromEnv builds it from the function's environment,
// signing with the query role's keys and trusting the stand-in's CA.
func (e *env) queryConfig(t testing.TB) iamdb.Config {
	t.Helper()
	cfg, err := standin.QueryConfig(e.srv, e.functionEnvironment(), testKeys)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// functionEnvironment is the query function's environment for e's
// stand-in, as the stack sets it (the tuning variables left to defaults).
func (e *env) functionEnvironment() map[string]string {
	return standin.FunctionEnv(e.srv, appUser, appDatabase)
}

// newContainer builds a container from queryConfig, adjusted by change.
func (e *env) newContainer(t testing.TB, change func(*iamdb.Config)) *container {
	t.Helper()
	cfg := e.queryConfig(t)
	if change != nil {
		change(&cfg)
	}
	conn, err := iamdb.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := conn.OpenDB()
	t.Cleanup(func() { db.Close() })
	return &container{conn: conn, db: db, h: queryfn.New(db)}
}

// invoke runs one request as the Lambda runtime would, with a deadline.
func (c *container) invoke(request string) (queryfn.Response, error) {
	return c.invokeWithin(15*time.Second, request)
}

// invokeWithin is invoke with the deadline d away.
func (c *container) invokeWithin(d time.Duration, request string) (queryfn.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return c.h.Handle(ctx, json.RawMessage(request))
}

// mustInvoke runs request and fails the test on an error, naming the
// server's last refusal reason (never a token).
func (c *container) mustInvoke(t testing.TB, srv *auroralocal.Server, request string) queryfn.Response {
	t.Helper()
	resp, err := c.invoke(request)
	if err != nil {
		t.Fatalf("%s: %v (server's last refusal: %v)", request, err, srv.LastAuthError())
	}
	return resp
}

// itemCount reads the items table as the master user, bypassing the code
// under test.
func (e *env) itemCount(t testing.TB) int {
	t.Helper()
	db := e.masterDB(t)
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + appDatabase + ".items").Scan(&n); err != nil {
		t.Fatalf("count items as master: %v", err)
	}
	return n
}

// masterDB opens a pool logged in as the master user over TLS.
func (e *env) masterDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := standin.MasterDB(e.srv)
	if err != nil {
		t.Fatal(err)
	}
	return db
}
