package queryfn

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

// The metrics' cost per request: nothing changed (a warm request on a
// pooled connection, the common case), and one new login (one EMF line).
func BenchmarkMetricsWrite(b *testing.B) {
	m := &metricsWriter{w: io.Discard, function: "fn", now: time.Now, logger: slog.New(slog.DiscardHandler)}
	s := iamdb.Stats{Logins: 1, TokensSigned: 1, ConnectAttempts: 1}
	m.write(s, Stats{})
	b.Run("unchanged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.write(s, Stats{})
		}
	})
	b.Run("one login", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Logins++
			s.TokensReused++
			m.write(s, Stats{})
		}
	})
}
