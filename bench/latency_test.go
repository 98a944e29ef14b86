package bench

import (
	"slices"
	"testing"
	"time"
)

// latencies collects one duration per benchmark iteration so a benchmark
// can report percentiles, not only the mean that ns/op is.
type latencies struct{ d []time.Duration }

func newLatencies(n int) *latencies { return &latencies{d: make([]time.Duration, 0, n)} }

func (l *latencies) add(d time.Duration) { l.d = append(l.d, d) }

// percentile returns the p-th percentile (0 < p <= 100) by the
// nearest-rank method, or 0 without samples.
func (l *latencies) percentile(p float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	rank := int(p/100*float64(len(s))+0.999999) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// report adds p50-ns and p99-ns to the benchmark's result line.
func (l *latencies) report(b *testing.B) {
	b.ReportMetric(float64(l.percentile(50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(l.percentile(99).Nanoseconds()), "p99-ns")
}

// pairedRun measures a and b alternately, b.N times each, swapping which
// goes first every iteration, and reports p50/p99 of each (metrics
// "<aName>-p50-ns" ...) and the ratio of their p50s ("<aName>/<bName>-p50").
// Load from elsewhere on the machine then hits both sides alike, so the
// ratio is steadier than one computed from two separate sub-benchmarks.
func pairedRun(b *testing.B, aName string, a func() error, bName string, bf func() error) {
	la, lb := newLatencies(b.N), newLatencies(b.N)
	timed := func(l *latencies, f func() error) {
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		l.add(time.Since(start))
	}
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			timed(la, a)
			timed(lb, bf)
		} else {
			timed(lb, bf)
			timed(la, a)
		}
	}
	b.StopTimer()
	pa, pb := la.percentile(50), lb.percentile(50)
	b.ReportMetric(float64(pa.Nanoseconds()), aName+"-p50-ns")
	b.ReportMetric(float64(pb.Nanoseconds()), bName+"-p50-ns")
	b.ReportMetric(float64(la.percentile(99).Nanoseconds()), aName+"-p99-ns")
	b.ReportMetric(float64(lb.percentile(99).Nanoseconds()), bName+"-p99-ns")
	if pb > 0 {
		b.ReportMetric(float64(pa)/float64(pb), aName+"/"+bName+"-p50")
	}
}
