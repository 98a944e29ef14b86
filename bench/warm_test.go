package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// The statements queryfn runs for the two measured actions, repeated here
// for the floor, which runs them without the handler. Keep them equal to
// lambda/queryfn/queries.go (sqlWhoAmI, sqlTLSCipher, sqlGetItem).
const (
	floorWhoAmI    = "SELECT CURRENT_USER(), VERSION()"
	floorTLSCipher = "SHOW SESSION STATUS LIKE 'Ssl_cipher'"
	floorGetItem   = "SELECT id, name, created_at FROM items WHERE id = ?"
)

// warmAction is one measured request: its Lambda payload and the same work
// done directly on a *sql.DB.
type warmAction struct {
	name    string
	request string
	direct  func(ctx context.Context, db *sql.DB) error
}

var warmActions = []warmAction{
	{"whoami", `{"action":"whoami"}`, directWhoAmI},
	{"get_item", `{"action":"get_item","params":{"id":1}}`, directGetItem},
}

// directWhoAmI is queryfn's whoami without the handler: both statements on
// one pinned connection.
func directWhoAmI(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var user, version, name, cipher string
	if err := conn.QueryRowContext(ctx, floorWhoAmI).Scan(&user, &version); err != nil {
		return err
	}
	if err := conn.QueryRowContext(ctx, floorTLSCipher).Scan(&name, &cipher); err != nil {
		return err
	}
	if cipher == "" {
		return errors.New("session is not encrypted")
	}
	return nil
}

// directGetItem is queryfn's get_item without the handler.
func directGetItem(ctx context.Context, db *sql.DB) error {
	var (
		id      int64
		name    string
		created time.Time
	)
	return db.QueryRowContext(ctx, floorGetItem, 1).Scan(&id, &name, &created)
}

// BenchmarkWarm measures warm invocations, p50 and p99, of whoami and of a
// named query (get_item) against the stand-in, four ways:
//
//   - handler: the production path, queryfn.Handler.Handle (JSON request
//     parsing, validation, query, response) over the iamdb pool, with its
//     connection already open, as in a warm container.
//   - handler-plainpool: the same handler over a plain password pool, to
//     split the handler's own cost from the connector's.
//   - floor: the same statements straight on a plain pooled *sql.DB (a
//     password user with the same grants over TLS, and the driver settings
//     iamdb uses, InterpolateParams included): the least any Go function
//     can do per request.
//   - paired: handler and floor alternating in one loop, reporting the
//     ratio of their p50s (handler/floor-p50): the target's ratio, with
//     the machine's background load falling on both alike.
//   - connect-per-invocation: the classic recipe, every invocation signs a
//     token (feature/rds/auth.BuildAuthToken), opens a new TLS connection,
//     runs the statements and closes it.
//
// Targets: handler within 1.1x of floor at p50; connect-per-invocation at
// least 10x slower than handler.
func BenchmarkWarm(b *testing.B) { benchWarm(b, startStandIn(b)) }

// simulatedRTT is the round-trip time BenchmarkWarmRTT and
// BenchmarkConnectRTT add to loopback. A Lambda function's real round trip
// to its Aurora writer is usually shorter, but sleeps in this sandbox have a
// resolution of about a millisecond, so shorter delays would be rounded up
// unevenly; the point is the number of round trips each way of querying
// makes, and the ping sub-benchmark reports the effective RTT.
const simulatedRTT = 2 * time.Millisecond

// BenchmarkWarmRTT is BenchmarkWarm through a delayProxy adding
// simulatedRTT to every round trip, so the ratio of connect-per-invocation
// to the pooled handler reflects the round trips each makes, not only
// loopback CPU cost. The ping sub-benchmark is one COM_PING on a pooled
// connection: one round trip plus the server's least work.
func BenchmarkWarmRTT(b *testing.B) { benchWarm(b, startStandInRTT(b, simulatedRTT)) }

func benchWarm(b *testing.B, s *standIn) {
	ctx := context.Background()

	iamPool, err := iamdb.Open(s.iamConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { iamPool.Close() })
	plainPool := s.openPool(b, passwordUser, s.password)
	b.Cleanup(func() { plainPool.Close() })
	handler := queryfn.New(iamPool)
	plainHandler := queryfn.New(plainPool)

	b.Run("ping", func(b *testing.B) {
		if err := iamPool.PingContext(ctx); err != nil {
			b.Fatal(err)
		}
		lat := newLatencies(b.N)
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			if err := iamPool.PingContext(ctx); err != nil {
				b.Fatal(err)
			}
			lat.add(time.Since(start))
		}
		lat.report(b)
	})

	for _, a := range warmActions {
		viaHandler := func(h *queryfn.Handler) func(context.Context) error {
			raw := json.RawMessage(a.request)
			return func(ctx context.Context) error {
				resp, err := h.Handle(ctx, raw)
				if err != nil {
					return err
				}
				// Encode the response as the Lambda runtime does.
				_, err = json.Marshal(resp)
				return err
			}
		}
		ways := []struct {
			name string
			op   func(context.Context) error
		}{
			{"handler", viaHandler(handler)},
			{"handler-plainpool", viaHandler(plainHandler)},
			{"floor", func(ctx context.Context) error { return a.direct(ctx, plainPool) }},
			{"connect-per-invocation", func(ctx context.Context) error { return connectPerInvocation(ctx, s, a.direct) }},
		}
		// handler and floor alternating in one loop: the ratio the target
		// is stated in, measured under the same conditions.
		b.Run(a.name+"/paired", func(b *testing.B) {
			for range 3 {
				if err := ways[0].op(ctx); err != nil {
					b.Fatal(err)
				}
				if err := ways[2].op(ctx); err != nil {
					b.Fatal(err)
				}
			}
			pairedRun(b, "handler", func() error { return ways[0].op(ctx) }, "floor", func() error { return ways[2].op(ctx) })
		})
		for _, w := range ways {
			b.Run(a.name+"/"+w.name, func(b *testing.B) {
				// Warm up: the pools open their connection here, not in
				// the measured loop.
				for range 3 {
					if err := w.op(ctx); err != nil {
						b.Fatalf("%s: %v (server: %v)", a.name, err, s.srv.LastAuthError())
					}
				}
				lat := newLatencies(b.N)
				b.ResetTimer()
				for range b.N {
					start := time.Now()
					if err := w.op(ctx); err != nil {
						b.Fatalf("%s: %v", a.name, err)
					}
					lat.add(time.Since(start))
				}
				lat.report(b)
			})
		}
	}
}

// connectPerInvocation is the blog recipe for IAM auth in Lambda: sign a
// token with auth.BuildAuthToken, open a *sql.DB with it as the password,
// run the work and close everything, every invocation.
func connectPerInvocation(ctx context.Context, s *standIn, work func(context.Context, *sql.DB) error) error {
	cfg := s.iamConfig()
	token, err := auth.BuildAuthToken(ctx, s.srv.Endpoint(), s.srv.Region(), iamUser, cfg.Credentials)
	if err != nil {
		return fmt.Errorf("sign token: %w", err)
	}
	m := mysql.NewConfig()
	m.Net = "tcp"
	m.Addr = s.srv.Endpoint()
	m.User = iamUser
	m.Passwd = token
	m.DBName = database
	m.TLS = cfg.TLS
	m.AllowCleartextPasswords = true
	m.ParseTime = true
	conn, err := mysql.NewConnector(m)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	return work(ctx, db)
}
