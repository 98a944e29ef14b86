package reliability

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"maps"
	"net"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/lambda/dbuser"
)

// account is what the user provider manages for one user, as the stand-in
// reports it.
type account struct {
	Plugin     string
	RequireSSL bool
	Grants     string // Server.Grants, joined by "; "
}

// userState returns every non-master account by "user@host".
func (e *env) userState(t *testing.T) map[string]account {
	t.Helper()
	users, err := e.srv.Users()
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]account{}
	for _, u := range users {
		if u.Name == e.srv.MasterUser() {
			continue
		}
		state[u.Name+"@"+u.Host] = account{Plugin: u.Plugin, RequireSSL: u.RequireSSL, Grants: strings.Join(e.grants(t, u.Name), "; ")}
	}
	return state
}

// grants returns the stand-in's grants of user@'%'.
func (e *env) grants(t *testing.T, user string) []string {
	t.Helper()
	g, err := e.srv.Grants(user, "%")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestUserResourceDatabaseUnreachable: with the cluster down, Create and
// Update give up after a bounded wait with a clear error, well before the
// function times out; Delete gives up too, but succeeds, so a stack whose
// cluster is gone can still be deleted.
func TestUserResourceDatabaseUnreachable(t *testing.T) {
	e := startEnv(t)
	if err := e.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	withWait := func(secs string) map[string]any {
		p := e.userProps("SELECT")
		p["WaitSeconds"] = secs
		return p
	}
	tests := []struct {
		name    string
		event   dbuser.Event
		timeout time.Duration // the Lambda function's timeout
		wantErr bool
	}{
		{name: "Create, WaitSeconds 1", event: userEvent(dbuser.RequestCreate, withWait("1"), nil), timeout: time.Minute, wantErr: true},
		{name: "Update, WaitSeconds 1", event: userEvent(dbuser.RequestUpdate, withWait("1"), e.userProps("SELECT")), timeout: time.Minute, wantErr: true},
		// No WaitSeconds: the 3-minute default wait is cut to what the
		// 19s function leaves after its reserves (3s to answer, 15s for
		// the statements), so the handler answers in time.
		{name: "Create, wait capped by the function timeout", event: userEvent(dbuser.RequestCreate, e.userProps("SELECT"), nil), timeout: 19 * time.Second, wantErr: true},
		{name: "Delete", event: userEvent(dbuser.RequestDelete, e.userProps("SELECT"), nil), timeout: 19 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each waits about a second for a server that is down
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			h := e.userHandler()
			h.WaitFor = 0 // the handler's own default (3 minutes)
			resp, err := h.Handle(ctx, tt.event)
			if ctx.Err() != nil {
				t.Fatalf("the handler answered only after the function's deadline: %v", err)
			}
			if !tt.wantErr {
				if err != nil || resp.PhysicalResourceID != dbuser.PhysicalID(appUser) {
					t.Fatalf("Delete = %+v, %v; want success", resp, err)
				}
				return
			}
			var ue *dbuser.UnreachableError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v, want *dbuser.UnreachableError", err)
			}
			if ue.Attempts < 2 || ue.Waited >= tt.timeout || !strings.Contains(err.Error(), "not reachable after") ||
				!strings.Contains(err.Error(), e.srv.Addr()[len("127.0.0.1"):]) {
				t.Errorf("error %q: want several attempts within a wait shorter than the %v timeout, naming the address", err, tt.timeout)
			}
			if strings.Contains(err.Error(), e.srv.MasterPassword()) {
				t.Error("error contains the master password")
			}
		})
	}
}

