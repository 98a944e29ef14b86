package reliability

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/auroralocal/sigv4"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/rdstls"
)

// clocks keeps a connector's Config.Now and the stand-in's clock in step:
// both read real time plus one offset, which shift moves. As Config.Sleep it
// turns waiting into shifting, so backoff takes no real time.
type clocks struct {
	srv    *auroralocal.Server
	offset atomic.Int64
	slept  atomic.Int64 // total time "slept" through sleep
}

// newClocks resets the stand-in's clock to real time, so that both clocks
// start equal.
func newClocks(srv *auroralocal.Server) *clocks {
	srv.SetClock(nil)
	return &clocks{srv: srv}
}

func (c *clocks) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *clocks) shift(d time.Duration) {
	c.offset.Add(int64(d))
	c.srv.AdvanceClock(d)
}

func (c *clocks) sleep(_ context.Context, d time.Duration) error {
	c.slept.Add(int64(d))
	c.shift(d)
	return nil
}

// withClocks makes a container use clk for its clock and its backoff, and
// lifts the rate limit, which is not under test here and waits in real time.
func withClocks(clk *clocks, then func(*iamdb.Config)) func(*iamdb.Config) {
	return func(c *iamdb.Config) {
		c.Now, c.Sleep = clk.now, clk.sleep
		c.MaxNewConnsPerSecond, c.NewConnBurst = iamdb.MaxNewConnsPerSecondLimit, iamdb.MaxOpenConnsLimit
		if then != nil {
			then(c)
		}
	}
}

// refusals counts the stand-in's refused IAM logins by reason.
func refusals(srv *auroralocal.Server, reason error) int {
	n := 0
	for _, ev := range srv.AuthEvents() {
		if !ev.OK && errors.Is(ev.Err, reason) {
			n++
		}
	}
	return n
}

