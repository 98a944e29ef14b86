package iamdb

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sleepRecorder is a Config.Sleep that returns at once and records each
// requested delay, so retry tests take no time.
type sleepRecorder struct {
	mu     sync.Mutex
	delays []time.Duration
	err    error // returned instead of sleeping, if set
}

func (s *sleepRecorder) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays = append(s.delays, d)
	return s.err
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

// refuseFirst returns an accept function that refuses the first n logins.
func refuseFirst(n int64) func(string, string) bool {
	var seen atomic.Int64
	return func(string, string) bool { return seen.Add(1) > n }
}

func TestAccessDeniedRetry(t *testing.T) {
	tests := []struct {
		name     string
		accept   func(user, password string) bool
		budget   time.Duration // Config.AccessDeniedRetryFor
		ctx      func() (context.Context, context.CancelFunc)
		sleepErr error
		// want
		ok       bool
		attempts int      // exact; 0 means "more than 1, bounded by the budget"
		wantErr  []string // substrings of the error
		wantIs   []error
	}{
		{name: "refused twice while IAM propagates, then accepted", accept: refuseFirst(2), ok: true, attempts: 3},
		{name: "refused until the budget is spent", accept: refuseFirst(1 << 40), budget: 3 * time.Second,
			wantErr: []string{"Access denied", "attempts over", "has not taken effect yet"}},
		{name: "retrying off", accept: refuseFirst(1 << 40), budget: NoAccessDeniedRetry, attempts: 1,
			wantErr: []string{"Access denied"}},
		{name: "deadline too near for a retry", accept: refuseFirst(1 << 40), attempts: 1,
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 300*time.Millisecond)
			},
			wantErr: []string{"Access denied", "refused the IAM token"}},
		{name: "invocation ends while waiting", accept: refuseFirst(1 << 40), attempts: 1, sleepErr: context.Canceled,
			wantErr: []string{"while waiting to retry", "Access denied"}, wantIs: []error{context.Canceled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sleeper := &sleepRecorder{err: tt.sleepErr}
			conn, srv, _ := newTestConnector(t, tt.accept, func(c *Config) {
				c.AccessDeniedRetryFor = tt.budget
				c.Sleep = sleeper.sleep
				c.MaxNewConnsPerSecond = MaxNewConnsPerSecondLimit
				c.NewConnBurst = MaxOpenConnsLimit
			})
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			c, err := conn.Connect(ctx)
			if c != nil {
				c.Close()
			}
			srv.stop()
			logins := len(srv.seen())
			delays := sleeper.recorded()
			s := conn.Stats()

			if tt.ok != (err == nil) {
				t.Fatalf("Connect error = %v, want success %v", err, tt.ok)
			}
			if tt.attempts != 0 && logins != tt.attempts {
				t.Errorf("server saw %d logins, want %d", logins, tt.attempts)
			}
			if tt.attempts == 0 && logins < 2 {
				t.Errorf("server saw %d logins, want retries", logins)
			}
			// Every retry waited first and, the clock standing
			// still, presented the first token again.
			retries := logins - 1
			if tt.sleepErr == nil && len(delays) != retries {
				t.Errorf("%d delays for %d retries", len(delays), retries)
			}
			if s.ConnectAttempts != uint64(logins) || s.AccessDeniedRetries != uint64(retries) || s.TokensSigned != 1 ||
				s.RetryTokensReused != uint64(retries) || s.RetryTokensSigned != 0 {
				t.Errorf("Stats = %+v for %d logins; want every retry counted, each reusing the one token", s, logins)
			}
			// Delays grow exponentially with jitter, and never add up
			// to more than the budget.
			var total time.Duration
			for i, d := range delays {
				ceiling := min(accessDeniedBackoffBase<<i, accessDeniedBackoffMax)
				if d <= 0 || d > ceiling {
					t.Errorf("delay %d = %v, want in (0, %v]", i, d, ceiling)
				}
				total += d
			}
			if budget := tt.budget; budget > 0 && total > budget {
				t.Errorf("waited %v in total, more than the %v budget", total, budget)
			}
			if tt.ok {
				return
			}
			var ce *ConnectError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConnectError", err)
			}
			if ce.Attempts != logins || (tt.sleepErr == nil && ce.Backoff != total) {
				t.Errorf("ConnectError says %d attempts over %v; server saw %d, delays total %v", ce.Attempts, ce.Backoff, logins, total)
			}
			if !isAccessDenied(err) {
				t.Errorf("error %v does not wrap MySQL error 1045", err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			for _, want := range tt.wantIs {
				if !errors.Is(err, want) {
					t.Errorf("error %v does not wrap %v", err, want)
				}
			}
			if ce.Attempts == 1 && strings.Contains(err.Error(), "attempts over") {
				t.Errorf("error %q claims retries after one attempt", err)
			}
		})
	}
}

