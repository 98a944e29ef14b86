package bench

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"database/sql"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/internal/standin"
	"github.com/rdsiam/rdsiam/lambda/dbuser"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/rdstls"
)

// Names used on the stand-in. The IAM user and database are the stack's
// defaults; the password user is the benchmarks' reference login.
const (
	iamUser      = "app_user"
	passwordUser = "pw_user"
	database     = "appdb"
	queryRoleARN = "arn:aws:iam::123456789012:role/QueryRole"
	// masterSecretARN is what the user provider reads the master login from;
	// the stand-in's secret source knows only this one.
	masterSecretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-master-AbCdEf"
)

// grants are the default stack's privileges for the IAM user, given to the
// password user too so both run the same statements under the same checks.
var grants = []string{"SELECT", "INSERT"}

// standIn is a running stand-in with the default user created by the
// real custom-resource handler, a password user with the same grants, and
// one row in appdb.items.
type standIn struct {
	srv *auroralocal.Server
	// keys are the query role's (fake) access keys: the only principal
	// allowed rds-db:connect, and only as iamUser.
	keys aws.Credentials
	// password is passwordUser's password.
	password string
	// users is the real custom-resource handler wired to the stand-in.
	users *dbuser.Handler
	// iam is the query function's connector configuration; iamConfig
	// hands out copies.
	iam iamdb.Config
	// tls trusts only the stand-in's CA, as rdstls does for RDS; use
	// tlsConfig for a copy.
	tls *tls.Config
}

// randomHex returns n random bytes in hex, for keys and passwords that no
// benchmark ever prints.
func randomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}

// rttEndpoint is where clients reach a stand-in behind a delay proxy: a
// second loopback address, so the proxy can listen on the stand-in's own
// port number there and IAM tokens signed for rttEndpoint:port verify.
const rttEndpoint = "127.0.0.2"

// startStandIn starts and prepares a stand-in; it is closed when tb ends.
func startStandIn(tb testing.TB) *standIn { return startStandInRTT(tb, 0) }

// startStandInRTT is startStandIn with every client connection going
// through a delayProxy adding rtt to each round trip (none when rtt is 0).
// The stand-in's endpoint is then rttEndpoint, which its certificate
// covers, and the proxy listens on rttEndpoint at the stand-in's port.
func startStandInRTT(tb testing.TB, rtt time.Duration) *standIn {
	tb.Helper()
	return startStandInWith(tb, rtt, nil)
}

// startStandInWith is startStandInRTT with more options (a proxy, a reader
// endpoint) set by adjust before the stand-in starts; nil adds none.
func startStandInWith(tb testing.TB, rtt time.Duration, adjust func(*auroralocal.Options)) *standIn {
	tb.Helper()
	s := &standIn{keys: standin.NewKeys("rdsiam-bench"), password: randomHex(tb, 16)}
	var srv *auroralocal.Server
	// The policy names the server's own dbuser ARN, known once it runs.
	allow := func(action, resource string) (bool, error) {
		return standin.AllowConnect(srv.DBUserARN(iamUser))(action, resource)
	}
	opts := auroralocal.Options{Principals: []auroralocal.Principal{{
		ARN: queryRoleARN, AccessKeyID: s.keys.AccessKeyID, SecretAccessKey: s.keys.SecretAccessKey, Authorize: allow,
	}}}
	if rtt > 0 {
		opts.Endpoint = rttEndpoint
	}
	if adjust != nil {
		adjust(&opts)
	}
	srv = standin.Start(tb, opts)
	if rtt > 0 {
		proxy, err := startDelayProxy(srv.Endpoint(), srv.Addr(), rtt/2)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(proxy.close)
	}
	s.srv = srv
	var err error
	if s.tls, err = rdstls.Config(srv.Host(), srv.CAPool()); err != nil {
		tb.Fatalf("TLS config: %v", err)
	}
	if s.iam, err = standin.QueryConfig(srv, standin.FunctionEnv(srv, iamUser, database), s.keys); err != nil {
		tb.Fatalf("query function configuration: %v", err)
	}
	s.users = standin.Handler(srv, standin.Secrets{Master: standin.Master(srv), ARNs: []string{masterSecretARN}}, nil)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.users.Handle(ctx, s.userEvent("Create", iamUser, "", grants, nil)); err != nil {
		tb.Fatalf("create %s with the custom-resource handler: %v", iamUser, err)
	}
	// The sample app's table, which the benchmarks query: its own
	// resource, served by the same handler.
	if _, err := s.users.Handle(ctx, standin.SampleTableCreate(s.srv, masterSecretARN, database)); err != nil {
		tb.Fatalf("sample table with the custom-resource handler: %v", err)
	}
	master := s.openPool(tb, srv.MasterUser(), srv.MasterPassword())
	for _, stmt := range []string{
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", passwordUser, s.password),
		fmt.Sprintf("GRANT SELECT, INSERT ON %s.* TO '%s'@'%%'", database, passwordUser),
		"INSERT INTO " + database + ".items (name) VALUES ('first')",
	} {
		if _, err := master.ExecContext(ctx, stmt); err != nil {
			tb.Fatalf("prepare stand-in as master: %v", err)
		}
	}
	master.Close()
	return s
}

