package iamdb

import (
	"context"
	"database/sql/driver"
	"errors"
)

// A connection that stays silent past Config.ReadTimeout is closed by the
// driver. Silence is rarely one connection's trouble: after a failover or a
// network fault every connection to the old server goes quiet at once, and
// a pool that hands out its next idle connection would make the caller wait
// ReadTimeout again for each one (the driver's liveness check cannot tell a
// black-holed socket from a quiet one). So one silent connection retires
// every connection opened before it: database/sql asks each, before reuse
// (ResetSession) and when it is returned (IsValid), and a retired one is
// closed and replaced by a new login instead of being used.

// errNotMySQL would mean the driver changed what its connections implement.
var errNotMySQL = errors.New("iamdb: the MySQL driver returned a connection without the methods database/sql needs")

// errRetired is what ResetSession returns for a retired connection; it is
// driver.ErrBadConn, so database/sql closes the connection and takes
// another without running anything on it.
var errRetired = driver.ErrBadConn

// noteSilence counts one socket read or write that hit the deadline and
// retires every connection opened so far.
func (c *Connector) noteSilence() {
	c.readTimeouts.Add(1)
	opened := c.connsOpened.Load()
	for {
		old := c.retiredUpTo.Load()
		if old >= opened || c.retiredUpTo.CompareAndSwap(old, opened) {
			return
		}
	}
}

// SilentConnections returns how many connections were closed for staying
// silent past Config.ReadTimeout (Stats().ReadTimeouts), cheaply enough to
// read around every request.
func (c *Connector) SilentConnections() uint64 { return c.readTimeouts.Load() }

// track wraps a newly logged-in driver connection with its sequence number.
func (c *Connector) track(dc driver.Conn) (driver.Conn, error) {
	mc, ok := dc.(mysqlConn)
	if !ok {
		_ = dc.Close()
		return nil, errNotMySQL
	}
	return &conn{mysqlConn: mc, seq: c.connsOpened.Add(1), owner: c}, nil
}

// mysqlConn is the set of interfaces go-sql-driver/mysql's connection
// implements and database/sql uses; conn forwards every one of them, so
// wrapping changes nothing but the retirement check. TestConnForwards
// checks the list against the driver.
type mysqlConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.NamedValueChecker
	driver.SessionResetter
	driver.Validator
}

// conn is one pooled connection of a Connector.
type conn struct {
	mysqlConn
	seq   uint64 // 1 for the Connector's first connection
	owner *Connector
}

// retired reports whether a silent connection opened after this one has
// retired it.
func (c *conn) retired() bool { return c.seq <= c.owner.retiredUpTo.Load() }

// ResetSession implements driver.SessionResetter: a retired connection is
// refused before anything runs on it.
func (c *conn) ResetSession(ctx context.Context) error {
	if c.retired() {
		return errRetired
	}
	return c.mysqlConn.ResetSession(ctx)
}

// IsValid implements driver.Validator: a retired connection is not put
// back into the pool.
func (c *conn) IsValid() bool {
	return !c.retired() && c.mysqlConn.IsValid()
}
