package auroralocal

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// trackingListener wraps the TCP listener of one server generation (between
// Start/Restart and Stop). It counts accepted connections for Stats and keeps
// every open one so DropConnections and Stop can close them at TCP level.
type trackingListener struct {
	net.Listener
	stats *statsCounters

	mu       sync.Mutex
	open     map[*trackedConn]struct{}
	accepted int // connections handed to vitess by this generation
}

func newTrackingListener(ln net.Listener, stats *statsCounters) *trackingListener {
	return &trackingListener{Listener: ln, stats: stats, open: make(map[*trackedConn]struct{})}
}

// Accept implements net.Listener.
func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.stats.connectionsOpened.Add(1)
	l.stats.openConns.Add(1)
	l.stats.acceptRate.add(time.Now())
	tc := &trackedConn{Conn: c, owner: l}
	l.mu.Lock()
	l.open[tc] = struct{}{}
	l.accepted++
	l.mu.Unlock()
	return tc, nil
}

// acceptedCount returns how many connections this generation accepted.
func (l *trackingListener) acceptedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepted
}

// closeAll closes every open connection and returns how many there were.
func (l *trackingListener) closeAll() int {
	l.mu.Lock()
	conns := make([]*trackedConn, 0, len(l.open))
	for c := range l.open {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		// Close the raw socket: vitess may have layered TLS over it, and
		// closing underneath makes both sides see the connection drop.
		_ = c.Close()
	}
	return len(conns)
}

// stallAll makes every open connection silent (see trackedConn.stalled)
// and returns how many there were.
func (l *trackingListener) stallAll() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.open {
		c.stalled.Store(true)
	}
	return len(l.open)
}

// trackedConn removes itself from its listener's open set when closed.
//
// A stalled connection is a black hole, as a connection to a writer that
// vanished in a failover is: what the client sends never reaches the
// server's session and nothing the session writes reaches the client. The
// socket stays open until the client closes it (its reads time out), or
// DropConnections or Stop closes it.
type trackedConn struct {
	net.Conn
	owner   *trackingListener
	once    sync.Once
	stalled atomic.Bool
}

// Read implements net.Conn. On a stalled connection it swallows whatever
// arrives and returns only the socket's error, when the client goes away.
func (c *trackedConn) Read(b []byte) (int, error) {
	for {
		n, err := c.Conn.Read(b)
		if err != nil || !c.stalled.Load() {
			return n, err
		}
	}
}

// Write implements net.Conn: on a stalled connection the bytes are dropped.
func (c *trackedConn) Write(b []byte) (int, error) {
	if c.stalled.Load() {
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// Close implements net.Conn.
func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.owner.stats.openConns.Add(-1)
		c.owner.mu.Lock()
		delete(c.owner.open, c)
		c.owner.mu.Unlock()
	})
	return c.Conn.Close()
}
