package queryfn

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

// What is retried where, from the bottom up:
//
//   - iamdb.Connector.Connect retries a login refused with MySQL error 1045
//     (IAM propagation), with backoff, within its budget; nothing else.
//   - database/sql retries any statement whose driver call returned
//     driver.ErrBadConn, up to twice on pooled and once on a new connection.
//     go-sql-driver/mysql returns ErrBadConn only when nothing of the
//     statement was written (a pooled connection found dead by its liveness
//     check, or a write that failed before its first byte), or when a
//     server that became read-only in a failover refused a write (1290,
//     1792, 1836) — in every case the statement did not run.
//   - iamdb's ReadTimeout makes the driver close a connection that stays
//     silent while a reply is due; the statement then fails with "invalid
//     connection" like a dropped one, and iamdb retires the pool's older
//     connections so the retry below logs in anew.
//   - This file handles what is left: a connection that died under the
//     request (go-sql-driver's "invalid connection", a reset, EOF), either
//     while logging in or after the statement was sent. A read whose
//     connection died before the failing statement returned any row is run
//     once more, whole, on the fresh connection the pool opens (whoami's two
//     statements must share a session, so both run again); a read whose
//     failing statement had already returned rows is not.
//     A write is run once more only when nothing of it can have been
//     executed: its connection died while logging in, or the driver
//     reported ErrBadConn on its pinned connection (where database/sql
//     cannot retry for us). A write that may have been sent is never sent
//     again: it fails with ErrOutcomeUnknown.
//   - Nothing else is retried here: a refused login, an unreachable
//     endpoint, a server error or the end of the invocation's ctx.

// ErrOutcomeUnknown is wrapped by the error of a write (add_item,
// delete_item) whose connection was lost after the statement may have
// reached the server: it may or may not have been applied, and the handler
// does not send it again. Check (list_items, get_item) before retrying.
var ErrOutcomeUnknown = errors.New("outcome unknown: the connection to the database was lost after the statement was sent, " +
	"so it may or may not have been applied; it was not sent again (check before retrying)")

// readFunc runs one read on the pool, counting received rows in p.
type readFunc func(ctx context.Context, db *sql.DB, req Request, p *progress) (Response, error)

// writeFunc runs one write on a pinned connection.
type writeFunc func(ctx context.Context, conn *sql.Conn, req Request) (Response, error)

// reads and writes sort the actions by the retry policy they get. An action
// missing from both fails loudly in Do.
var (
	reads = map[Action]readFunc{
		ActionWhoAmI:     whoAmI,
		ActionListItems:  listItems,
		ActionGetItem:    getItem,
		ActionCountItems: countItems,
	}
	writes = map[Action]writeFunc{
		ActionAddItem:    addItem,
		ActionDeleteItem: deleteItem,
	}
)

// read runs a read, and once more if its connection died before the
// failing statement returned any row and ctx is still live. The second
// error, if any, is returned and names the first.
func (h *Handler) read(ctx context.Context, req Request, run readFunc) (Response, error) {
	var p progress
	db, endpoint := h.readPool()
	resp, err := run(ctx, db, req, &p)
	if err == nil || p.rows > 0 || ctx.Err() != nil || !connectionLost(err) {
		return answeredBy(resp, endpoint), err
	}
	h.readRetries.Add(1)
	p = progress{}
	resp, err2 := run(ctx, db, req, &p)
	if err2 != nil {
		return Response{}, fmt.Errorf("%w (retried once after the connection was lost: %v)", err2, err)
	}
	return answeredBy(resp, endpoint), nil
}

// answeredBy names the endpoint in a successful whoami answer.
func answeredBy(resp Response, endpoint string) Response {
	if resp.Action == ActionWhoAmI {
		resp.Endpoint = endpoint
	}
	return resp
}

// write runs a write on a pinned connection and classifies its failure:
// no connection (nothing sent: run once more if the connection died while
// logging in), a server error (refused, not applied), driver.ErrBadConn (not
// sent, or refused as read-only: run once more on a new connection),
// anything else after the statement may have been sent (ErrOutcomeUnknown).
func (h *Handler) write(ctx context.Context, req Request, run writeFunc) (Response, error) {
	for attempt := 1; ; attempt++ {
		again := attempt == 1 && ctx.Err() == nil
		conn, err := h.db.Conn(ctx)
		if err != nil {
			if again && connectionLost(err) {
				h.writeRetries.Add(1)
				continue
			}
			return Response{}, err // nothing was sent
		}
		resp, err := run(ctx, conn, req)
		conn.Close()
		switch {
		case err == nil:
			return resp, nil
		case isServerError(err):
			return Response{}, err
		case errors.Is(err, driver.ErrBadConn) && again:
			h.writeRetries.Add(1)
			continue
		case errors.Is(err, driver.ErrBadConn):
			return Response{}, err
		}
		h.outcomeUnknown.Add(1)
		return Response{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	}
}

// isServerError reports whether err is the server's answer to the
// statement, which means the statement arrived and was refused.
func isServerError(err error) bool {
	_, ok := errors.AsType[*mysql.MySQLError](err)
	return ok
}

// connectionLost reports whether err says a connection died under the
// request: after the statement was sent, or while logging in (an
// iamdb.ConnectError whose cause is a lost connection, as when a failover
// drops connections mid-handshake). Server errors, refused logins,
// unreachable endpoints and timeouts are not: retrying at once cannot fix
// them, and iamdb.Connector.Connect has its own policy for logins.
func connectionLost(err error) bool {
	if isServerError(err) {
		return false
	}
	return errors.Is(err, iamdb.ErrConnectionLost) ||
		errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}
