package auroralocal

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
)

// Limits of a real Aurora writer the stand-in models, each off until a test
// turns it on: max_connections (error 1040), the throttling of new IAM
// logins (1045, recorded as ErrThrottled) and Serverless v2 auto-pause (the
// first login after a pause waits for the resume).

// ErrNumTooManyConnections is ER_CON_COUNT_ERROR: a connection beyond
// max_connections.
const ErrNumTooManyConnections = 1040

var (
	// ErrTooManyConnections: refused with 1040 at max_connections.
	ErrTooManyConnections = errors.New("too many connections (max_connections)")
	// ErrThrottled: an IAM login with a token not seen before, beyond the
	// configured rate. Aurora's iam-db-auth-error log says
	// ThrottlingException; the client gets the same 1045 as for any other
	// IAM refusal.
	ErrThrottled = errors.New("ThrottlingException: IAM authentication rate exceeded")
)

func errTooManyConnections() error {
	return mysql.NewSQLError(ErrNumTooManyConnections, "08004", "Too many connections")
}

// limits holds the modelled limits' state; the zero value limits nothing.
type limits struct {
	maxConns atomic.Int64 // 0: no limit

	mu     sync.Mutex
	rate   float64   // new-token IAM logins per second of server clock; 0: no throttling
	burst  float64   // bucket size
	bucket float64   // logins available now
	last   time.Time // server clock at the last refill
	known  map[[sha256.Size]byte]time.Time

	pauseMu  sync.Mutex
	paused   bool
	delay    time.Duration
	resuming chan struct{} // closed when the resume in progress ends; nil if none
	timer    *time.Timer

	refusedTooMany, throttled, resumes, waitedForResume atomic.Uint64
}

// LimitStats are the modelled limits' counters since Start.
type LimitStats struct {
	// OpenConnections is the number of client connections open now.
	OpenConnections int
	// RefusedTooMany counts connections refused with 1040.
	RefusedTooMany uint64
	// Throttled counts IAM logins refused for throttling.
	Throttled uint64
	// Resumes counts resumes from a pause; LoginsWaitedForResume the
	// logins that waited for one.
	Resumes, LoginsWaitedForResume uint64
}

// LimitStats returns a snapshot of the limits' counters.
func (s *Server) LimitStats() LimitStats {
	return LimitStats{
		OpenConnections:       int(s.stats.openConns.Load()),
		RefusedTooMany:        s.limits.refusedTooMany.Load(),
		Throttled:             s.limits.throttled.Load(),
		Resumes:               s.limits.resumes.Load(),
		LoginsWaitedForResume: s.limits.waitedForResume.Load(),
	}
}

// SetMaxConnections limits open client connections to n, as Aurora's
// max_connections does: a connection beyond it is refused at login with
// error 1040 "Too many connections", whoever logs in (MySQL's one extra
// connection for CONNECTION_ADMIN is not modelled). n <= 0 removes the limit.
// Connections already open are not closed.
func (s *Server) SetMaxConnections(n int) {
	s.limits.maxConns.Store(int64(max(n, 0)))
}

// ThrottleIAMLogins refuses IAM logins beyond perSecond a second (server
// clock, see SetClock; burst at once) with error 1045, recording
// ErrThrottled, as Aurora throttles IAM authentication. As on Aurora, a
// login presenting a token the server already accepted is not throttled,
// and a throttled login does not make its token known. perSecond <= 0
// turns throttling off. The bucket starts full.
func (s *Server) ThrottleIAMLogins(perSecond float64, burst int) {
	l := &s.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rate, l.burst = max(perSecond, 0), float64(max(burst, 1))
	l.bucket, l.last = l.burst, s.Now()
}

