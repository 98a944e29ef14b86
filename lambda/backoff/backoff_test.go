package backoff

import (
	"testing"
	"time"
)

func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 2, 3, time.Millisecond, time.Second, 10 * time.Second} {
		lo, hi := d, time.Duration(0)
		for range 1000 {
			j := Jitter(d)
			if j < d/2 || j > d {
				t.Fatalf("Jitter(%v) = %v, want within [%v, %v]", d, j, d/2, d)
			}
			lo, hi = min(lo, j), max(hi, j)
		}
		// It must actually spread: over 1000 draws both halves of a wide
		// range are hit.
		if d >= time.Millisecond && (lo > d*3/4 || hi < d*3/4) {
			t.Errorf("Jitter(%v) stayed within [%v, %v] over 1000 draws: not spread over [d/2, d]", d, lo, hi)
		}
	}
}
