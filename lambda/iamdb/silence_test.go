package iamdb

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// One connection going silent retires the pool's other connections, so the
// next statement logs in anew instead of waiting ReadTimeout on each stale
// connection in turn.
func TestSilentConnectionRetiresOlderConnections(t *testing.T) {
	conn, srv, _ := newTestConnector(t, nil, func(c *Config) {
		c.ReadTimeout = 200 * time.Millisecond
		c.MaxOpenConns, c.MaxIdleConns = 2, 2
	})
	db := conn.OpenDB()
	defer db.Close()
	ctx := context.Background()

	// Two pooled connections, both idle.
	c1, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c1.Close()
	c2.Close()
	if n := len(srv.seen()); n != 2 {
		t.Fatalf("server saw %d logins, want 2", n)
	}

	srv.stallOpenSessions()
	start := time.Now()
	err = db.PingContext(ctx)
	if !errors.Is(err, mysql.ErrInvalidConn) || !errors.Is(err, ErrSilentConnection) || !strings.Contains(err.Error(), "sent nothing for 200ms") {
		t.Fatalf("ping on a silent connection: %v, want ErrSilentConnection naming ReadTimeout, with mysql.ErrInvalidConn", err)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Fatalf("ping failed after %s, before ReadTimeout (200ms): not a timeout", waited)
	}
	if got := conn.Stats().ReadTimeouts; got != 1 {
		t.Fatalf("Stats().ReadTimeouts = %d, want 1", got)
	}

	// The other idle connection is just as silent; it must not be used.
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		t.Fatalf("ping after the silent connection: %v, want a new connection to answer", err)
	}
	if n := len(srv.seen()); n != 3 {
		t.Errorf("server saw %d logins, want 3 (the retired idle connection replaced by a new login)", n)
	}
	if got := conn.Stats().ReadTimeouts; got != 1 {
		t.Errorf("Stats().ReadTimeouts = %d after the second ping, want still 1", got)
	}
}

// conn must offer database/sql every optional interface the driver's own
// connection has, or wrapping would quietly change how statements run. The
// legacy Execer and Queryer are superseded by their Context versions, which
// database/sql prefers.
func TestConnForwards(t *testing.T) {
	connector, _, _ := newTestConnector(t, nil, nil)
	dc, err := connector.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	wrapped, ok := dc.(*conn)
	if !ok {
		t.Fatalf("Connect returned %T, want *conn", dc)
	}
	checks := map[string]func(any) bool{
		"ExecerContext":      func(v any) bool { _, ok := v.(driver.ExecerContext); return ok },
		"QueryerContext":     func(v any) bool { _, ok := v.(driver.QueryerContext); return ok },
		"ConnBeginTx":        func(v any) bool { _, ok := v.(driver.ConnBeginTx); return ok },
		"ConnPrepareContext": func(v any) bool { _, ok := v.(driver.ConnPrepareContext); return ok },
		"Pinger":             func(v any) bool { _, ok := v.(driver.Pinger); return ok },
		"NamedValueChecker":  func(v any) bool { _, ok := v.(driver.NamedValueChecker); return ok },
		"SessionResetter":    func(v any) bool { _, ok := v.(driver.SessionResetter); return ok },
		"Validator":          func(v any) bool { _, ok := v.(driver.Validator); return ok },
	}
	for name, implements := range checks {
		if implements(wrapped.mysqlConn) && !implements(wrapped) {
			t.Errorf("the driver's connection implements driver.%s; the wrapper does not", name)
		}
	}
}
