package auroralocal

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rdsiam/rdsiam/auroralocal/sigv4"
)

// iamServer starts a server whose QueryRole may connect as app_user, with
// app_user created (SELECT on appdb, REQUIRE SSL).
func iamServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Principals == nil {
		opts.Principals = testPrincipals(defaultResource)
	}
	srv := startServer(t, opts)
	createIAMUser(t, masterDB(t, srv))
	return srv
}

// assertRefused checks err is MySQL error number and the server recorded a
// refusal wrapping reason, without the token in its text.
func assertRefused(t *testing.T, srv *Server, err error, number int, reason error, token string) {
	t.Helper()
	if got := mysqlErrNumber(err); got != number {
		t.Fatalf("login error = %v (number %d), want number %d", err, got, number)
	}
	last := srv.LastAuthError()
	if !errors.Is(last, reason) {
		t.Errorf("LastAuthError = %v, want it to wrap %v", last, reason)
	}
	for _, secret := range []string{token, signatureOf(token)} {
		if secret == "" {
			continue
		}
		if last != nil && strings.Contains(last.Error(), secret) {
			t.Errorf("recorded reason contains the token: %v", last)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("client error contains the token: %v", err)
		}
	}
}

func TestIAMLogin(t *testing.T) {
	srv := iamServer(t, Options{})
	endpoint := srv.Endpoint()
	otherPort := net.JoinHostPort("localhost", strconv.Itoa(srv.Port()+1))
	tamper := func(token string) string {
		sig := signatureOf(token)
		flipped := "0"
		if sig[len(sig)-1] == '0' {
			flipped = "1"
		}
		return token[:len(token)-1] + flipped
	}
	wrongSecret := allowCreds
	wrongSecret.SecretAccessKey = "not-the-secret"
	unknownKey := aws.Credentials{AccessKeyID: "AKIAUNKNOWN000000001", SecretAccessKey: allowSecret}

	tests := []struct {
		name   string
		token  func() string
		number int   // 0 = login succeeds
		reason error // recorded reason for refusals
	}{
		{"valid token", func() string { return buildToken(t, endpoint, testRegion, iamUser, allowCreds) }, 0, nil},
		{"valid session credentials", func() string { return buildToken(t, endpoint, testRegion, iamUser, sessionCreds) }, 0, nil},
		{"cli style token", func() string {
			tok := buildToken(t, endpoint, testRegion, iamUser, allowCreds)
			return strings.Replace(tok, "?", "/?", 1)
		}, 0, nil},
		{"wrong secret", func() string { return buildToken(t, endpoint, testRegion, iamUser, wrongSecret) }, ErrNumAccessDenied, sigv4.ErrSignature},
		{"unknown access key", func() string { return buildToken(t, endpoint, testRegion, iamUser, unknownKey) }, ErrNumAccessDenied, sigv4.ErrUnknownKey},
		{"tampered signature", func() string { return tamper(buildToken(t, endpoint, testRegion, iamUser, allowCreds)) }, ErrNumAccessDenied, sigv4.ErrSignature},
		{"DBUser is another user", func() string { return buildToken(t, endpoint, testRegion, "other_user", allowCreds) }, ErrNumAccessDenied, sigv4.ErrUser},
		{"token for another port", func() string { return buildToken(t, otherPort, testRegion, iamUser, allowCreds) }, ErrNumAccessDenied, sigv4.ErrEndpoint},
		{"token for another host", func() string { return buildToken(t, srv.Addr(), testRegion, iamUser, allowCreds) }, ErrNumAccessDenied, sigv4.ErrEndpoint},
		{"token for another region", func() string { return buildToken(t, endpoint, "eu-west-1", iamUser, allowCreds) }, ErrNumAccessDenied, sigv4.ErrRegion},
		{"session token missing", func() string {
			noSession := sessionCreds
			noSession.SessionToken = ""
			return buildToken(t, endpoint, testRegion, iamUser, noSession)
		}, ErrNumAccessDenied, sigv4.ErrSecurityToken},
		{"Authorize denies", func() string { return buildToken(t, endpoint, testRegion, iamUser, denyCreds) }, ErrNumAccessDenied, ErrNotAuthorized},
		{"Authorize errors", func() string { return buildToken(t, endpoint, testRegion, iamUser, errCreds) }, ErrNumAccessDenied, ErrAuthorizeFailed},
		{"not a token", func() string { return "hunter2" }, ErrNumAccessDenied, sigv4.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.token()
			err := connectOnce(t, clientConfig(srv, iamUser, token, true))
			if tc.number == 0 {
				if err != nil {
					t.Fatalf("login refused: %v (server reason: %v)", err, srv.LastAuthError())
				}
				return
			}
			assertRefused(t, srv, err, tc.number, tc.reason, token)
		})
	}
}

