package queryfn

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"
)

// Handler serves query requests from one connection pool. It is safe for
// concurrent use; build it once per Lambda container with [New].
type Handler struct {
	db *sql.DB
}

// New returns a Handler that runs requests on db. db should come from
// iamdb.Open, or otherwise scan DATETIME/TIMESTAMP columns into time.Time
// (go-sql-driver/mysql's parseTime). The Handler does not close db.
func New(db *sql.DB) *Handler {
	return &Handler{db: db}
}

// Handle is the Lambda handler: it parses raw with [ParseRequest] and runs
// the request with [Handler.Do]. A malformed request returns an error
// wrapping [ErrInvalidRequest] without touching the database.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (Response, error) {
	req, err := ParseRequest(raw)
	if err != nil {
		return Response{}, err
	}
	return h.Do(ctx, req)
}

// Do runs one request and returns its response. It validates req first, so
// a hand-built Request gets the same checks as a parsed one. Database
// failures are returned as "<action>: database refused (<MySQL error
// number>): <message>" when the server answered with an error, and as
// "<action>: database: <cause>" otherwise; both wrap the driver's error.
func (h *Handler) Do(ctx context.Context, req Request) (Response, error) {
	if err := req.Validate(); err != nil {
		return Response{}, err
	}
	if h == nil || h.db == nil {
		return Response{}, fmt.Errorf("%s: handler has no database; build it with queryfn.New(db)", req.Action)
	}
	var (
		resp Response
		err  error
	)
	switch req.Action {
	case ActionWhoAmI:
		resp, err = whoAmI(ctx, h.db)
	case ActionListItems:
		resp, err = listItems(ctx, h.db, req.Limit)
	case ActionGetItem:
		resp, err = getItem(ctx, h.db, req.ID)
	case ActionCountItems:
		resp, err = countItems(ctx, h.db)
	case ActionAddItem:
		resp, err = addItem(ctx, h.db, req.Name)
	case ActionDeleteItem:
		resp, err = deleteItem(ctx, h.db, req.ID)
	default:
		// Unreachable after Validate; kept so a new action added to
		// actionParams without a case here fails loudly.
		return Response{}, fmt.Errorf("%s: action has no implementation", req.Action)
	}
	if err != nil {
		return Response{}, databaseError(req.Action, err)
	}
	return resp, nil
}

// dbRefusedError is a MySQL server error for one action, phrased for the
// Lambda's errorMessage.
type dbRefusedError struct {
	action Action
	mysql  *mysql.MySQLError
	err    error // the full chain, for errors.Is/As
}

func (e *dbRefusedError) Error() string {
	return fmt.Sprintf("%s: database refused (%d): %s", e.action, e.mysql.Number, e.mysql.Message)
}

func (e *dbRefusedError) Unwrap() error { return e.err }

// databaseError adds the action, and the MySQL error number when there is
// one, to an error from the database.
func databaseError(action Action, err error) error {
	if me, ok := errors.AsType[*mysql.MySQLError](err); ok {
		return &dbRefusedError{action: action, mysql: me, err: err}
	}
	return fmt.Errorf("%s: database: %w", action, err)
}
