package auroralocal

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseAlterUserRequire(t *testing.T) {
	tests := []struct {
		query       string
		matched     bool
		stmt        alterUserRequire
		rest        string
		wantErr     bool
		unsupported bool
	}{
		{query: "ALTER USER `app_user`@'%' REQUIRE SSL", matched: true,
			stmt: alterUserRequire{Accounts: []accountName{{"app_user", "%"}}, RequireSSL: true}},
		{query: "  alter user if exists 'a'@'localhost', \"b\"@`10.0.0.%`, c REQUIRE none ;", matched: true,
			stmt: alterUserRequire{IfExists: true, Accounts: []accountName{{"a", "localhost"}, {"b", "10.0.0.%"}, {"c", "%"}}}},
		{query: "ALTER USER `we``ird`@'h''ost' REQUIRE SSL; SELECT 1", matched: true, rest: " SELECT 1",
			stmt: alterUserRequire{Accounts: []accountName{{"we`ird", "h'ost"}}, RequireSSL: true}},
		{query: "ALTER USER 'x'@'' REQUIRE SSL", matched: true,
			stmt: alterUserRequire{Accounts: []accountName{{"x", "%"}}, RequireSSL: true}},
		{query: "ALTER USER `app_user`@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'", matched: false},
		{query: "ALTER TABLE t REQUIRE SSL", matched: false},
		{query: "ALTER USERS x REQUIRE SSL", matched: false},
		{query: "SELECT 'ALTER USER x REQUIRE SSL'", matched: false},
		{query: "ALTER USER `unterminated REQUIRE SSL", matched: false},
		{query: "ALTER USER x REQUIRE X509", matched: true, wantErr: true, unsupported: true},
		{query: "ALTER USER x REQUIRE CIPHER 'abc'", matched: true, wantErr: true, unsupported: true},
		{query: "ALTER USER x REQUIRE SSLX", matched: true, wantErr: true},
		{query: "ALTER USER x REQUIRE SSL garbage", matched: true, wantErr: true},
		{query: "", matched: false},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			stmt, rest, matched, err := parseAlterUserRequire(tc.query)
			if matched != tc.matched {
				t.Fatalf("matched = %t, want %t", matched, tc.matched)
			}
			if (err != nil) != tc.wantErr || errors.Is(err, errUnsupportedRequire) != tc.unsupported {
				t.Fatalf("err = %v, wantErr %t unsupported %t", err, tc.wantErr, tc.unsupported)
			}
			if !matched || tc.wantErr {
				return
			}
			if !reflect.DeepEqual(stmt, tc.stmt) || rest != tc.rest {
				t.Errorf("got %+v rest %q, want %+v rest %q", stmt, rest, tc.stmt, tc.rest)
			}
		})
	}
}

func FuzzParseAlterUserRequire(f *testing.F) {
	for _, s := range []string{"ALTER USER `a`@'%' REQUIRE SSL", "ALTER USER IF EXISTS a,b REQUIRE NONE;x", "ALTER USER 'a\\'b'@\"h\" REQUIRE X509"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		stmt, rest, matched, err := parseAlterUserRequire(q)
		if !matched && (err != nil || rest != "" || len(stmt.Accounts) > 0 && stmt.RequireSSL) {
			t.Fatalf("unmatched query returned err=%v rest=%q stmt=%+v", err, rest, stmt)
		}
		if matched && err == nil && len(stmt.Accounts) == 0 {
			t.Fatalf("matched statement without accounts: %q", q)
		}
		if len(rest) > len(q) {
			t.Fatalf("rest longer than query")
		}
	})
}

