package iamdb

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeLimiterClock drives a rateLimiter without real waiting: sleeping
// moves the clock.
type fakeLimiterClock struct {
	fakeClock
	slept []time.Duration
}

func (c *fakeLimiterClock) sleep(_ context.Context, d time.Duration) error {
	c.slept = append(c.slept, d)
	c.Set(c.Now().Add(d))
	return nil
}

func fakeLimiter(rate float64, burst int) (*rateLimiter, *fakeLimiterClock) {
	clock := &fakeLimiterClock{fakeClock: fakeClock{now: t0}}
	l := newRateLimiter(rate, burst)
	l.now, l.sleep, l.last = clock.Now, clock.sleep, t0
	return l, clock
}

func TestRateLimiter(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		burst int
		// arrivals are offsets from t0 at which callers arrive, in
		// order; a caller that waits moves the clock, so an arrival
		// earlier than the clock happens "now".
		arrivals []time.Duration
		// grants are the offsets at which each caller may start.
		grants []time.Duration
	}{
		{name: "burst passes at once, then one per interval", rate: 10, burst: 2,
			arrivals: []time.Duration{0, 0, 0, 0, 0},
			grants:   []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}},
		{name: "idle time refills up to the burst only", rate: 10, burst: 2,
			arrivals: []time.Duration{0, 0, time.Hour, time.Hour, time.Hour},
			grants:   []time.Duration{0, 0, time.Hour, time.Hour, time.Hour + 100*time.Millisecond}},
		{name: "rate below one per second", rate: 0.5, burst: 1,
			arrivals: []time.Duration{0, 0, 0},
			grants:   []time.Duration{0, 2 * time.Second, 4 * time.Second}},
		{name: "partial refill shortens the wait", rate: 4, burst: 1,
			arrivals: []time.Duration{0, 100 * time.Millisecond},
			grants:   []time.Duration{0, 250 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, clock := fakeLimiter(tt.rate, tt.burst)
			for i, at := range tt.arrivals {
				if arrive := t0.Add(at); arrive.After(clock.Now()) {
					clock.Set(arrive)
				}
				if err := l.wait(context.Background()); err != nil {
					t.Fatalf("caller %d: %v", i, err)
				}
				if got := clock.Now().Sub(t0); got != tt.grants[i] {
					t.Errorf("caller %d started at t0+%v, want t0+%v", i, got, tt.grants[i])
				}
			}
			// The bucket's promise: in any window w, at most
			// burst + rate*w starts.
			for i := range tt.grants {
				for j := i; j < len(tt.grants); j++ {
					w := (tt.grants[j] - tt.grants[i]).Seconds()
					if n := float64(j - i + 1); n > float64(tt.burst)+tt.rate*w+1e-9 {
						t.Errorf("%v starts within %.3fs: more than burst %d + rate %g", n, w, tt.burst, tt.rate)
					}
				}
			}
			waits, waited := l.stats()
			var want time.Duration
			for _, d := range clock.slept {
				want += d
			}
			if waits != uint64(len(clock.slept)) || waited != want {
				t.Errorf("stats = %d waits, %v; want %d, %v", waits, waited, len(clock.slept), want)
			}
		})
	}
}

func TestRateLimiterDeadline(t *testing.T) {
	l, clock := fakeLimiter(1, 1)
	if err := l.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The next slot is a second away; a caller with less time is told at
	// once and does not take the slot.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := l.wait(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || len(clock.slept) != 0 {
		t.Fatalf("wait with a near deadline = %v after sleeping %v; want an immediate DeadlineExceeded", err, clock.slept)
	}
	if err := l.wait(context.Background()); err != nil || len(clock.slept) != 1 || clock.slept[0] != time.Second {
		t.Errorf("next caller waited %v (%v); want exactly the 1s slot the refused caller left", clock.slept, err)
	}
}

func TestRateLimiterCancelReturnsSlot(t *testing.T) {
	l, clock := fakeLimiter(1, 1)
	if err := l.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.sleep = func(context.Context, time.Duration) error { return context.Canceled }
	if err := l.wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait = %v, want context.Canceled", err)
	}
	l.sleep = clock.sleep
	if err := l.wait(context.Background()); err != nil || len(clock.slept) != 1 || clock.slept[0] != time.Second {
		t.Errorf("after a canceled wait the next caller waited %v (%v); want 1s, not 2s", clock.slept, err)
	}
}

// The connector puts every attempt, retries included, through its limiter.
func TestConnectorRateLimited(t *testing.T) {
	conn, srv, _ := newTestConnector(t, refuseFirst(1), func(c *Config) {
		c.MaxNewConnsPerSecond, c.NewConnBurst = 5, 2
		c.Sleep = func(context.Context, time.Duration) error { return nil }
	})
	l, clock := fakeLimiter(5, 2)
	conn.limiter = l
	// The first Connect takes two attempts (one refusal); the other three
	// one each: five attempts, the last three each 200ms apart.
	for i := range 4 {
		if err := connectOnce(t, conn); err != nil {
			t.Fatalf("connect %d: %v", i, err)
		}
	}
	srv.stop()
	s := conn.Stats()
	if len(srv.seen()) != 5 || s.ConnectAttempts != 5 {
		t.Fatalf("server saw %d logins, Stats %+v; want 5 attempts", len(srv.seen()), s)
	}
	if s.RateLimitWaits != 3 || s.RateLimitDelay != 600*time.Millisecond || clock.Now().Sub(t0) != 600*time.Millisecond {
		t.Errorf("Stats = %+v, clock at t0+%v; want 3 waits totalling 600ms", s, clock.Now().Sub(t0))
	}

	// With no slot before the deadline, Connect fails without dialling.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := conn.Connect(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, new(*ConnectError)) {
		t.Errorf("rate-limited Connect: %v, want a *ConnectError wrapping DeadlineExceeded", err)
	}
	if got := conn.Stats().ConnectAttempts; got != 5 {
		t.Errorf("a rate-limited Connect dialled: %d attempts", got)
	}
}

// When the rate limit has no slot for an access-denied retry before the
// deadline, the error keeps the refusal that caused the retry.
func TestRateLimitedRetryKeepsRefusal(t *testing.T) {
	conn, srv, _ := newTestConnector(t, refuseFirst(1<<40), func(c *Config) {
		c.Sleep = func(context.Context, time.Duration) error { return nil }
	})
	l, _ := fakeLimiter(0.25, 1) // the second slot is 4s away
	conn.limiter = l
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := conn.Connect(ctx)
	srv.stop()
	if !errors.Is(err, context.DeadlineExceeded) || !isAccessDenied(err) || !strings.Contains(err.Error(), "refused the IAM token") {
		t.Fatalf("error %v: want the rate limit's DeadlineExceeded, the 1045 it was retrying, and the 1045 hint", err)
	}
	if n := len(srv.seen()); n != 1 {
		t.Errorf("server saw %d logins, want 1", n)
	}
}
