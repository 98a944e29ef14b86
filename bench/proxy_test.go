package bench

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/rdstls"
)

// BenchmarkProxyHop measures what the stand-in's RDS Proxy endpoint costs
// next to the direct path, each pair alternating in one loop (pairedRun):
//
//   - connect: a new connection as the query function opens it (a new
//     Connector signs a token, then TCP, TLS and the IAM login), through
//     the proxy endpoint and straight to the cluster endpoint. Through the
//     proxy the stand-in also checks the proxy role's rds-db:connect on
//     the cluster, as RDS Proxy's own IAM login would need.
//   - query: get_item's SELECT on a warm pooled connection, through the
//     proxy and direct.
//
// The stand-in's proxy is a byte relay on loopback (an extra TCP hop and
// two copies per direction), so these figures are a floor: RDS Proxy also
// parses the protocol and multiplexes, which adds more on AWS.
func BenchmarkProxyHop(b *testing.B) {
	var proxyARN string
	s := startStandInWith(b, 0, func(o *auroralocal.Options) {
		clusterARN := fmt.Sprintf("arn:%s:rds-db:%s:%s:dbuser:%s/%s", auroralocal.Partition, auroralocal.DefaultRegion,
			auroralocal.DefaultAccount, auroralocal.DefaultClusterResourceID, iamUser)
		proxyARN = fmt.Sprintf("arn:%s:rds-db:%s:%s:dbuser:%s/%s", auroralocal.Partition, auroralocal.DefaultRegion,
			auroralocal.DefaultAccount, auroralocal.DefaultProxyResourceID, iamUser)
		direct := o.Principals[0].Authorize
		o.Principals[0].Authorize = func(action, resource string) (bool, error) {
			if ok, err := direct(action, resource); ok || err != nil {
				return ok, err
			}
			return action == auroralocal.ConnectAction && resource == proxyARN, nil
		}
		o.Proxy = &auroralocal.ProxyOptions{Role: auroralocal.Principal{
			ARN: "arn:aws:iam::123456789012:role/ProxyRole",
			Authorize: func(action, resource string) (bool, error) {
				return action == auroralocal.ConnectAction && resource == clusterARN, nil
			},
		}}
	})
	if s.srv.ProxyDBUserARN(iamUser) != proxyARN {
		b.Fatalf("stand-in proxy ARN %q, want %q", s.srv.ProxyDBUserARN(iamUser), proxyARN)
	}
	direct := s.iamConfig()
	direct.Dial = s.srv.Dial // the same dialer on both paths
	viaProxy := direct
	viaProxy.Host = s.srv.ProxyHost()
	var err error
	if viaProxy.TLS, err = rdstls.Config(viaProxy.Host, s.srv.CAPool()); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()

	b.Run("connect", func(b *testing.B) {
		connect := func(cfg iamdb.Config) func() error {
			return func() error {
				conn, err := iamdb.NewConnector(cfg)
				if err != nil {
					return err
				}
				c, err := conn.Connect(ctx)
				if err != nil {
					return fmt.Errorf("%s: %w (server: %v)", cfg.Host, err, s.srv.LastAuthError())
				}
				return c.Close()
			}
		}
		pairedRun(b, "proxy", connect(viaProxy), "direct", connect(direct))
		requireEndpoints(b, s.srv, s.srv.ProxyHost(), s.srv.Host())
	})

	b.Run("query", func(b *testing.B) {
		open := func(cfg iamdb.Config) *sql.DB {
			db, err := iamdb.Open(cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			return db
		}
		query := func(db *sql.DB) func() error {
			return func() error {
				var id int64
				var name string
				return db.QueryRowContext(ctx, "SELECT id, name FROM items WHERE id = ?", 1).Scan(&id, &name)
			}
		}
		proxyDB, directDB := open(viaProxy), open(direct)
		// Warm both pools so the loop measures queries, not logins.
		for _, f := range []func() error{query(proxyDB), query(directDB)} {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
		pairedRun(b, "proxy", query(proxyDB), "direct", query(directDB))
	})
}

// requireEndpoints fails b unless the stand-in's latest logins came through
// each of hosts, so the benchmark cannot measure one path twice.
func requireEndpoints(b *testing.B, srv *auroralocal.Server, hosts ...string) {
	b.Helper()
	seen := map[string]bool{}
	for _, e := range srv.AuthEvents() {
		if e.OK && e.User == iamUser {
			seen[e.Endpoint] = true
		}
	}
	for _, h := range hosts {
		if !seen[h] {
			b.Fatalf("no IAM login through %s (saw %v)", h, seen)
		}
	}
}