// TestUserResourceEventsIdempotent: CloudFormation may deliver any event
// twice; the second delivery answers the same and leaves the same state.
func TestUserResourceEventsIdempotent(t *testing.T) {
	e := startEnv(t)
	h := e.userHandler()
	v1, v2 := e.userProps("SELECT", "INSERT"), e.userProps("SELECT", "DELETE", "UPDATE")
	events := []dbuser.Event{
		userEvent(dbuser.RequestCreate, v1, nil),
		userEvent(dbuser.RequestUpdate, v2, v1),
		userEvent(dbuser.RequestUpdate, v1, v2), // a rollback
		userEvent(dbuser.RequestDelete, v1, nil),
	}
	for _, ev := range events {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		first, err := h.Handle(ctx, ev)
		if err != nil {
			cancel()
			t.Fatalf("%s: %v", ev.RequestType, err)
		}
		after1 := e.userState(t)
		second, err := h.Handle(ctx, ev)
		cancel()
		if err != nil {
			t.Fatalf("%s delivered again: %v", ev.RequestType, err)
		}
		after2 := e.userState(t)
		if !reflect.DeepEqual(first, second) {
			t.Errorf("%s answered %+v, then %+v", ev.RequestType, first, second)
		}
		if !maps.Equal(after1, after2) {
			t.Errorf("%s again changed the users from %v to %v", ev.RequestType, after1, after2)
		}
		t.Logf("%s twice: %v", ev.RequestType, after2)
	}
	if state := e.userState(t); len(state) != 0 {
		t.Errorf("users left after Delete: %v", state)
	}
}