// TestIAMPropagationRetried: right after a deployment the database refuses
// IAM logins (1045) for a while. The connector retries with backoff on the
// shifted clocks and succeeds once the refusal ends, within its budget; when
// the refusal outlasts the budget it reports a clear error.
func TestIAMPropagationRetried(t *testing.T) {
	e := startEnv(t)
	e.createUser(t, "SELECT", "INSERT")
	tests := []struct {
		name    string
		refuse  func(srv *auroralocal.Server, clk *clocks)
		budget  time.Duration
		ok      bool
		minWait time.Duration // backoff must have lasted at least this long
	}{
		{name: "three refusals", refuse: func(srv *auroralocal.Server, _ *clocks) { srv.RefuseLogins(3) }, ok: true},
		{name: "refused for 20s of server time", budget: 30 * time.Second, ok: true, minWait: 20 * time.Second,
			refuse: func(srv *auroralocal.Server, clk *clocks) { srv.RefuseLoginsUntil(clk.now().Add(20 * time.Second)) }},
		{name: "refused longer than the 30s budget", budget: 30 * time.Second,
			refuse: func(srv *auroralocal.Server, clk *clocks) { srv.RefuseLoginsUntil(clk.now().Add(time.Hour)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClocks(e.srv)
			c := e.newContainer(t, withClocks(clk, func(c *iamdb.Config) { c.AccessDeniedRetryFor = tt.budget }))
			before := refusals(e.srv, auroralocal.ErrInjectedRefusal)
			tt.refuse(e.srv, clk)
			defer func() { e.srv.RefuseLogins(0); e.srv.RefuseLoginsUntil(time.Time{}) }()

			start := time.Now()
			resp, err := c.invoke(`{"action":"whoami"}`)
			// The server's clock runs in real time plus the shifts, so the
			// real time the invocation took also counts towards a refusal
			// window (on a loaded machine, a noticeable part).
			ran := time.Since(start)
			s := c.conn.Stats()
			refused := refusals(e.srv, auroralocal.ErrInjectedRefusal) - before
			slept := time.Duration(clk.slept.Load())
			t.Logf("attempts %d, refused %d, backoff %v (server time), error: %v", s.ConnectAttempts, refused, slept, err)

			if uint64(refused) != s.AccessDeniedRetries+boolToUint(err != nil) {
				t.Errorf("server refused %d logins; connector retried %d times", refused, s.AccessDeniedRetries)
			}
			budget := tt.budget
			if budget == 0 {
				budget = iamdb.DefaultAccessDeniedRetryFor
			}
			if slept > budget {
				t.Errorf("backoff lasted %v, more than the %v budget", slept, budget)
			}
			if slept+ran < tt.minWait {
				t.Errorf("backoff lasted %v (plus %v of real time); the refusal lasted %v", slept, ran, tt.minWait)
			}
			if tt.ok {
				if err != nil {
					t.Fatalf("whoami after propagation: %v", err)
				}
				if resp.User != appUser+"@%" || s.AccessDeniedRetries == 0 {
					t.Errorf("whoami = %+v with %d retries; want app_user after retrying", resp, s.AccessDeniedRetries)
				}
				return
			}
			var ce *iamdb.ConnectError
			if !errors.As(err, &ce) || ce.Attempts < 2 || !strings.Contains(err.Error(), "has not taken effect yet") ||
				!strings.Contains(err.Error(), "rds-db:connect") {
				t.Fatalf("error %v: want a *ConnectError after several attempts, naming propagation and rds-db:connect", err)
			}
		})
	}
}

func boolToUint(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// TestLoginRefusals: each refusal is reported with its likely cause. 1045
// is retried (it may be propagation) until the budget ends; 1524 and a TLS
// verification failure are reported at once.
func TestLoginRefusals(t *testing.T) {
	e := startEnv(t)
	e.createUser(t, "SELECT")
	otherCA := func() *x509.CertPool {
		other, err := auroralocal.Start(auroralocal.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		return other.CAPool()
	}()
	tests := []struct {
		name      string
		change    func(*iamdb.Config)
		before    func(srv *auroralocal.Server)
		after     func(srv *auroralocal.Server)
		retried   bool
		mysqlNum  uint16
		serverWhy error  // the stand-in's reason, when it saw a login
		hint      string // substring of the error
	}{
		{name: "user not created", change: func(c *iamdb.Config) { c.User = "ghost_user" },
			retried: true, mysqlNum: 1045, serverWhy: auroralocal.ErrUnknownAccount, hint: `the user "ghost_user" does not exist`},
		{name: "token signed for another region", change: func(c *iamdb.Config) { c.Region = "us-west-2" },
			retried: true, mysqlNum: 1045, serverWhy: sigv4.ErrRegion, hint: "signed for localhost:"},
		{name: "token signed for another endpoint name", change: func(c *iamdb.Config) { c.Host = "127.0.0.1" },
			retried: true, mysqlNum: 1045, serverWhy: sigv4.ErrEndpoint, hint: "signed for 127.0.0.1:"},
		{name: "IAM authentication turned off", before: func(s *auroralocal.Server) { s.SetIAMAuth(false) },
			after: func(s *auroralocal.Server) { s.SetIAMAuth(true) }, mysqlNum: 1524, serverWhy: auroralocal.ErrIAMDisabled, hint: "turned off on the cluster"},
		{name: "server certificate not trusted", change: func(c *iamdb.Config) {
			c.TLS, _ = rdstls.Config(c.Host, otherCA)
		}, hint: "did not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClocks(e.srv)
			c := e.newContainer(t, withClocks(clk, func(c *iamdb.Config) {
				c.AccessDeniedRetryFor = 2 * time.Second
				if tt.change != nil {
					tt.change(c)
				}
			}))
			if tt.before != nil {
				tt.before(e.srv)
			}
			if tt.after != nil {
				defer tt.after(e.srv)
			}
			loginsBefore := len(e.srv.AuthEvents())
			_, err := c.invoke(`{"action":"count_items"}`)
			if err == nil {
				t.Fatal("count_items succeeded")
			}
			logins := len(e.srv.AuthEvents()) - loginsBefore
			s := c.conn.Stats()
			if tt.retried != (s.AccessDeniedRetries > 0) {
				t.Errorf("%d retries (server saw %d logins), want retried=%v", s.AccessDeniedRetries, logins, tt.retried)
			}
			if !tt.retried && logins > 1 {
				t.Errorf("server saw %d logins for an error retrying cannot fix", logins)
			}
			var me *mysql.MySQLError
			if tt.mysqlNum != 0 && (!errors.As(err, &me) || me.Number != tt.mysqlNum) {
				t.Errorf("error %v, want MySQL error %d", err, tt.mysqlNum)
			}
			if tt.serverWhy != nil && !errors.Is(e.srv.LastAuthError(), tt.serverWhy) {
				t.Errorf("server refused for %v, want %v", e.srv.LastAuthError(), tt.serverWhy)
			}
			if !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("error %q does not name the cause %q", err, tt.hint)
			}
			if strings.Contains(err.Error(), "X-Amz-Signature") || strings.Contains(err.Error(), testSecretKey) {
				t.Errorf("error leaks a token or key: %v", err)
			}
		})
	}
}

// TestTokenLifetime: connections outlive their token; new connections
// after 15+ minutes (both clocks shifted) get fresh tokens and log in;
// tokens are reused within TokenReuse and never past it, and the stand-in
// really refuses a token past its 15 minutes.
func TestTokenLifetime(t *testing.T) {
	e := startEnv(t)
	e.createUser(t, "SELECT", "INSERT")
	clk := newClocks(e.srv)
	c := e.newContainer(t, withClocks(clk, func(c *iamdb.Config) {
		c.TokenReuse = iamdb.MaxTokenReuse // the longest reuse allowed: 14m
		c.AccessDeniedRetryFor = iamdb.NoAccessDeniedRetry
	}))
	ctx := context.Background()

	// The first connection logs in with the first token...
	c.mustInvoke(t, e.srv, `{"action":"whoami"}`)
	// ...and serves queries 16 minutes later, when that token has expired.
	clk.shift(16 * time.Minute)
	c.mustInvoke(t, e.srv, `{"action":"whoami"}`)
	if s := c.conn.Stats(); s.ConnectAttempts != 1 || s.TokensSigned != 1 {
		t.Fatalf("after 16m the pooled connection was not reused: %+v", s)
	}
	// Keep that connection busy, so every invocation below needs a new one.
	first, err := c.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	steps := []struct {
		shift      time.Duration // clock shift before the invocation
		wantSigned uint64        // Stats.TokensSigned afterwards
		wantReused uint64
	}{
		// The new connection needs a fresh token.
		{shift: 0, wantSigned: 2},
		// 13m59s after it was signed that token is still reused...
		{shift: 13*time.Minute + 59*time.Second, wantSigned: 2, wantReused: 1},
		// ...but at 14m it is not: it would expire a minute later.
		{shift: time.Second, wantSigned: 3, wantReused: 1},
	}
	for i, st := range steps {
		clk.shift(st.shift)
		// Close the idle connection, so the invocation must log in.
		c.db.SetMaxIdleConns(0)
		c.db.SetMaxIdleConns(iamdb.DefaultMaxIdleConns)
		attempts := c.conn.Stats().ConnectAttempts
		if resp := c.mustInvoke(t, e.srv, `{"action":"whoami"}`); resp.User != appUser+"@%" {
			t.Fatalf("step %d: whoami = %+v", i, resp)
		}
		s := c.conn.Stats()
		if s.ConnectAttempts != attempts+1 {
			t.Errorf("step %d: %d new connections, want 1", i, s.ConnectAttempts-attempts)
		}
		if s.TokensSigned != st.wantSigned || s.TokensReused != st.wantReused {
			t.Errorf("step %d (clocks +%v): signed %d, reused %d; want %d, %d", i, time.Duration(clk.offset.Load()),
				s.TokensSigned, s.TokensReused, st.wantSigned, st.wantReused)
		}
	}
	var one int
	if err := first.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Errorf("the first connection, %v after its token was signed: %v", time.Duration(clk.offset.Load()), err)
	}

	// The control: the stand-in enforces the 15 minutes, so the logins
	// above prove the connector never presented an expired token.
	token, err := iamdb.BuildToken(ctx, e.srv.Endpoint(), e.srv.Region(), appUser,
		credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""), clk.now())
	if err != nil {
		t.Fatal(err)
	}
	clk.shift(iamdb.TokenLifetime + time.Second)
	err = rawLogin(e, token)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1045 || !errors.Is(e.srv.LastAuthError(), sigv4.ErrExpired) {
		t.Errorf("login with a token 15m1s old: %v (server: %v); want 1045 for an expired token", err, e.srv.LastAuthError())
	}
}

// rawLogin logs in as app_user with token, bypassing the connector.
func rawLogin(e *env, token string) error {
	tlsCfg, err := rdstls.Config(e.srv.Host(), e.srv.CAPool())
	if err != nil {
		return err
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.TLS = appUser, token, "tcp", e.srv.Addr(), tlsCfg
	cfg.AllowCleartextPasswords = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	return db.Ping()
}