// TestIAMLoginQueries checks an IAM session: who it is, and that GMS
// enforces its grants.
func TestIAMLoginQueries(t *testing.T) {
	srv := iamServer(t, Options{})
	master := masterDB(t, srv)
	mustExec(t, master, "INSERT INTO appdb.items (name) VALUES ('seed')")

	cfg := clientConfig(srv, iamUser, buildToken(t, srv.Endpoint(), testRegion, iamUser, allowCreds), true)
	cfg.DBName = "appdb"
	db := openDB(t, cfg)
	db.SetMaxOpenConns(1)

	var who string
	if err := db.QueryRow("SELECT CURRENT_USER()").Scan(&who); err != nil {
		t.Fatal(err)
	}
	if who != "app_user@%" {
		t.Errorf("CURRENT_USER() = %q, want app_user@%%", who)
	}
	if got := queryStrings(t, db, "SELECT name FROM items"); len(got) != 1 || got[0] != "seed" {
		t.Errorf("SELECT as app_user = %q, want [seed]", got)
	}

	// Aurora refuses writes with ER_TABLEACCESS_DENIED_ERROR (1142) and
	// account statements with ER_SPECIFIC_ACCESS_DENIED_ERROR (1227).
	refusals := []struct {
		stmt   string
		number int
	}{
		{"INSERT INTO items (name) VALUES ('x')", ErrNumTableAccessDenied},
		{"DELETE FROM items", ErrNumTableAccessDenied},
		{"UPDATE items SET name = 'y'", ErrNumTableAccessDenied},
		{"DROP TABLE items", ErrNumTableAccessDenied},
		{"ALTER USER `app_user`@'%' REQUIRE NONE", ErrNumSpecificAccessDenied},
		{"REVOKE ALL PRIVILEGES, GRANT OPTION FROM `app_user`@'%'", ErrNumSpecificAccessDenied},
	}
	for _, tc := range refusals {
		t.Run(tc.stmt, func(t *testing.T) {
			_, err := db.Exec(tc.stmt)
			if n := mysqlErrNumber(err); n != tc.number {
				t.Errorf("err = %v, want MySQL error %d", err, tc.number)
			}
		})
	}
	if got := queryStrings(t, master, "SELECT name FROM appdb.items"); len(got) != 1 {
		t.Errorf("rows after refused writes = %q, want only the seed", got)
	}
	users, _ := srv.Users()
	for _, u := range users {
		if u.Name == iamUser && !u.RequireSSL {
			t.Error("app_user lost REQUIRE SSL through a refused ALTER USER")
		}
	}

	// A grant made by the master takes effect for the open session.
	mustExec(t, master, "GRANT INSERT ON `appdb`.* TO `app_user`@'%'")
	if _, err := db.Exec("INSERT INTO items (name) VALUES ('by app_user')"); err != nil {
		t.Errorf("INSERT after GRANT INSERT: %v", err)
	}
}

func TestIAMExpiredToken(t *testing.T) {
	srv := iamServer(t, Options{})
	token := buildToken(t, srv.Endpoint(), testRegion, iamUser, allowCreds)
	if err := connectOnce(t, clientConfig(srv, iamUser, token, true)); err != nil {
		t.Fatalf("fresh token refused: %v", err)
	}
	srv.AdvanceClock(16 * time.Minute)
	err := connectOnce(t, clientConfig(srv, iamUser, token, true))
	assertRefused(t, srv, err, ErrNumAccessDenied, sigv4.ErrExpired, token)

	// A token from the "future" (server clock far behind) is refused too.
	srv.SetClock(func() time.Time { return time.Now().Add(-time.Hour) })
	err = connectOnce(t, clientConfig(srv, iamUser, buildToken(t, srv.Endpoint(), testRegion, iamUser, allowCreds), true))
	assertRefused(t, srv, err, ErrNumAccessDenied, sigv4.ErrNotYetValid, "")

	srv.SetClock(nil)
	if err := connectOnce(t, clientConfig(srv, iamUser, buildToken(t, srv.Endpoint(), testRegion, iamUser, allowCreds), true)); err != nil {
		t.Fatalf("login after SetClock(nil): %v", err)
	}
}