// TestUserResourceDeleteWhenGone: Delete succeeds, without touching anything,
// when the user, the secret or the whole cluster is already gone.
func TestUserResourceDeleteWhenGone(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env, h *dbuser.Handler, ev *dbuser.Event)
	}{
		{name: "user never created", setup: func(*testing.T, *env, *dbuser.Handler, *dbuser.Event) {}},
		{name: "user already dropped", setup: func(t *testing.T, e *env, h *dbuser.Handler, ev *dbuser.Event) {
			e.createUser(t, "SELECT")
			if _, err := h.Handle(context.Background(), *ev); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "master secret deleted", setup: func(t *testing.T, e *env, h *dbuser.Handler, _ *dbuser.Event) {
			e.createUser(t, "SELECT")
			secrets := e.secrets()
			secrets.Gone = true
			h.Secrets = secrets
		}},
		{name: "cluster endpoint no longer resolves", setup: func(t *testing.T, e *env, h *dbuser.Handler, ev *dbuser.Event) {
			e.createUser(t, "SELECT")
			ev.ResourceProperties["Endpoint"] = "db.cluster-gone.invalid"
			// What the resolver answers for a deleted cluster's name.
			h.Dial = func(_ context.Context, network, addr string) (net.Conn, error) {
				host, _, _ := net.SplitHostPort(addr)
				return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
			}
		}},
		{name: "cluster stopped", setup: func(t *testing.T, e *env, _ *dbuser.Handler, _ *dbuser.Event) {
			e.createUser(t, "SELECT")
			if err := e.srv.Stop(); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "the Create had failed (physical id not ours)", setup: func(t *testing.T, e *env, _ *dbuser.Handler, ev *dbuser.Event) {
			ev.PhysicalResourceID = "RdsIam-DatabaseUser-1A2B3C4D5E6F"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: go-mysql-server keeps state in globals, so
			// stand-ins must not start concurrently.
			e := startEnv(t)
			h := e.userHandler()
			ev := userEvent(dbuser.RequestDelete, e.userProps("SELECT"), nil)
			tt.setup(t, e, h, &ev)
			ctx, cancel := context.WithTimeout(context.Background(), 19*time.Second)
			defer cancel()
			resp, err := h.Handle(ctx, ev)
			if err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if resp.PhysicalResourceID != ev.PhysicalResourceID {
				t.Errorf("Delete answered physical id %q, want %q", resp.PhysicalResourceID, ev.PhysicalResourceID)
			}
		})
	}
}

// TestFailedUpdateKeepsOldUser: an Update that fails part-way (the server
// refuses a statement, or the database goes away between statements)
// leaves the user able to log in with IAM and use every privilege it had
// before; delivering the Update again completes it.
func TestFailedUpdateKeepsOldUser(t *testing.T) {
	refused := &mysql.MySQLError{Number: 1105, Message: "injected failure"}
	tests := []struct {
		name string
		// at is the prefix of the statement the fault hits.
		at string
		// stop makes the database go away before that statement runs;
		// otherwise the statement fails with refused.
		stop bool
	}{
		{name: "GRANT refused", at: "GRANT"},
		{name: "database gone before the GRANT", at: "GRANT", stop: true},
		{name: "REVOKE refused", at: "REVOKE"},
		{name: "database gone before the REVOKE", at: "REVOKE", stop: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startEnv(t)
			e.createUser(t, "SELECT", "INSERT")
			c := e.newContainer(t, nil)
			c.mustInvoke(t, e.srv, `{"action":"add_item","params":{"name":"before"}}`)
			oldGrants := e.grants(t, appUser)

			oldProps, newProps := e.userProps("SELECT", "INSERT"), e.userProps("SELECT", "DELETE", "UPDATE")
			update := userEvent(dbuser.RequestUpdate, newProps, oldProps)
			h := e.userHandler()
			var fired bool
			h.Open = faultyOpen(func(query string) error {
				if fired || !strings.HasPrefix(query, tt.at) {
					return nil
				}
				fired = true
				if tt.stop {
					return e.srv.Stop() // the statement then runs on a dead connection
				}
				return refused
			})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := h.Handle(ctx, update)
			if !fired {
				t.Fatal("the fault never fired; the test proves nothing")
			}
			if err == nil || !strings.Contains(err.Error(), strings.ToLower(tt.at)) {
				t.Fatalf("Update error = %v, want the failed %s step named", err, tt.at)
			}
			if tt.stop {
				if err := e.srv.Restart(); err != nil {
					t.Fatal(err)
				}
			}
			// Every old privilege still holds, and may have company.
			now := e.grants(t, appUser)
			for _, g := range oldGrants {
				if !slices.Contains(now, g) {
					t.Errorf("after the failed Update the user lost %q: it has %v", g, now)
				}
			}
			t.Logf("grants after the failed Update: %v", now)
			// The application still logs in and uses SELECT and INSERT.
			c.mustInvoke(t, e.srv, `{"action":"whoami"}`)
			c.mustInvoke(t, e.srv, `{"action":"add_item","params":{"name":"during"}}`)
			if resp := c.mustInvoke(t, e.srv, `{"action":"list_items"}`); len(resp.Items) != 2 {
				t.Errorf("list_items after the failed Update = %+v", resp.Items)
			}

			// CloudFormation retries or rolls forward: the same Update
			// again completes the change.
			if _, err := e.userHandler().Handle(ctx, update); err != nil {
				t.Fatalf("Update delivered again: %v", err)
			}
			want := []string{"DELETE ON appdb.*", "SELECT ON appdb.*", "UPDATE ON appdb.*"}
			if grants := e.grants(t, appUser); !slices.Equal(grants, want) {
				t.Errorf("grants after the repeated Update = %v, want %v", grants, want)
			}
			c.mustInvoke(t, e.srv, `{"action":"delete_item","params":{"id":1}}`)
		})
	}
}

// faultyOpen is a dbuser.Handler.Open that runs before(query) ahead of
// every statement the handler executes, and fails the statement with its
// error.
func faultyOpen(before func(query string) error) func(context.Context, *mysql.Config) (*sql.DB, error) {
	var mu sync.Mutex
	return func(_ context.Context, cfg *mysql.Config) (*sql.DB, error) {
		inner, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, err
		}
		return sql.OpenDB(&faultConnector{inner: inner, before: func(q string) error {
			mu.Lock()
			defer mu.Unlock()
			return before(q)
		}}), nil
	}
}

// faultConnector wraps the driver's connector so each connection consults
// before.
type faultConnector struct {
	inner  driver.Connector
	before func(query string) error
}

func (f *faultConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := f.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &faultConn{Conn: c, before: f.before}, nil
}

func (f *faultConnector) Driver() driver.Driver { return f.inner.Driver() }

// faultConn forwards to the driver's connection after consulting before.
type faultConn struct {
	driver.Conn
	before func(query string) error
}

func (c *faultConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.before(query); err != nil {
		return nil, err
	}
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}
