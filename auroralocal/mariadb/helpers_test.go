package mariadb

import (
	"context"
	"crypto/x509"
	"database/sql"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

// Test principals; the keys are fake and never reach AWS.
var (
	allowKeys = aws.Credentials{AccessKeyID: "AKIAALLOW00000000001", SecretAccessKey: "allow-secret-000000000000000000000000000"}
	denyKeys  = aws.Credentials{AccessKeyID: "AKIADENY000000000001", SecretAccessKey: "deny-secret-0000000000000000000000000000"}
)

const iamUser = "app_user"

// principals: allowKeys may connect as iamUser only; denyKeys may not
// connect at all.
func principals() []auroralocal.Principal {
	resource := "arn:aws:rds-db:us-east-1:123456789012:dbuser:" + auroralocal.DefaultClusterResourceID + "/" + iamUser
	return []auroralocal.Principal{
		{ARN: "arn:aws:iam::123456789012:role/QueryRole", AccessKeyID: allowKeys.AccessKeyID, SecretAccessKey: allowKeys.SecretAccessKey,
			Authorize: func(action, r string) (bool, error) { return action == auroralocal.ConnectAction && r == resource, nil }},
		{ARN: "arn:aws:iam::123456789012:role/DenyRole", AccessKeyID: denyKeys.AccessKeyID, SecretAccessKey: denyKeys.SecretAccessKey,
			Authorize: func(string, string) (bool, error) { return false, nil }},
	}
}

// startServer starts MariaDB (skipping when it is not installed outside
// CI) and closes it when the test ends.
func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	RequireInstalled(t)
	if opts.Principals == nil {
		opts.Principals = principals()
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
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

// master is the master's TLS pool, closed when the test ends.
func master(t *testing.T, srv *Server) *sql.DB {
	t.Helper()
	db, err := srv.MasterDB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// createIAMUser runs the production user statements for iamUser.
func createIAMUser(t *testing.T, db *sql.DB) {
	t.Helper()
	mustExec(t, db,
		"CREATE DATABASE IF NOT EXISTS appdb",
		"CREATE USER IF NOT EXISTS `"+iamUser+"`@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'",
		"ALTER USER `"+iamUser+"`@'%' REQUIRE SSL",
		"GRANT SELECT ON appdb.* TO `"+iamUser+"`@'%'")
}

func token(t testing.TB, srv *Server, user string, keys aws.Credentials) string {
	t.Helper()
	tok, err := iamdb.BuildToken(context.Background(), srv.Endpoint(), srv.Region(), user,
		credentials.NewStaticCredentialsProvider(keys.AccessKeyID, keys.SecretAccessKey, ""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// open is a pool logging in as user with password, over TLS or plain TCP.
func open(t testing.TB, srv *Server, user, password string, useTLS bool) *sql.DB {
	t.Helper()
	var ca *x509.CertPool
	if useTLS {
		ca = srv.CAPool()
	}
	db, err := auroralocal.OpenDB(srv.Addr(), srv.Host(), ca, user, password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