// userEvent is a custom-resource event for user with privileges, as
// CloudFormation sends it (every scalar a string).
func (s *standIn) userEvent(requestType, user, physicalID string, privileges, oldPrivileges []string) dbuser.Event {
	props := func(privs []string) map[string]any {
		return standin.User{UserName: user, DatabaseName: database, Privileges: privs, SecretArn: masterSecretARN}.Props(s.srv)
	}
	var old map[string]any
	if oldPrivileges != nil {
		old = props(oldPrivileges)
	}
	return standin.Event(requestType, "User", physicalID, props(privileges), old)
}

// tlsConfig returns a copy of the client TLS configuration that trusts
// only the stand-in's CA.
func (s *standIn) tlsConfig() *tls.Config { return s.tls.Clone() }

// iamConfig is the query function's connector configuration for the
// stand-in: what queryfn.ConfigFromEnv makes of the stack's environment,
// with the query role's keys and the stand-in's CA.
func (s *standIn) iamConfig() iamdb.Config {
	cfg := s.iam
	cfg.TLS = s.tlsConfig()
	return cfg
}

// passwordConfig is a driver configuration for user/password over TLS with
// the same session settings iamdb uses (parseTime, UTC time_zone,
// RejectReadOnly), so the two logins differ only in how they authenticate.
func (s *standIn) passwordConfig(tb testing.TB, user, password string) *mysql.Config {
	tb.Helper()
	m := mysql.NewConfig()
	m.Net = "tcp"
	m.Addr = s.srv.Endpoint()
	m.User = user
	m.Passwd = password
	m.DBName = database
	m.TLS = s.tlsConfig()
	m.Timeout = 5 * time.Second
	m.RejectReadOnly = true
	m.ParseTime = true
	m.Params = map[string]string{"time_zone": "'+00:00'"}
	m.InterpolateParams = true // as iamdb: one round trip per statement
	return m
}

// openPool is a plain pooled *sql.DB for user/password over TLS, limited
// like iamdb's defaults (2 open, 2 idle).
func (s *standIn) openPool(tb testing.TB, user, password string) *sql.DB {
	tb.Helper()
	conn, err := mysql.NewConnector(s.passwordConfig(tb, user, password))
	if err != nil {
		tb.Fatalf("driver config: %v", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(iamdb.DefaultMaxOpenConns)
	db.SetMaxIdleConns(iamdb.DefaultMaxIdleConns)
	return db
}

// requireLastLogin fails tb unless the stand-in's latest login was user's,
// successful, over TLS and with method, so a benchmark cannot silently
// measure a different kind of login than it claims.
func (s *standIn) requireLastLogin(tb testing.TB, user, method string) {
	tb.Helper()
	events := s.srv.AuthEvents()
	if len(events) == 0 {
		tb.Fatal("stand-in saw no login")
	}
	e := events[len(events)-1]
	if e.User != user || !e.OK || !e.TLS || e.Method != method {
		tb.Fatalf("last login: user %q ok=%v tls=%v method %q; want %q ok over TLS with %s", e.User, e.OK, e.TLS, e.Method, user, method)
	}
}
