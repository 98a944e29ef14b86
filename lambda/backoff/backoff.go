// Package backoff holds what the Lambdas' retry loops share: a jittered
// delay, so that many clients refused or failed at once (a fleet after a
// deployment, stacks deploying together) do not retry in lock step.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Jitter returns a random duration in [d/2, d]; d itself for d <= 1.
func Jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}