// TestAccountStatements covers the statements this server runs instead of
// GMS, with MySQL's error numbers.
func TestAccountStatements(t *testing.T) {
	srv := startServer(t, Options{RequireSecureTransport: Bool(false)})
	db := masterDB(t, srv)
	mustExec(t, db, "CREATE USER `pw_user`@'%' IDENTIFIED BY 'pw-secret'")

	requireSSL := func(name string) bool {
		users, err := srv.Users()
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if u.Name == name {
				return u.RequireSSL
			}
		}
		t.Fatalf("user %s missing", name)
		return false
	}
	tests := []struct {
		stmt       string
		number     int // 0 = success
		wantSSLFor map[string]bool
	}{
		{"ALTER USER `pw_user`@'%' REQUIRE SSL", 0, map[string]bool{"pw_user": true}},
		{"ALTER USER `nobody`@'%' REQUIRE SSL", ErrNumCannotUser, nil},
		{"ALTER USER `pw_user`@'%', `nobody`@'%' REQUIRE NONE", ErrNumCannotUser, map[string]bool{"pw_user": true}},
		{"ALTER USER IF EXISTS `pw_user`@'%', `nobody`@'%' REQUIRE NONE", 0, map[string]bool{"pw_user": false}},
		{"ALTER USER `pw_user`@'%' REQUIRE X509", ErrNumNotSupportedYet, map[string]bool{"pw_user": false}},
		{"ALTER USER `pw_user`@'%' REQUIRE SSL please", ErrNumParse, map[string]bool{"pw_user": false}},
		{"CREATE USER `ssl_user`@'%' IDENTIFIED BY 'x' REQUIRE SSL", 0, map[string]bool{"ssl_user": true}},
		{"CREATE USER IF NOT EXISTS `pw_user`@'%' IDENTIFIED BY 'x' REQUIRE SSL", 0, map[string]bool{"pw_user": false}},
		{"CREATE USER `x509_user`@'%' REQUIRE X509", ErrNumNotSupportedYet, nil},
		{"REVOKE ALL PRIVILEGES, GRANT OPTION FROM `nobody`@'%'", ErrNumRevokeGrants, nil},
		{"REVOKE ALL, GRANT OPTION FROM `pw_user`@'%', `ssl_user`@'%'", 0, nil},
		// Without CLIENT_MULTI_STATEMENTS nothing of a two-statement query runs.
		{"ALTER USER `pw_user`@'%' REQUIRE SSL; SELECT 1", ErrNumParse, map[string]bool{"pw_user": false}},
	}
	for _, tc := range tests {
		t.Run(tc.stmt, func(t *testing.T) {
			_, err := db.Exec(tc.stmt)
			if got := mysqlErrNumber(err); got != tc.number || (tc.number == 0) != (err == nil) {
				t.Fatalf("err = %v, want MySQL error %d", err, tc.number)
			}
			for name, want := range tc.wantSSLFor {
				if got := requireSSL(name); got != want {
					t.Errorf("RequireSSL(%s) = %t, want %t", name, got, want)
				}
			}
		})
	}

	t.Run("multi-statement client", func(t *testing.T) {
		cfg := clientConfig(srv, srv.MasterUser(), srv.MasterPassword(), true)
		cfg.MultiStatements = true
		multi := openDB(t, cfg)
		mustExec(t, multi, "ALTER USER `pw_user`@'%' REQUIRE SSL; REVOKE ALL PRIVILEGES, GRANT OPTION FROM `ssl_user`@'%'; ALTER USER `ssl_user`@'%' REQUIRE NONE")
		if !requireSSL("pw_user") || requireSSL("ssl_user") {
			t.Errorf("after multi-statement query: pw_user %t, ssl_user %t; want true, false", requireSSL("pw_user"), requireSSL("ssl_user"))
		}
	})
}

// TestPasswordLogins covers the master and password users: transport and
// REQUIRE SSL checks, wrong passwords and unknown users.
func TestPasswordLogins(t *testing.T) {
	strict := startServer(t, Options{}) // RequireSecureTransport defaults to true
	lax := startServer(t, Options{RequireSecureTransport: Bool(false), MasterPassword: "fixed-master-pw"})
	mustExec(t, masterDB(t, lax),
		"CREATE USER `ssl_user`@'%' IDENTIFIED BY 'ssl-pw'",
		"ALTER USER `ssl_user`@'%' REQUIRE SSL",
		"CREATE USER `sha2_user`@'%' IDENTIFIED WITH caching_sha2_password BY 'sha2-pw'",
	)
	if lax.MasterPassword() != "fixed-master-pw" {
		t.Fatalf("MasterPassword = %q, want the configured one", lax.MasterPassword())
	}
	if len(strict.MasterPassword()) < 16 {
		t.Fatalf("generated master password is only %d characters", len(strict.MasterPassword()))
	}

	tests := []struct {
		name           string
		srv            *Server
		user, password string
		tls            bool
		number         int
		reason         error
	}{
		{"master plain tcp under require_secure_transport", strict, strict.MasterUser(), strict.MasterPassword(), false, ErrNumSecureTransportRequired, ErrInsecureTransport},
		{"master tls", strict, strict.MasterUser(), strict.MasterPassword(), true, 0, nil},
		{"master plain tcp allowed", lax, lax.MasterUser(), lax.MasterPassword(), false, 0, nil},
		{"master wrong password", lax, lax.MasterUser(), "nope", true, ErrNumAccessDenied, ErrWrongPassword},
		{"unknown user", lax, "ghost", "whatever", true, ErrNumAccessDenied, ErrUnknownAccount},
		{"require ssl user over tls", lax, "ssl_user", "ssl-pw", true, 0, nil},
		{"require ssl user over plain tcp", lax, "ssl_user", "ssl-pw", false, ErrNumAccessDenied, ErrSSLRequired},
		{"caching_sha2 user over tls", lax, "sha2_user", "sha2-pw", true, 0, nil},
		{"caching_sha2 user wrong password", lax, "sha2_user", "nope", true, ErrNumAccessDenied, ErrWrongPassword},
		{"caching_sha2 user over plain tcp", lax, "sha2_user", "sha2-pw", false, ErrNumAccessDenied, ErrWrongPassword},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := connectOnce(t, clientConfig(tc.srv, tc.user, tc.password, tc.tls))
			if tc.number == 0 {
				if err != nil {
					t.Fatalf("login refused: %v (reason %v)", err, tc.srv.LastAuthError())
				}
				return
			}
			assertRefused(t, tc.srv, err, tc.number, tc.reason, tc.password)
		})
	}
}
