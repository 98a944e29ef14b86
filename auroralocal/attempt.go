package auroralocal

import (
	"errors"
	"fmt"
	"net"

	"github.com/dolthub/vitess/go/mysql"
)

// loginAttempt collects what one login records in Stats and the event log.
type loginAttempt struct {
	s          *Server
	event      AuthEvent
	tls        bool
	clientHost string
}

func (s *Server) newAttempt(conn *mysql.Conn, user, method string, remote net.Addr) *loginAttempt {
	tls := conn.TLSEnabled()
	remoteStr := ""
	if remote != nil {
		remoteStr = remote.String()
	}
	return &loginAttempt{
		s:          s,
		tls:        tls,
		clientHost: remoteHost(remote),
		event: AuthEvent{
			Time:       s.Now(),
			User:       user,
			RemoteAddr: remoteStr,
			Method:     method,
			TLS:        tls,
		},
	}
}

// refuse records the refusal with its detailed reason and returns clientErr,
// the MySQL error the client gets (reason is never sent to the client).
func (a *loginAttempt) refuse(clientErr error, reason error) error {
	var sqlErr *mysql.SQLError
	if errors.As(clientErr, &sqlErr) {
		a.event.ErrorNumber = sqlErr.Number()
	}
	a.event.Err = reason
	a.s.stats.loginsRefused.Add(1)
	a.s.events.Add(a.event)
	a.s.log.Info("auroralocal: login refused",
		"user", a.event.User, "remote", a.event.RemoteAddr, "method", a.event.Method,
		"tls", a.tls, "error", a.event.ErrorNumber, "reason", reason.Error(), "principal", a.event.Principal)
	return clientErr
}

// succeed records a successful login by the principal with the given ARN
// ("" for password logins).
func (a *loginAttempt) succeed(principal string) {
	a.event.OK = true
	a.event.Principal = principal
	a.s.stats.loginsOK.Add(1)
	a.s.events.Add(a.event)
	a.s.log.Debug("auroralocal: login ok",
		"user", a.event.User, "remote", a.event.RemoteAddr, "method", a.event.Method,
		"tls", a.tls, "principal", principal)
}

// recoverPanic turns a panic during authentication (e.g. inside GMS or a
// principal's Authorize) into a recorded 1045 refusal. Deferred by every
// HandleAuthPluginData; the panic value may describe the input, so it is
// recorded server-side only.
func (a *loginAttempt) recoverPanic(getter *mysql.Getter, err *error, usedPassword bool) {
	if r := recover(); r != nil {
		*getter = nil
		*err = a.refuse(errAccessDenied(a.event.User, a.clientHost, usedPassword),
			fmt.Errorf("%w: panic: %v", ErrAuthInternal, r))
	}
}