// throttle decides an IAM login with token at server time now; accepted
// reports the login succeeded, so its token is known from then on.
func (l *limits) throttle(token string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate == 0 {
		return nil
	}
	if exp, ok := l.known[sha256.Sum256([]byte(token))]; ok && now.Before(exp) {
		return nil
	}
	if elapsed := now.Sub(l.last).Seconds(); elapsed > 0 {
		l.bucket = min(l.burst, l.bucket+elapsed*l.rate)
		l.last = now
	}
	if l.bucket < 1 {
		l.throttled.Add(1)
		return fmt.Errorf("%w (%g new-token logins a second, burst %g)", ErrThrottled, l.rate, l.burst)
	}
	l.bucket--
	return nil
}

// accepted remembers token as verified until it expires.
func (l *limits) accepted(token string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate == 0 {
		return
	}
	if l.known == nil {
		l.known = map[[sha256.Size]byte]time.Time{}
	}
	for k, exp := range l.known {
		if !now.Before(exp) {
			delete(l.known, k)
		}
	}
	l.known[sha256.Sum256([]byte(token))] = now.Add(15 * time.Minute)
}

// Pause pauses the writer as Serverless v2 auto-pause does after its idle
// delay: open connections are closed (a writer pauses only without any),
// and the next login starts a resume that takes resumeDelay (real time);
// that login and every other one until the resume ends wait for it, then
// proceed. It returns how many connections were closed.
func (s *Server) Pause(resumeDelay time.Duration) int {
	l := &s.limits
	l.pauseMu.Lock()
	l.paused, l.delay = true, max(resumeDelay, 0)
	l.pauseMu.Unlock()
	return s.DropConnections()
}

// Paused reports whether the writer is paused or resuming.
func (s *Server) Paused() bool {
	l := &s.limits
	l.pauseMu.Lock()
	defer l.pauseMu.Unlock()
	return l.paused
}

// Resume ends a pause, or a resume in progress, at once; logins waiting
// for it proceed. Tests call it to release logins waiting on a long resume.
func (s *Server) Resume() {
	l := &s.limits
	l.pauseMu.Lock()
	defer l.pauseMu.Unlock()
	l.finishResumeLocked()
}

func (l *limits) finishResumeLocked() {
	if !l.paused {
		return
	}
	l.paused = false
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if l.resuming != nil {
		close(l.resuming)
		l.resuming = nil
		l.resumes.Add(1)
	}
}

// waitResumed blocks a login while the writer is paused, starting the
// resume if this is the first login since the pause.
func (l *limits) waitResumed() {
	l.pauseMu.Lock()
	if !l.paused {
		l.pauseMu.Unlock()
		return
	}
	if l.resuming == nil {
		l.resuming = make(chan struct{})
		l.timer = time.AfterFunc(l.delay, func() {
			l.pauseMu.Lock()
			defer l.pauseMu.Unlock()
			l.finishResumeLocked()
		})
	}
	done := l.resuming
	l.pauseMu.Unlock()
	l.waitedForResume.Add(1)
	<-done
}

// admit applies the writer-level limits to a login, before its
// credentials are looked at: it waits out a pause, then refuses a
// connection beyond max_connections.
func (s *Server) admit(att *loginAttempt) error {
	s.limits.waitResumed()
	if limit := s.limits.maxConns.Load(); limit > 0 && s.stats.openConns.Load() > limit {
		s.limits.refusedTooMany.Add(1)
		return att.refuse(errTooManyConnections(),
			fmt.Errorf("%w: %d open, max_connections %d", ErrTooManyConnections, s.stats.openConns.Load(), limit))
	}
	return nil
}

// initSessionVariables makes the session report the server's settings:
// @@require_secure_transport is Options.RequireSecureTransport, not GMS's
// process-wide default (OFF).
func (s *Server) initSessionVariables(ctx *sql.Context, sess sql.Session) {
	on := int8(0)
	if *s.opts.RequireSecureTransport {
		on = 1
	}
	// The variable exists in GMS's registry; a failure would leave GMS's
	// default, which the tests of this package would catch.
	_ = sess.InitSessionVariable(ctx, "require_secure_transport", on)
}
