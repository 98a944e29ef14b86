package dbuser

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"sync"

	"github.com/go-sql-driver/mysql"
)

// fakeDB is a database/sql connector that records statements instead of
// talking to MySQL. It lets the handler's flow be tested end to end; the
// real-database tests run against a local MySQL stand-in elsewhere.
type fakeDB struct {
	mu          sync.Mutex
	connectErrs []error          // returned by successive Connect calls, then success
	failOn      map[string]error // statement prefix -> error to return
	cfg         *mysql.Config    // what Handler.Open was given
	connects    int
	execs       []string
	execConn    []int // which connection ran each statement

	// A small model of the server, enough for the handler's read-backs:
	// accounts at '%' (CREATE/DROP USER), their grants per level
	// (GRANT/REVOKE), extra SHOW GRANTS lines a test adds (roles, drift),
	// other-host accounts and the registry (claim/release with arguments).
	accounts   map[string]bool
	grants     map[string]map[string][]string // user -> level -> privileges
	extraLines map[string][]string
	otherHosts map[string][]string
	registry   map[string]fakeRecord
}

type fakeRecord struct {
	owner   string
	adopted bool
}

// open is a Handler.Open that records cfg and serves connections from f.
func (f *fakeDB) open(_ context.Context, cfg *mysql.Config) (*sql.DB, error) {
	f.mu.Lock()
	f.cfg = cfg
	f.mu.Unlock()
	return sql.OpenDB(f), nil
}

func (f *fakeDB) Connect(context.Context) (driver.Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connects++
	if len(f.connectErrs) > 0 {
		err := f.connectErrs[0]
		f.connectErrs = f.connectErrs[1:]
		return nil, err
	}
	return &fakeConn{db: f, id: f.connects}, nil
}

func (f *fakeDB) Driver() driver.Driver { return fakeDriver{} }

// statements returns the statements executed, without the registry's
// bookkeeping (see registryStatements).
func (f *fakeDB) statements() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, q := range f.execs {
		if !strings.Contains(q, "`rdsiam`") {
			out = append(out, q)
		}
	}
	return out
}

// all returns every statement executed, registry bookkeeping included.
func (f *fakeDB) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.execs...)
}

type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) { return nil, errors.New("use the connector") }

type fakeConn struct {
	db *fakeDB
	id int
}

func (c *fakeConn) ExecContext(_ context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.db.mu.Lock()
	defer c.db.mu.Unlock()
	c.db.execs = append(c.db.execs, query)
	c.db.execConn = append(c.db.execConn, c.id)
	for prefix, err := range c.db.failOn {
		if strings.HasPrefix(query, prefix) {
			return nil, err
		}
	}
	c.db.apply(query, args)
	return driver.RowsAffected(0), nil
}

func (c *fakeConn) QueryContext(_ context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.db.mu.Lock()
	defer c.db.mu.Unlock()
	return c.db.answer(query, args)
}

func (c *fakeConn) Prepare(string) (driver.Stmt, error) {
	return nil, errors.New("fake: prepared statements are not expected")
}
func (c *fakeConn) Close() error              { return nil }
func (c *fakeConn) Begin() (driver.Tx, error) { return nil, errors.New("fake: no transactions") }

// fakeSecrets is a SecretSource with a canned answer that counts its
// calls. internal/standin.Secrets is the fake every other package shares;
// it imports this package, so these in-package tests cannot use it.
type fakeSecrets struct {
	secret MasterSecret
	err    error
	calls  int
}

func (f *fakeSecrets) MasterSecret(context.Context, string) (MasterSecret, error) {
	f.calls++
	return f.secret, f.err
}

func masterSecret() MasterSecret {
	return MasterSecret{Username: "dbmaster", Password: testPassword, Host: "db.example.com", Port: 3306}
}
