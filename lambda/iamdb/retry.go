package iamdb

import (
	"context"
	"time"

	"github.com/rdsiam/rdsiam/lambda/backoff"
)

// Backoff between access-denied retries: exponential from
// accessDeniedBackoffBase up to accessDeniedBackoffMax, each delay jittered
// to [d/2, d] so that the containers of a fleet, refused together after a
// deployment, do not retry in lock step. The default 30s budget allows
// about ten attempts.
const (
	accessDeniedBackoffBase = 200 * time.Millisecond
	accessDeniedBackoffMax  = 5 * time.Second
	// deadlineReserve is kept free before ctx's deadline: a retry is not
	// started unless its delay and this much time for the attempt itself
	// fit, so the caller hears the real error rather than "deadline
	// exceeded".
	deadlineReserve = 500 * time.Millisecond
)

// retryState tracks one Connect call's access-denied retries.
type retryState struct {
	attempts int           // logins tried so far
	slept    time.Duration // backoff waited so far
	delay    time.Duration // the next delay before jitter
}

// next returns the delay before the next retry and true, or false if there
// is to be no retry: the backoff would exceed budget, or the retry could not
// start and finish before ctx's deadline. Budgeting on the sum of delays,
// not on a clock, keeps retrying bounded whatever Config.Now and
// Config.Sleep do.
func (r *retryState) next(ctx context.Context, budget time.Duration) (time.Duration, bool) {
	left := budget - r.slept
	if left <= 0 {
		return 0, false
	}
	d := min(backoff.Jitter(r.delay), left)
	r.delay = min(2*r.delay, accessDeniedBackoffMax)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d+deadlineReserve {
		return 0, false
	}
	return d, true
}
