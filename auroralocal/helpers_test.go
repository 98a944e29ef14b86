package auroralocal

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
	"github.com/go-sql-driver/mysql"
)

// Test principals. Keys are fake; nothing here ever reaches AWS.
const (
	allowAKID    = "AKIAALLOW00000000001"
	allowSecret  = "allow-secret-000000000000000000000000000"
	denyAKID     = "AKIADENY000000000001"
	errAKID      = "AKIAERROR00000000001"
	sessionAKID  = "ASIASESSION000000001"
	sessionToken = "IQoJb3JpZ2luX2VjEXAMPLE//session+token="
	testRegion   = "us-east-1"
	iamUser      = "app_user"
)

var (
	allowCreds   = aws.Credentials{AccessKeyID: allowAKID, SecretAccessKey: allowSecret}
	denyCreds    = aws.Credentials{AccessKeyID: denyAKID, SecretAccessKey: "deny-secret"}
	errCreds     = aws.Credentials{AccessKeyID: errAKID, SecretAccessKey: "error-secret"}
	sessionCreds = aws.Credentials{AccessKeyID: sessionAKID, SecretAccessKey: "session-secret", SessionToken: sessionToken}
)

// errPolicyCondition stands for a policy the evaluator cannot decide.
var errPolicyCondition = errors.New("policy condition cannot be evaluated")

// testPrincipals returns principals whose Authorize allows only
// rds-db:connect on the exact dbuser ARNs listed in allowed, plus one that
// always denies and one that always errors.
func testPrincipals(allowedResources ...string) []Principal {
	allow := func(action, resource string) (bool, error) {
		if action != ConnectAction {
			return false, nil
		}
		for _, r := range allowedResources {
			if r == resource {
				return true, nil
			}
		}
		return false, nil
	}
	return []Principal{
		{ARN: "arn:aws:iam::123456789012:role/QueryRole", AccessKeyID: allowAKID, SecretAccessKey: allowSecret, Authorize: allow},
		{ARN: "arn:aws:sts::123456789012:assumed-role/QueryRole/session", AccessKeyID: sessionAKID,
			SecretAccessKey: sessionCreds.SecretAccessKey, SessionToken: sessionToken, Authorize: allow},
		{ARN: "arn:aws:iam::123456789012:role/DenyRole", AccessKeyID: denyAKID, SecretAccessKey: denyCreds.SecretAccessKey,
			Authorize: func(string, string) (bool, error) { return false, nil }},
		{ARN: "arn:aws:iam::123456789012:role/ConditionRole", AccessKeyID: errAKID, SecretAccessKey: errCreds.SecretAccessKey,
			Authorize: func(string, string) (bool, error) { return false, errPolicyCondition }},
	}
}

// defaultResource is the dbuser ARN of iamUser under default Options.
const defaultResource = "arn:aws:rds-db:us-east-1:123456789012:dbuser:cluster-LOCALSTANDIN0000000000/" + iamUser

// startServer starts a server and closes it when the test ends.
func startServer(t testing.TB, opts Options) *Server {
	t.Helper()
	srv, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

// quietLogger keeps go-sql-driver from printing expected connection errors.
type quietLogger struct{}

func (quietLogger) Print(...any) {}

// clientTLS trusts only srv's CA and records the negotiated cipher suite.
type clientTLS struct {
	mu     sync.Mutex
	cipher uint16
}

func (c *clientTLS) config(srv *Server) *tls.Config {
	return &tls.Config{
		RootCAs:    srv.CAPool(),
		ServerName: srv.Host(),
		MinVersion: tls.VersionTLS12,
		VerifyConnection: func(cs tls.ConnectionState) error {
			c.mu.Lock()
			c.cipher = cs.CipherSuite
			c.mu.Unlock()
			return nil
		},
	}
}

func (c *clientTLS) lastCipher() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return tls.CipherSuiteName(c.cipher)
}

// clientConfig is a go-sql-driver config dialing srv.Addr(), with TLS
// trusting srv's CA unless useTLS is false.
func clientConfig(srv *Server, user, password string, useTLS bool) *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = user, password
	cfg.Net, cfg.Addr = "tcp", srv.Addr()
	cfg.Logger = quietLogger{}
	cfg.Timeout = 10 * time.Second
	cfg.AllowCleartextPasswords = true
	if useTLS {
		cfg.TLS = (&clientTLS{}).config(srv)
	}
	return cfg
}

// openDB opens a pool for cfg, closed when the test ends.
func openDB(t testing.TB, cfg *mysql.Config) *sql.DB {
	t.Helper()
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatalf("NewConnector: %v", err)
	}
	db := sql.OpenDB(connector)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// masterDB is a TLS pool logged in as the master user.
func masterDB(t testing.TB, srv *Server) *sql.DB {
	return openDB(t, clientConfig(srv, srv.MasterUser(), srv.MasterPassword(), true))
}

// connectOnce performs exactly one login with cfg and returns its error.
func connectOnce(t testing.TB, cfg *mysql.Config) error {
	t.Helper()
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatalf("NewConnector: %v", err)
	}
	conn, err := connector.Connect(context.Background())
	if err == nil {
		_ = conn.(driver.Conn).Close()
	}
	return err
}

// mysqlErrNumber returns the MySQL error number of err, or 0.
func mysqlErrNumber(err error) int {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return int(me.Number)
	}
	return 0
}

// buildToken signs an IAM token with the SDK helper production code uses.
func buildToken(t testing.TB, endpoint, region, user string, creds aws.Credentials) string {
	t.Helper()
	provider := credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	token, err := auth.BuildAuthToken(context.Background(), endpoint, region, user, provider)
	if err != nil {
		t.Fatalf("BuildAuthToken: %v", err)
	}
	return token
}

// mustExec runs statements on db, failing the test on the first error.
func mustExec(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// queryStrings returns the first column of every row of query.
func queryStrings(t testing.TB, db interface {
	Query(string, ...any) (*sql.Rows, error)
}, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals[0].String)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// createIAMUser creates appdb, the items table and an IAM user with the
// production user statements and SELECT only.
func createIAMUser(t testing.TB, db *sql.DB) {
	t.Helper()
	mustExec(t, db,
		"CREATE DATABASE IF NOT EXISTS `appdb`",
		"CREATE USER IF NOT EXISTS `app_user`@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'",
		"ALTER USER `app_user`@'%' REQUIRE SSL",
		"GRANT SELECT ON `appdb`.* TO `app_user`@'%'",
		"CREATE TABLE IF NOT EXISTS `appdb`.`items` (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, `name` VARCHAR(200) NOT NULL, `created_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
	)
}

// recordingDialer dials TCP and keeps every byte the client writes, to prove
// what did or did not cross the wire.
type recordingDialer struct {
	mu      sync.Mutex
	written bytes.Buffer
}

func (d *recordingDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c, d: d}, nil
}

func (d *recordingDialer) sent() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.written.String()
}

type recordingConn struct {
	net.Conn
	d *recordingDialer
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.d.mu.Lock()
	c.d.written.Write(p)
	c.d.mu.Unlock()
	return c.Conn.Write(p)
}

// signatureOf returns the X-Amz-Signature value of a token.
func signatureOf(token string) string {
	_, sig, _ := strings.Cut(token, "X-Amz-Signature=")
	return sig
}