// A refused login is retried with the token it presented while that token
// has more than a minute to live, and with a new one after: the clock moves
// during each backoff, so the retries cross the reuse window (10 minutes by
// default) and the credentials' expiry margin.
func TestAccessDeniedRetryTokenReuse(t *testing.T) {
	tests := []struct {
		name         string
		step         time.Duration // the clock moves this much per backoff
		refusals     int64
		wantSigned   uint64 // tokens signed in all
		wantReused   uint64 // Stats.RetryTokensReused
		wantResigned uint64 // Stats.RetryTokensSigned
	}{
		{name: "clock still: one token for every retry", step: 0, refusals: 4, wantSigned: 1, wantReused: 4},
		// Attempts at 0, 4m, 8m reuse; at 12m the token would have less
		// than the reuse window left, so it is signed again; 16m reuses
		// the new one.
		{name: "clock moving: re-signed only past the reuse window", step: 4 * time.Minute, refusals: 4,
			wantSigned: 2, wantReused: 3, wantResigned: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var clock *fakeClock
			conn, srv, clock := newTestConnector(t, refuseFirst(tt.refusals), func(c *Config) {
				c.AccessDeniedRetryFor = MaxAccessDeniedRetryFor
				c.MaxNewConnsPerSecond = MaxNewConnsPerSecondLimit
				c.NewConnBurst = MaxOpenConnsLimit
				c.Sleep = func(context.Context, time.Duration) error {
					clock.Set(clock.Now().Add(tt.step))
					return nil
				}
			})
			c, err := conn.Connect(context.Background())
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			c.Close()
			srv.stop()
			logins := srv.seen()
			if len(logins) != int(tt.refusals)+1 {
				t.Fatalf("server saw %d logins, want %d", len(logins), tt.refusals+1)
			}
			distinct := map[string]bool{}
			for _, l := range logins {
				distinct[l.password] = true
			}
			s := conn.Stats()
			if s.TokensSigned != tt.wantSigned || uint64(len(distinct)) != tt.wantSigned ||
				s.RetryTokensReused != tt.wantReused || s.RetryTokensSigned != tt.wantResigned {
				t.Errorf("signed %d (server saw %d distinct tokens), retries reused %d, re-signed %d; want %d, %d, %d",
					s.TokensSigned, len(distinct), s.RetryTokensReused, s.RetryTokensSigned, tt.wantSigned, tt.wantReused, tt.wantResigned)
			}
		})
	}
}

// An endpoint that accepts TCP but never speaks MySQL must not hold a
// connection request beyond DialTimeout, even without a ctx deadline (the
// pool's background opener has none).
func TestAttemptBoundedByDialTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	cfg := validConfig()
	cfg.Host, cfg.Port = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
	cfg.DialTimeout = 100 * time.Millisecond
	conn, err := NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Connect(context.Background())
	if !errors.Is(err, errAttemptTimeout) || !strings.Contains(err.Error(), "nothing answered in time") {
		t.Fatalf("Connect to a silent server: %v, want the DialTimeout error with its hint", err)
	}
}

func TestRetryStateNext(t *testing.T) {
	far := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), time.Hour)
	}
	near := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), deadlineReserve)
	}
	tests := []struct {
		name   string
		state  retryState
		budget time.Duration
		ctx    func() (context.Context, context.CancelFunc)
		ok     bool
		max    time.Duration // the delay must be in [max/2, max] unless clipped
	}{
		{"first retry", retryState{delay: accessDeniedBackoffBase}, time.Minute, far, true, accessDeniedBackoffBase},
		{"capped delay", retryState{delay: accessDeniedBackoffMax}, time.Minute, far, true, accessDeniedBackoffMax},
		{"budget spent", retryState{delay: accessDeniedBackoffBase, slept: time.Minute}, time.Minute, far, false, 0},
		{"clipped to what is left", retryState{delay: accessDeniedBackoffMax, slept: time.Minute - time.Millisecond}, time.Minute, far, true, time.Millisecond},
		{"deadline too near", retryState{delay: accessDeniedBackoffBase}, time.Minute, near, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			r := tt.state
			d, ok := r.next(ctx, tt.budget)
			if ok != tt.ok {
				t.Fatalf("next = %v, %v; want ok %v", d, ok, tt.ok)
			}
			if !ok {
				return
			}
			lo := tt.max / 2
			if tt.max == time.Millisecond { // clipped: exactly what is left
				lo = tt.max
			}
			if d < lo || d > tt.max {
				t.Errorf("delay %v, want in [%v, %v]", d, lo, tt.max)
			}
			if want := min(2*tt.state.delay, accessDeniedBackoffMax); r.delay != want {
				t.Errorf("next base delay %v, want %v", r.delay, want)
			}
		})
	}
}

// A connection that the server drops during the login is reported as
// ErrConnectionLost (callers may retry: nothing ran); a refusal or an
// untrusted certificate is not. Connect itself retries none of them.
func TestConnectionLostDuringLogin(t *testing.T) {
	tests := []struct {
		name   string
		accept func(user, password string) bool
		change func(*Config)
		server func(*fakeMySQL)
		lost   bool
		hint   string
		logins int
	}{
		{name: "server drops the connection", server: func(srv *fakeMySQL) { srv.dropNextLogins(1) },
			lost: true, hint: "closed the connection during the login", logins: 1},
		{name: "server refuses the login", accept: func(string, string) bool { return false },
			change: func(c *Config) { c.AccessDeniedRetryFor = NoAccessDeniedRetry },
			hint:   "refused the IAM token", logins: 1},
		{name: "certificate not trusted", change: func(c *Config) {
			other, _ := newTestPKI(t, nil)
			c.TLS = &tls.Config{RootCAs: other, ServerName: "127.0.0.1"}
		}, hint: "did not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, srv, _ := newTestConnector(t, tt.accept, func(c *Config) {
				c.Sleep = func(context.Context, time.Duration) error {
					t.Error("Connect waited to retry")
					return nil
				}
				if tt.change != nil {
					tt.change(c)
				}
			})
			if tt.server != nil {
				tt.server(srv)
			}
			err := connectOnce(t, conn)
			srv.stop()
			if err == nil {
				t.Fatal("connect succeeded")
			}
			if got := errors.Is(err, ErrConnectionLost); got != tt.lost {
				t.Errorf("errors.Is(%v, ErrConnectionLost) = %v, want %v", err, got, tt.lost)
			}
			if !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("error %q does not contain %q", err, tt.hint)
			}
			if n := len(srv.seen()); n != tt.logins {
				t.Errorf("server saw %d logins, want %d", n, tt.logins)
			}
		})
	}
}
