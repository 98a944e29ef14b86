package iamdb

import (
	"context"
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"
)

// ErrConnectionLost is wrapped by Connect's error when a connection was
// established but its socket failed before the login finished: the server
// closed or reset it during the TLS handshake or the login, as a failover
// or restart does. Nothing was run on that connection, so a caller may
// retry; package queryfn does, once.
var ErrConnectionLost = errors.New("connection lost during the login")

// attemptKey carries an attempt's *socketState to dial through the driver,
// which passes Connect's context on to its dial function.
type attemptKey struct{}

// socketState is what the wrapped socket of one connection has seen: any
// failed read or write (how Connect tells a lost connection from a refused
// login), and a read or write cut by the driver's deadline, ReadTimeout
// (how the connection explains the driver's "invalid connection").
type socketState struct {
	failed, silent atomic.Bool
	// token is how the attempt's token was obtained (tokenReused or
	// tokenSigned; 0 before beforeConnect ran), for the retry counters.
	token atomic.Uint32
}

// socketState.token values.
const (
	tokenReused uint32 = iota + 1
	tokenSigned
)

// dial is the driver's dial function: Config.Dial (or a net.Dialer), with
// the connection wrapped so that a read or write error is recorded in the
// flag of the attempt that dialled it, and a ReadTimeout in the Connector's
// counters.
func (c *Connector) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var (
		conn net.Conn
		err  error
	)
	if c.cfg.Dial != nil {
		conn, err = c.cfg.Dial(ctx, network, addr)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, err
	}
	sock, _ := ctx.Value(attemptKey{}).(*socketState)
	if sock == nil {
		return conn, nil
	}
	w := watchedConn{Conn: conn, state: sock, silent: c.noteSilence}
	if _, ok := conn.(syscall.Conn); ok {
		// Keep the driver's liveness check of pooled connections, which
		// needs the socket.
		return &watchedSyscallConn{w}, nil
	}
	return &w, nil
}

// watchedConn records socket failures in state, and calls silent for one
// that was the driver's read or write deadline (Config.ReadTimeout).
type watchedConn struct {
	net.Conn
	state  *socketState
	silent func()
}

func (w *watchedConn) Read(b []byte) (int, error) {
	n, err := w.Conn.Read(b)
	if err != nil {
		w.failedWith(err)
	}
	return n, err
}

func (w *watchedConn) Write(b []byte) (int, error) {
	n, err := w.Conn.Write(b)
	if err != nil {
		w.failedWith(err)
	}
	return n, err
}

func (w *watchedConn) failedWith(err error) {
	w.state.failed.Store(true)
	if errors.Is(err, os.ErrDeadlineExceeded) && !w.state.silent.Swap(true) {
		w.silent()
	}
}

// watchedSyscallConn is a watchedConn over a socket that exposes its file
// descriptor.
type watchedSyscallConn struct {
	watchedConn
}

// SyscallConn returns the socket's raw connection.
func (w *watchedSyscallConn) SyscallConn() (syscall.RawConn, error) {
	return w.Conn.(syscall.Conn).SyscallConn()
}
