package bench

import (
	"context"
	"database/sql/driver"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

// BenchmarkConnect measures one new physical connection, opened and closed,
// to the stand-in over TLS (the cost a cold container or a pool refill
// pays):
//
//   - password: a password login (mysql_native_password) with the same
//     driver settings as iamdb's. The reference.
//   - iam: what iamdb does for a container's first connection: a new
//     Connector signs a fresh token (SigV4), then TLS, then the
//     mysql_clear_password login, which the stand-in verifies like RDS
//     (signature, 15-minute window, rds-db:connect policy).
//   - paired: password and iam alternating in one loop, reporting the
//     ratio of their p50s (iam/password-p50), the target's ratio.
//   - sign: signing one token alone (iamdb.BuildToken), to show how much of
//     the difference is the client's signature.
//
// The target is iam within 1.3x of password.
func BenchmarkConnect(b *testing.B) { benchConnect(b, startStandIn(b)) }

// BenchmarkConnectRTT is BenchmarkConnect with simulatedRTT added to every
// round trip: both logins take the same TCP, TLS and handshake round trips,
// and the IAM login one more (the server's switch to
// mysql_clear_password).
func BenchmarkConnectRTT(b *testing.B) { benchConnect(b, startStandInRTT(b, simulatedRTT)) }

func benchConnect(b *testing.B, s *standIn) {
	ctx := context.Background()

	b.Run("password", func(b *testing.B) {
		conn, err := mysql.NewConnector(s.passwordConfig(b, passwordUser, s.password))
		if err != nil {
			b.Fatal(err)
		}
		lat := newLatencies(b.N)
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			c, err := conn.Connect(ctx)
			if err != nil {
				b.Fatalf("password login: %v", err)
			}
			c.Close()
			lat.add(time.Since(start))
		}
		lat.report(b)
		s.requireLastLogin(b, passwordUser, "mysql_native_password")
	})

	b.Run("iam", func(b *testing.B) {
		cfg := s.iamConfig()
		lat := newLatencies(b.N)
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			// A new Connector has no cached token: this connect signs one.
			conn, err := iamdb.NewConnector(cfg)
			if err != nil {
				b.Fatal(err)
			}
			c, err := conn.Connect(ctx)
			if err != nil {
				b.Fatalf("IAM login: %v (server: %v)", err, s.srv.LastAuthError())
			}
			c.Close()
			lat.add(time.Since(start))
			if st := conn.Stats(); st.TokensSigned != 1 {
				b.Fatalf("connector signed %d tokens, want 1 per new connector", st.TokensSigned)
			}
		}
		lat.report(b)
		s.requireLastLogin(b, iamUser, "mysql_clear_password")
	})

	// Both logins alternating in one loop: the target's ratio
	// (iam/password-p50) under the same conditions.
	b.Run("paired", func(b *testing.B) {
		pwConn, err := mysql.NewConnector(s.passwordConfig(b, passwordUser, s.password))
		if err != nil {
			b.Fatal(err)
		}
		cfg := s.iamConfig()
		connectClose := func(c driver.Connector) error {
			conn, err := c.Connect(ctx)
			if err != nil {
				return err
			}
			return conn.Close()
		}
		pairedRun(b, "iam", func() error {
			conn, err := iamdb.NewConnector(cfg)
			if err != nil {
				return err
			}
			return connectClose(conn)
		}, "password", func() error { return connectClose(pwConn) })
	})

	b.Run("sign", func(b *testing.B) {
		cfg := s.iamConfig()
		lat := newLatencies(b.N)
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			if _, err := iamdb.BuildToken(ctx, s.srv.Endpoint(), cfg.Region, iamUser, cfg.Credentials, time.Now()); err != nil {
				b.Fatal(err)
			}
			lat.add(time.Since(start))
		}
		lat.report(b)
	})
}
