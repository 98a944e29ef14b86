package queryfn

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"sync"
	"testing"
)

// stubDB is a database/sql driver that answers each SQL text with a canned
// result and records every statement, so handler tests can check exactly
// which SQL ran, with which arguments, on which connection.
type stubDB struct {
	mu         sync.Mutex
	answers    map[string]stubAnswer
	calls      []stubCall
	conns      int
	served     map[string]int // calls per SQL text so far
	connectErr error          // returned by Connect, if set
}

// stubAnswer is the canned reply to one SQL text: rows for a query, a
// result for an exec, or an error for either.
type stubAnswer struct {
	columns      []string
	rows         [][]driver.Value
	lastInsertID int64
	rowsAffected int64
	err          error
	// failFirst > 0 returns err for only the first failFirst calls of
	// this SQL text; later calls succeed.
	failFirst int
	// rowsErr ends the row stream with this error instead of the end of
	// the result, after the rows.
	rowsErr error
}

// stubCall is one statement the driver received.
type stubCall struct {
	conn  int // which physical connection ran it
	query string
	args  []any
}

// openStub returns a *sql.DB backed by a new stubDB. Idle connections are
// not kept, so two statements share a connection only if the code under test
// pinned one.
func openStub(t *testing.T, answers map[string]stubAnswer) (*sql.DB, *stubDB) {
	t.Helper()
	s := &stubDB{answers: answers}
	db := sql.OpenDB(s)
	db.SetMaxIdleConns(0)
	t.Cleanup(func() { db.Close() })
	return db, s
}

func (s *stubDB) recorded() []stubCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]stubCall(nil), s.calls...)
}

// Connect implements driver.Connector.
func (s *stubDB) Connect(context.Context) (driver.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.connectErr != nil {
		return nil, s.connectErr
	}
	s.conns++
	return &stubConn{db: s, id: s.conns}, nil
}

// Driver implements driver.Connector.
func (s *stubDB) Driver() driver.Driver { return stubDriver{} }

type stubDriver struct{}

func (stubDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("stub driver: use sql.OpenDB")
}

type stubConn struct {
	db *stubDB
	id int
}

func (c *stubConn) answer(query string, args []driver.NamedValue) (stubAnswer, error) {
	c.db.mu.Lock()
	defer c.db.mu.Unlock()
	call := stubCall{conn: c.id, query: query}
	for _, a := range args {
		call.args = append(call.args, a.Value)
	}
	c.db.calls = append(c.db.calls, call)
	a, ok := c.db.answers[query]
	if !ok {
		return stubAnswer{}, errors.New("stub: unexpected SQL: " + query)
	}
	if c.db.served == nil {
		c.db.served = map[string]int{}
	}
	c.db.served[query]++
	if a.failFirst > 0 && c.db.served[query] > a.failFirst {
		return a, nil
	}
	return a, a.err
}

func (c *stubConn) QueryContext(_ context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	a, err := c.answer(query, args)
	if err != nil {
		return nil, err
	}
	return &stubRows{columns: a.columns, rows: a.rows, err: a.rowsErr}, nil
}

func (c *stubConn) ExecContext(_ context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	a, err := c.answer(query, args)
	if err != nil {
		return nil, err
	}
	return stubResult{a.lastInsertID, a.rowsAffected}, nil
}

func (c *stubConn) Prepare(string) (driver.Stmt, error) {
	return nil, errors.New("stub: Prepare not supported")
}
func (c *stubConn) Close() error              { return nil }
func (c *stubConn) Begin() (driver.Tx, error) { return nil, errors.New("stub: no transactions") }

type stubRows struct {
	columns []string
	rows    [][]driver.Value
	err     error // ends the stream instead of io.EOF, if set
}

func (r *stubRows) Columns() []string { return r.columns }
func (r *stubRows) Close() error      { return nil }
func (r *stubRows) Next(dest []driver.Value) error {
	if len(r.rows) == 0 {
		if r.err != nil {
			return r.err
		}
		return io.EOF
	}
	copy(dest, r.rows[0])
	r.rows = r.rows[1:]
	return nil
}

type stubResult struct{ id, affected int64 }

func (r stubResult) LastInsertId() (int64, error) { return r.id, nil }
func (r stubResult) RowsAffected() (int64, error) { return r.affected, nil }
