package queryfn

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

// Handler serves query requests from one connection pool. It is safe for
// concurrent use; build it once per Lambda container with [New].
type Handler struct {
	db *sql.DB
	// reader, when set, serves the reads (NewWithReader); db the writes.
	reader *sql.DB

	readRetries    atomic.Uint64
	writeRetries   atomic.Uint64
	outcomeUnknown atomic.Uint64
}

// Stats are a Handler's reliability counters since New, for logs and tests.
type Stats struct {
	// ReadRetries counts reads run a second time after their connection
	// died before any row arrived.
	ReadRetries uint64
	// WriteRetries counts writes run a second time because the driver
	// reported that the first was never sent (or was refused by a
	// read-only server after a failover).
	WriteRetries uint64
	// OutcomeUnknown counts writes that failed with ErrOutcomeUnknown.
	OutcomeUnknown uint64
}

// Stats returns a snapshot of h's counters.
func (h *Handler) Stats() Stats {
	if h == nil {
		return Stats{}
	}
	return Stats{
		ReadRetries:    h.readRetries.Load(),
		WriteRetries:   h.writeRetries.Load(),
		OutcomeUnknown: h.outcomeUnknown.Load(),
	}
}

// New returns a Handler that runs requests on db. db should come from
// iamdb.Open, or otherwise scan DATETIME/TIMESTAMP columns into time.Time
// (go-sql-driver/mysql's parseTime). The Handler does not close db.
func New(db *sql.DB) *Handler {
	return &Handler{db: db}
}

// NewWithReader returns a Handler that sends writes to writer and reads
// (whoami included, which then reports "reader") to reader: a pool on the
// cluster's reader endpoint. A nil reader is New(writer). Reads on a reader
// may lag the writer by Aurora's replica lag (usually under 100 ms): an
// add_item followed at once by get_item can miss the new row. The Handler
// closes neither pool.
func NewWithReader(writer, reader *sql.DB) *Handler {
	return &Handler{db: writer, reader: reader}
}

// readPool is where reads go, and the endpoint role whoami reports.
func (h *Handler) readPool() (*sql.DB, string) {
	if h.reader != nil {
		return h.reader, EndpointReader
	}
	return h.db, EndpointWriter
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
// number>): <message>" when the server refused a statement, and as
// "<action>: database: <cause>" otherwise, including a failed login (an
// *iamdb.ConnectError, whose message names the likely cause); both wrap the
// driver's error.
//
// A read whose connection dies before the failing statement returned a row
// is run once more; a write is never sent twice, and fails with [ErrOutcomeUnknown] when its
// connection died after it may have been sent. See retry.go for exactly
// what is retried where.
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
	if read, ok := reads[req.Action]; ok {
		resp, err = h.read(ctx, req, read)
	} else if write, ok := writes[req.Action]; ok {
		resp, err = h.write(ctx, req, write)
	} else {
		// Unreachable after Validate; kept so a new action added to
		// actionParams without an implementation fails loudly.
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
	if errors.Is(err, ErrOutcomeUnknown) {
		return fmt.Errorf("%s: %w", action, err)
	}
	// A failed login is not a refused statement: keep the connector's
	// message, which names the endpoint, the attempts and the likely cause.
	if _, ok := errors.AsType[*iamdb.ConnectError](err); ok {
		return fmt.Errorf("%s: database: %w", action, err)
	}
	if me, ok := errors.AsType[*mysql.MySQLError](err); ok {
		return &dbRefusedError{action: action, mysql: me, err: err}
	}
	return fmt.Errorf("%s: database: %w", action, err)
}
