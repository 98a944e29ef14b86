package auroralocal

import (
	"fmt"
	"sync"
	"time"
)

// loginFaults holds the injected IAM login refusals.
type loginFaults struct {
	mu        sync.Mutex
	remaining int       // next IAM logins to refuse
	until     time.Time // refuse IAM logins while server clock is before this
}

// take consumes one injected refusal, if any applies at server time now,
// and describes it.
func (f *loginFaults) take(now time.Time) (refuse bool, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.remaining > 0 {
		f.remaining--
		return true, fmt.Sprintf("injected refusal (RefuseLogins, %d more to come)", f.remaining)
	}
	if now.Before(f.until) {
		return true, fmt.Sprintf("injected refusal (RefuseLoginsUntil %s, server time %s)",
			f.until.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return false, ""
}

// RefuseLogins makes the next n IAM logins fail with error 1045 whatever
// their token, as while a new IAM policy or user is still propagating. It
// replaces any previous count; n <= 0 cancels. Only AWSAuthenticationPlugin
// logins count and are refused; the master user is unaffected.
func (s *Server) RefuseLogins(n int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.remaining = max(n, 0)
}

// RefuseLoginsUntil makes every IAM login fail with error 1045 while the
// server clock (see SetClock) is before t. A zero t cancels.
func (s *Server) RefuseLoginsUntil(t time.Time) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.until = t
}

// SetIAMAuth turns IAM database authentication on or off at run time. While
// off, logins of AWSAuthenticationPlugin users fail with error 1524, as on a
// cluster whose IAM authentication setting is disabled.
func (s *Server) SetIAMAuth(enabled bool) {
	s.iamEnabled.Store(enabled)
}

// DropConnections closes every open client connection at the TCP level, as a
// failover or network blip would; the server keeps accepting new ones. It
// returns how many connections were closed.
func (s *Server) DropConnections() int {
	return s.onOpenConnections("dropped", (*trackingListener).closeAll)
}

// StallConnections makes every open client connection go silent, as
// connections to a writer that vanished in a failover do (the packets are
// lost, nobody resets the connection): the server neither reads what the
// client sends nor answers, and the client notices only through its own
// read timeout. Connections opened afterwards are served normally. It
// returns how many connections were stalled.
func (s *Server) StallConnections() int {
	return s.onOpenConnections("stalled", (*trackingListener).stallAll)
}

// onOpenConnections applies fault to the open connections of the running
// server generation, if any, logs it and returns how many it touched.
func (s *Server) onOpenConnections(what string, fault func(*trackingListener) int) int {
	s.lifeMu.Lock()
	ln := s.ln
	s.lifeMu.Unlock()
	if ln == nil {
		return 0
	}
	n := fault(ln)
	s.log.Info("auroralocal: "+what+" client connections", "count", n)
	return n
}
