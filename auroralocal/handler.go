package auroralocal

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// connHandler wraps GMS's mysql.Handler for one server generation. It
//
//   - runs the account statements GMS cannot (see statements.go);
//   - gives GMS's privilege errors Aurora's numbers (see privileges.go);
//   - turns a panic inside GMS into an ER_UNKNOWN_ERROR for that statement
//     instead of a dropped connection;
//   - counts closed connections so Stop can wait for handlers to finish.
type connHandler struct {
	next   mysql.Handler
	s      *Server
	closed atomic.Int64
}

var _ mysql.Handler = (*connHandler)(nil)

func (h *connHandler) closedCount() int64 { return h.closed.Load() }

// recoverTo converts a panic into *err. The panic value may quote the
// statement (which could hold a password), so the client only learns that
// an internal error happened; the value goes to the server log.
func (h *connHandler) recoverTo(err *error, what string) {
	if r := recover(); r != nil {
		h.s.log.Error("auroralocal: recovered panic in query engine", "during", what, "panic", fmt.Sprint(r))
		*err = mysql.NewSQLError(ErrNumUnknown, mysql.SSUnknownSQLState,
			"auroralocal: internal error in the query engine during %s (see server log)", what)
	}
}

// NewConnection implements mysql.Handler.
func (h *connHandler) NewConnection(c *mysql.Conn) {
	defer func() {
		if r := recover(); r != nil {
			h.s.log.Error("auroralocal: recovered panic in NewConnection", "panic", fmt.Sprint(r))
		}
	}()
	h.next.NewConnection(c)
}

// ConnectionClosed implements mysql.Handler.
func (h *connHandler) ConnectionClosed(c *mysql.Conn) {
	defer h.closed.Add(1)
	defer func() {
		if r := recover(); r != nil {
			h.s.log.Error("auroralocal: recovered panic in ConnectionClosed", "panic", fmt.Sprint(r))
		}
	}()
	h.next.ConnectionClosed(c)
}

// ConnectionAborted implements mysql.Handler.
func (h *connHandler) ConnectionAborted(c *mysql.Conn, reason string) (err error) {
	defer h.recoverTo(&err, "connection abort")
	return h.next.ConnectionAborted(c, reason)
}

// ComInitDB implements mysql.Handler.
func (h *connHandler) ComInitDB(c *mysql.Conn, schemaName string) (err error) {
	defer h.recoverTo(&err, "USE")
	return translatePrivilegeError(h.next.ComInitDB(c, schemaName))
}

// ComQuery implements mysql.Handler.
func (h *connHandler) ComQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (err error) {
	defer h.recoverTo(&err, "query")
	if err := h.refuseWrite(c, query); err != nil {
		return err
	}
	if handled, _, err := h.intercept(ctx, c, query, callback, false); handled {
		return err
	}
	if query, err = rewriteGrantPattern(query); err != nil {
		return err
	}
	callback = escapeShowGrants(query, callback)
	run := func() (string, error) { return "", h.next.ComQuery(ctx, c, query, callback) }
	_, err = h.createUserRequire(ctx, query, func() (string, error) { return h.tableGrants(ctx, query, run) })
	return translatePrivilegeError(err)
}

// ComMultiQuery implements mysql.Handler: it runs the first statement of
// query and returns the rest.
func (h *connHandler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (rest string, err error) {
	defer h.recoverTo(&err, "query")
	if err := h.refuseWrite(c, query); err != nil {
		return "", err
	}
	if handled, rest, err := h.intercept(ctx, c, query, callback, true); handled {
		return rest, err
	}
	if query, err = rewriteGrantPattern(query); err != nil {
		return "", err
	}
	callback = escapeShowGrants(query, callback)
	run := func() (string, error) { return h.next.ComMultiQuery(ctx, c, query, callback) }
	rest, err = h.createUserRequire(ctx, query, func() (string, error) { return h.tableGrants(ctx, query, run) })
	return rest, translatePrivilegeError(err)
}

// ComPrepare implements mysql.Handler.
func (h *connHandler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) (fields []*querypb.Field, err error) {
	defer h.recoverTo(&err, "prepare")
	fields, err = h.next.ComPrepare(ctx, c, query, prepare)
	return fields, translatePrivilegeError(err)
}

// ComStmtExecute implements mysql.Handler.
func (h *connHandler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, callback func(*sqltypes.Result) error) (err error) {
	defer h.recoverTo(&err, "execute")
	if err := h.refuseWrite(c, prepare.PrepareStmt); err != nil {
		return err
	}
	return translatePrivilegeError(h.next.ComStmtExecute(ctx, c, prepare, callback))
}

// WarningCount implements mysql.Handler.
func (h *connHandler) WarningCount(c *mysql.Conn) (n uint16) {
	defer func() {
		if r := recover(); r != nil {
			n = 0
		}
	}()
	return h.next.WarningCount(c)
}

// ComResetConnection implements mysql.Handler.
func (h *connHandler) ComResetConnection(c *mysql.Conn) (err error) {
	defer h.recoverTo(&err, "reset connection")
	return h.next.ComResetConnection(c)
}

// ParserOptionsForConnection implements mysql.Handler.
func (h *connHandler) ParserOptionsForConnection(c *mysql.Conn) (opts sqlparser.ParserOptions, err error) {
	defer h.recoverTo(&err, "parser options")
	return h.next.ParserOptionsForConnection(c)
}
