package auroralocal

import (
	"sync"
	"time"
)

// maxAuthEvents bounds the in-memory login log.
const maxAuthEvents = 1024

// AuthEvent records one login attempt. It never holds a password or token.
type AuthEvent struct {
	// Time is the server clock at the attempt.
	Time time.Time
	// User is the user name the client sent.
	User string
	// RemoteAddr is the client's ip:port.
	RemoteAddr string
	// Method is the MySQL auth method that decided: mysql_native_password,
	// caching_sha2_password or mysql_clear_password (IAM).
	Method string
	// TLS reports whether the connection was encrypted.
	TLS bool
	// OK reports whether the login succeeded.
	OK bool
	// ErrorNumber is the MySQL error sent to the client; 0 when OK.
	ErrorNumber int
	// Principal is the ARN of the IAM principal whose key signed the token,
	// when the token's signature verified.
	Principal string
	// Err is why the login was refused (detailed, server-side only); nil
	// when OK. It wraps one of the Err* reasons of this package or a
	// sigv4.Err* token refusal, so tests can use errors.Is.
	Err error
	// Endpoint is the host name of the endpoint the login came through:
	// the cluster's, or Options.Proxy's or Options.Reader's. Set for IAM
	// logins.
	Endpoint string
}

// AuthLog is a bounded (1024 events), concurrency-safe list of recent login
// attempts, oldest first. The zero value is ready to use. Every engine of
// the local lane keeps one, so tests read refusals the same way on each.
type AuthLog struct {
	mu     sync.Mutex
	events []AuthEvent
}

// Add records e, dropping the oldest event when full.
func (l *AuthLog) Add(e AuthEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) == maxAuthEvents {
		n := copy(l.events, l.events[1:])
		l.events = l.events[:n]
	}
	l.events = append(l.events, e)
}

// Events returns a copy of the recorded events, oldest first.
func (l *AuthLog) Events() []AuthEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]AuthEvent(nil), l.events...)
}

// LastError returns the reason of the most recent refused attempt, or nil.
func (l *AuthLog) LastError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.events) - 1; i >= 0; i-- {
		if !l.events[i].OK {
			return l.events[i].Err
		}
	}
	return nil
}

// AuthEvents returns the most recent login attempts (up to 1024), oldest
// first.
func (s *Server) AuthEvents() []AuthEvent { return s.events.Events() }

// LastAuthError returns the reason of the most recent refused login, or nil
// if none was refused since Start. The error wraps one of this package's
// Err* reasons or a sigv4.Err* token refusal (use errors.Is, or ReasonCode
// for the iam-db-auth-error style code); it never contains a password or
// token.
func (s *Server) LastAuthError() error { return s.events.LastError() }
