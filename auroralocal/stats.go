package auroralocal

import (
	"sync"
	"sync/atomic"
	"time"
)

// Stats are counters since Start; Restart does not reset them.
type Stats struct {
	// ConnectionsOpened counts accepted TCP connections, whether or not
	// their login succeeded.
	ConnectionsOpened uint64
	// LoginsOK counts successful logins of any user and method.
	LoginsOK uint64
	// LoginsRefused counts refused logins of any user and method.
	LoginsRefused uint64
	// PeakNewConnectionsPerSecond is the largest number of connections
	// accepted within any one-second window (real time, not the server
	// clock), e.g. to check a Lambda fleet does not storm the database.
	PeakNewConnectionsPerSecond int
}

// statsCounters backs Stats; all fields are safe for concurrent use.
type statsCounters struct {
	connectionsOpened atomic.Uint64
	loginsOK          atomic.Uint64
	loginsRefused     atomic.Uint64
	openConns         atomic.Int64 // client connections open now (limits.go)
	acceptRate        rateWindow
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	return Stats{
		ConnectionsOpened:           s.stats.connectionsOpened.Load(),
		LoginsOK:                    s.stats.loginsOK.Load(),
		LoginsRefused:               s.stats.loginsRefused.Load(),
		PeakNewConnectionsPerSecond: s.stats.acceptRate.peakCount(),
	}
}

// rateWindow tracks the maximum number of events inside any window of
// length width (one second when zero). The maximum over all windows is
// always reached by a window ending at an event, so checking at each event
// is exact.
type rateWindow struct {
	mu     sync.Mutex
	width  time.Duration
	recent []time.Time // events within width of the newest, oldest first
	peak   int
}

// add records an event at t; events must arrive in non-decreasing time
// order (time.Now's monotonic reading guarantees this for one caller).
func (w *rateWindow) add(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	width := w.width
	if width <= 0 {
		width = time.Second
	}
	cutoff := t.Add(-width)
	drop := 0
	for drop < len(w.recent) && !w.recent[drop].After(cutoff) {
		drop++
	}
	// Copy down rather than re-slice so the backing array does not grow
	// without bound over a long run.
	n := copy(w.recent, w.recent[drop:])
	w.recent = append(w.recent[:n], t)
	w.peak = max(w.peak, len(w.recent))
}

func (w *rateWindow) peakCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak
}
