package iamdb

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// rateLimiter is a token bucket that spaces out new connection attempts of
// one Connector: at most burst attempts start at once, and after that one
// every 1/rate seconds. In any interval of length w it lets at most
// burst + rate*w attempts through, which is what bounds a container's (and,
// multiplied by the number of containers, a fleet's) IAM logins per second.
//
// Callers reserve a slot by taking a token even when the bucket is empty
// (tokens goes negative) and then sleep until their slot; that keeps waiting
// callers in arrival order without a queue.
type rateLimiter struct {
	rate  float64 // tokens per second, > 0
	burst float64 // bucket size, >= 1
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu     sync.Mutex
	tokens float64   // available tokens; negative while callers wait
	last   time.Time // when tokens was last brought up to date

	waits  atomic.Uint64 // attempts that had to wait for a slot
	waited atomic.Int64  // total nanoseconds reserved for waiting
}

// newRateLimiter returns a full bucket on the real clock.
func newRateLimiter(rate float64, burst int) *rateLimiter {
	return &rateLimiter{
		rate:   rate,
		burst:  float64(burst),
		tokens: float64(burst),
		now:    time.Now,
		sleep:  sleepCtx,
		last:   time.Now(),
	}
}

// refill adds the tokens earned since l.last. Callers hold l.mu.
func (l *rateLimiter) refill(now time.Time) {
	if now.After(l.last) {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		l.last = now
	}
}

// wait returns when the caller may start a connection attempt. If the slot
// lies beyond ctx's deadline it returns at once, without taking the slot,
// an error wrapping context.DeadlineExceeded that says so; if ctx ends
// while waiting it gives the slot back and returns ctx's error.
func (l *rateLimiter) wait(ctx context.Context) error {
	l.mu.Lock()
	l.refill(l.now())
	l.tokens--
	var d time.Duration
	if l.tokens < 0 {
		d = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	if dl, ok := ctx.Deadline(); ok && d > 0 && d > time.Until(dl) {
		l.tokens++
		l.mu.Unlock()
		return fmt.Errorf("new-connection rate limit (%g per second, burst %g): the next slot is %s away, after the deadline: %w",
			l.rate, l.burst, d.Round(time.Millisecond), context.DeadlineExceeded)
	}
	l.mu.Unlock()
	if d <= 0 {
		return nil
	}
	l.waits.Add(1)
	l.waited.Add(int64(d))
	if err := l.sleep(ctx, d); err != nil {
		l.mu.Lock()
		l.refill(l.now())
		l.tokens = min(l.burst, l.tokens+1)
		l.mu.Unlock()
		return fmt.Errorf("waiting for a new-connection slot: %w", err)
	}
	return nil
}

// stats returns how many attempts waited, and for how long in total.
func (l *rateLimiter) stats() (waits uint64, waited time.Duration) {
	return l.waits.Load(), time.Duration(l.waited.Load())
}

// sleepCtx waits d, or until ctx ends, whichever comes first; it returns
// ctx's error in the second case.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
