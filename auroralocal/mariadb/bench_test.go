package mariadb

import (
	"testing"

	"github.com/rdsiam/rdsiam/auroralocal"
)

// BenchmarkStart measures the lane's start-up: copy the template data
// directory, start mariadbd with TLS and the plugin, set up the accounts,
// and Close (stop and clean up). The template and the plugin are built
// before the timer starts. Reported in BENCHMARKS.md ("The MariaDB lane").
//
//	go test ./auroralocal/mariadb -run '^$' -bench Start -benchtime 5x
func BenchmarkStart(b *testing.B) {
	RequireInstalled(b)
	warm, err := Start(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	warm.Close()
	b.ResetTimer()
	for b.Loop() {
		srv, err := Start(Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIAMLogin measures one IAM login through the plugin and the
// verifier (TLS handshake, the transport check, token verification).
func BenchmarkIAMLogin(b *testing.B) {
	RequireInstalled(b)
	srv, err := Start(Options{Dir: b.TempDir(), Options: auroralocal.Options{Principals: principals()}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	db, err := srv.MasterDB()
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{
		"CREATE USER `" + iamUser + "`@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'",
		"ALTER USER `" + iamUser + "`@'%' REQUIRE SSL",
	} {
		if _, err := db.Exec(s); err != nil {
			b.Fatal(err)
		}
	}
	tok := token(b, srv, iamUser, allowKeys)
	for b.Loop() {
		c := open(b, srv, iamUser, tok, true)
		if err := c.Ping(); err != nil {
			b.Fatalf("login: %v (%v)", err, srv.LastAuthError())
		}
		c.Close()
	}
}
