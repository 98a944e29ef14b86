package auroralocal

import (
	"sync"
	"time"
)

// serverClock is the time source the token verifier and RefuseLoginsUntil
// use: a base function plus an offset that AdvanceClock accumulates.
type serverClock struct {
	mu     sync.Mutex
	now    func() time.Time
	offset time.Duration
}

func (c *serverClock) read() time.Time {
	c.mu.Lock()
	now, offset := c.now, c.offset
	c.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	return now().Add(offset)
}

// SetClock replaces the server clock with now (nil restores time.Now) and
// resets any AdvanceClock offset, so afterwards Now() == now(). The clock
// governs IAM token validity (X-Amz-Date / X-Amz-Expires) and
// RefuseLoginsUntil; TLS certificates and Stats use real time.
func (s *Server) SetClock(now func() time.Time) {
	s.clock.mu.Lock()
	defer s.clock.mu.Unlock()
	s.clock.now = now
	s.clock.offset = 0
}

// AdvanceClock moves the server clock by d (negative d moves it back), e.g.
// AdvanceClock(16*time.Minute) makes every token issued now expired.
func (s *Server) AdvanceClock(d time.Duration) {
	s.clock.mu.Lock()
	defer s.clock.mu.Unlock()
	s.clock.offset += d
}

// Now returns the server clock's current time.
func (s *Server) Now() time.Time { return s.clock.read() }
