package reliability

import (
	"context"
	"net"
	"sync"
	"syscall"
)

// cutter is a Config.Dial that can cut a connection right after the client
// sent something: armed with n, it lets the next n writes (on any of its
// connections) reach the server and then closes that connection, so the
// server receives the statement but its answer never arrives. This is the
// failure database/sql cannot retry safely.
type cutter struct {
	mu    sync.Mutex
	armed int // writes left before the cut; 0: disarmed
	cuts  int // connections cut so far
}

// arm makes the n-th write from now cut its connection.
func (c *cutter) arm(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed = n
}

// cutCount returns how many connections were cut.
func (c *cutter) cutCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cuts
}

// dial opens a TCP connection wrapped so its writes can be cut.
func (c *cutter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &cutConn{Conn: raw, c: c}, nil
}

// afterWrite reports whether the write just made must be the last.
func (c *cutter) afterWrite() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.armed == 0 {
		return false
	}
	c.armed--
	if c.armed > 0 {
		return false
	}
	c.cuts++
	return true
}

// cutConn is one connection dialled by a cutter.
type cutConn struct {
	net.Conn
	c *cutter
}

// Write passes b through and then, if armed to, closes the connection.
func (cc *cutConn) Write(b []byte) (int, error) {
	n, err := cc.Conn.Write(b)
	if err == nil && cc.c.afterWrite() {
		cc.Conn.Close()
	}
	return n, err
}

// SyscallConn exposes the socket, so the driver's liveness check of pooled
// connections works as it does without the wrapper.
func (cc *cutConn) SyscallConn() (syscall.RawConn, error) {
	return cc.Conn.(syscall.Conn).SyscallConn()
}
