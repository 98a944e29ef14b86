package iamdb

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
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
//
// The driver reports the timeout only as mysql.ErrInvalidConn, as it does a
// closed connection; the statement's error also wraps ErrSilentConnection,
// which says which it was.

// ErrSilentConnection is wrapped, together with go-sql-driver's
// mysql.ErrInvalidConn, by the error of a statement whose connection sent
// nothing for Config.ReadTimeout while a reply was due: black-holed by a
// failover or a network fault. The driver has closed the connection. For a
// statement that changes data the outcome is unknown: it may have run.
var ErrSilentConnection = errors.New("connection silent past ReadTimeout, closed as lost")

// errNotMySQL would mean the driver changed what its connections implement.
var errNotMySQL = errors.New("iamdb: the MySQL driver returned a connection without the methods database/sql needs")

// errRetired is what ResetSession returns for a retired connection; it is
// driver.ErrBadConn, so database/sql closes the connection and takes
// another without running anything on it.
var errRetired = driver.ErrBadConn

// noteSilence counts a connection whose socket hit the deadline and
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

// track wraps a newly logged-in driver connection with its sequence number
// and the state of its socket.
func (c *Connector) track(dc driver.Conn, sock *socketState) (driver.Conn, error) {
	mc, ok := dc.(mysqlConn)
	if !ok {
		_ = dc.Close()
		return nil, errNotMySQL
	}
	return &conn{mysqlConn: mc, seq: c.connsOpened.Add(1), owner: c, sock: sock}, nil
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
	sock  *socketState
}

// explain marks err with ErrSilentConnection if this connection's socket
// was cut by ReadTimeout. Statements whose reply was due get the driver's
// error from these methods; a stall in the middle of a result set surfaces
// from the rows instead and is not marked.
func (c *conn) explain(err error) error {
	if err == nil || !c.sock.silent.Load() {
		return err
	}
	return fmt.Errorf("the database sent nothing for %s: %w: %w", c.owner.cfg.ReadTimeout, ErrSilentConnection, err)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.mysqlConn.QueryContext(ctx, query, args)
	return rows, c.explain(err)
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.mysqlConn.ExecContext(ctx, query, args)
	return res, c.explain(err)
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	stmt, err := c.mysqlConn.PrepareContext(ctx, query)
	return stmt, c.explain(err)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.mysqlConn.BeginTx(ctx, opts)
	return tx, c.explain(err)
}

func (c *conn) Ping(ctx context.Context) error {
	return c.explain(c.mysqlConn.Ping(ctx))
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