func TestIAMDroppedUser(t *testing.T) {
	srv := iamServer(t, Options{})
	mustExec(t, masterDB(t, srv), "DROP USER IF EXISTS `app_user`@'%'")
	token := buildToken(t, srv.Endpoint(), testRegion, iamUser, allowCreds)
	err := connectOnce(t, clientConfig(srv, iamUser, token, true))
	assertRefused(t, srv, err, ErrNumAccessDenied, ErrUnknownAccount, token)
}

// TestIAMOverPlainTCP checks that an IAM user on an unencrypted connection
// is refused before any cleartext exchange: the bytes the client sent never
// contain the token.
func TestIAMOverPlainTCP(t *testing.T) {
	tests := []struct {
		name    string
		require bool
		number  int
		reason  error
	}{
		{"require_secure_transport off", false, ErrNumAccessDenied, ErrIAMWithoutTLS},
		{"require_secure_transport on", true, ErrNumSecureTransportRequired, ErrInsecureTransport},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := iamServer(t, Options{RequireSecureTransport: Bool(tc.require)})
			token := buildToken(t, srv.Endpoint(), testRegion, iamUser, allowCreds)
			dialer := &recordingDialer{}
			cfg := clientConfig(srv, iamUser, token, false)
			cfg.DialFunc = dialer.dial
			err := connectOnce(t, cfg)
			assertRefused(t, srv, err, tc.number, tc.reason, token)

			sent := dialer.sent()
			if !strings.Contains(sent, iamUser) {
				t.Fatalf("recorder saw no handshake (%d bytes); cannot judge what was sent", len(sent))
			}
			if strings.Contains(sent, signatureOf(token)) || strings.Contains(sent, "X-Amz-") {
				t.Errorf("the token crossed the unencrypted connection")
			}
		})
	}
}

// TestIAMDisabled: with IAM authentication off, an IAM login over TLS gets
// 1524 ("Plugin 'AWSAuthenticationPlugin' is not loaded"), as on Aurora;
// SetIAMAuth turns it on and off at run time; the master user is unaffected.
func TestIAMDisabled(t *testing.T) {
	srv := iamServer(t, Options{IAMAuthDisabled: true})
	login := func() error {
		return connectOnce(t, clientConfig(srv, iamUser, buildToken(t, srv.Endpoint(), testRegion, iamUser, allowCreds), true))
	}
	err := login()
	assertRefused(t, srv, err, ErrNumPluginNotLoaded, ErrIAMDisabled, "")
	if !strings.Contains(err.Error(), "Plugin 'AWSAuthenticationPlugin' is not loaded") {
		t.Errorf("error text = %q", err)
	}

	srv.SetIAMAuth(true)
	if err := login(); err != nil {
		t.Fatalf("login after SetIAMAuth(true): %v", err)
	}
	srv.SetIAMAuth(false)
	assertRefused(t, srv, login(), ErrNumPluginNotLoaded, ErrIAMDisabled, "")

	// The master user is unaffected.
	if err := connectOnce(t, clientConfig(srv, srv.MasterUser(), srv.MasterPassword(), true)); err != nil {
		t.Errorf("master login with IAM disabled: %v", err)
	}
}

func TestIAMCustomEndpointAndResource(t *testing.T) {
	const (
		endpoint = "mydb.cluster-abc.eu-west-1.rds.amazonaws.com"
		region   = "eu-west-1"
		account  = "210987654321"
		cluster  = "cluster-TESTCLUSTER123"
	)
	resource := "arn:aws:rds-db:" + region + ":" + account + ":dbuser:" + cluster + "/" + iamUser
	srv := iamServer(t, Options{Endpoint: endpoint, Region: region, Account: account, ClusterResourceID: cluster,
		Principals: testPrincipals(resource)})
	if got := srv.DBUserARN(iamUser); got != resource {
		t.Fatalf("DBUserARN = %q, want %q", got, resource)
	}
	if srv.Endpoint() != endpoint+":"+strconv.Itoa(srv.Port()) {
		t.Fatalf("Endpoint = %q", srv.Endpoint())
	}
	// Dial 127.0.0.1, verify the certificate and sign for the endpoint name.
	token := buildToken(t, srv.Endpoint(), region, iamUser, allowCreds)
	if err := connectOnce(t, clientConfig(srv, iamUser, token, true)); err != nil {
		t.Fatalf("login: %v (reason %v)", err, srv.LastAuthError())
	}
	// A token for "localhost" is for another endpoint here.
	token = buildToken(t, "localhost:"+strconv.Itoa(srv.Port()), region, iamUser, allowCreds)
	assertRefused(t, srv, connectOnce(t, clientConfig(srv, iamUser, token, true)), ErrNumAccessDenied, sigv4.ErrEndpoint, token)
}
