package reliability

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// allRequests exercises every action once; add_item comes first so that
// get_item and delete_item find a row.
var allRequests = []string{
	`{"action":"add_item","params":{"name":"after the fault"}}`,
	`{"action":"whoami"}`,
	`{"action":"list_items","params":{"limit":100}}`,
	`{"action":"get_item","params":{"id":1}}`,
	`{"action":"count_items"}`,
	`{"action":"delete_item","params":{"id":1}}`,
}

// TestServerDropsConnections: after the server drops every connection (a
// failover or network blip) or stops and restarts on the same port, the same
// container (same pool, no new Lambda environment) serves every action
// again. While the server is down, invocations fail at once with the cause,
// and nothing is reported as an unknown outcome.
func TestServerDropsConnections(t *testing.T) {
	tests := []struct {
		name  string
		fault func(t *testing.T, e *env, c *container)
	}{
		{name: "DropConnections", fault: func(t *testing.T, e *env, _ *container) {
			if n := e.srv.DropConnections(); n == 0 {
				t.Fatal("DropConnections found no connection to drop; the test proves nothing")
			}
		}},
		{name: "Stop and Restart", fault: func(t *testing.T, e *env, c *container) {
			if err := e.srv.Stop(); err != nil {
				t.Fatal(err)
			}
			for _, req := range []string{`{"action":"count_items"}`, `{"action":"add_item","params":{"name":"while down"}}`} {
				_, err := c.invoke(req)
				if err == nil {
					t.Fatalf("%s succeeded while the server was stopped", req)
				}
				if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, queryfn.ErrOutcomeUnknown) {
					t.Errorf("%s while stopped: %v; want an immediate connection error", req, err)
				}
				if !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "nothing accepts connections") {
					t.Errorf("%s while stopped: %v; want connection refused with its hint", req, err)
				}
			}
			if err := e.srv.Restart(); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startEnv(t)
			e.createUser(t, "SELECT", "INSERT", "DELETE")
			c := e.newContainer(t, nil)
			// Two idle connections in the pool, both about to die.
			first, err := c.db.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			c.mustInvoke(t, e.srv, `{"action":"whoami"}`)
			first.Close()
			before := c.conn.Stats()

			tt.fault(t, e, c)

			for _, req := range allRequests {
				c.mustInvoke(t, e.srv, req)
			}
			after := c.conn.Stats()
			if after.ConnectAttempts == before.ConnectAttempts {
				t.Error("no new connection was opened; the dead ones cannot have served")
			}
			if q := c.h.Stats(); q.OutcomeUnknown != 0 {
				t.Errorf("handler stats %+v: a write was reported unknown although nothing was in flight", q)
			}
		})
	}
}

// TestInFlightReadRetriedOnce: a read whose connection dies after the
// statement was sent and before any row came back is run once more, on a
// fresh connection, and succeeds.
func TestInFlightReadRetriedOnce(t *testing.T) {
	e := startEnv(t)
	e.createUser(t, "SELECT", "INSERT")
	cut := &cutter{}
	c := e.newContainer(t, func(cfg *iamdb.Config) { cfg.Dial = cut.dial })
	c.mustInvoke(t, e.srv, `{"action":"add_item","params":{"name":"one"}}`)

	tests := []struct {
		request string
		check   func(queryfn.Response) bool
	}{
		{`{"action":"whoami"}`, func(r queryfn.Response) bool { return r.User == appUser+"@%" && r.TLSCipher != "" }},
		{`{"action":"list_items"}`, func(r queryfn.Response) bool { return len(r.Items) == 1 && r.Items[0].Name == "one" }},
		{`{"action":"get_item","params":{"id":1}}`, func(r queryfn.Response) bool { return r.Item != nil && r.Item.Name == "one" }},
		{`{"action":"count_items"}`, func(r queryfn.Response) bool { return r.Count != nil && *r.Count == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.request, func(t *testing.T) {
			c.mustInvoke(t, e.srv, `{"action":"count_items"}`) // an idle, logged-in connection
			retries, cuts, attempts := c.h.Stats().ReadRetries, cut.cutCount(), c.conn.Stats().ConnectAttempts
			cut.arm(1) // cut right after the statement is sent
			resp := c.mustInvoke(t, e.srv, tt.request)
			if cut.cutCount() != cuts+1 {
				t.Fatal("the connection was not cut; the test proves nothing")
			}
			if !tt.check(resp) {
				t.Errorf("response %+v is wrong", resp)
			}
			if got := c.h.Stats().ReadRetries - retries; got != 1 {
				t.Errorf("%d read retries, want 1", got)
			}
			if got := c.conn.Stats().ConnectAttempts - attempts; got != 1 {
				t.Errorf("%d new connections, want 1 for the retry", got)
			}
		})
	}
}

// TestInFlightWriteNotRepeated: a write whose connection dies after it was
// sent is not sent again; the caller learns that its outcome is unknown,
// and the table shows it applied at most once.
func TestInFlightWriteNotRepeated(t *testing.T) {
	tests := []struct {
		name      string
		request   string
		cutAfter  int // writes to let through: 1 = the statement (iamdb interpolates arguments, so one packet)
		maxChange int // the most the row count may move
	}{
		{name: "add_item cut after it was sent", request: `{"action":"add_item","params":{"name":"maybe"}}`, cutAfter: 1, maxChange: 1},
		{name: "delete_item cut after it was sent", request: `{"action":"delete_item","params":{"id":1}}`, cutAfter: 1, maxChange: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startEnv(t)
			e.createUser(t, "SELECT", "INSERT", "DELETE")
			cut := &cutter{}
			c := e.newContainer(t, func(cfg *iamdb.Config) { cfg.Dial = cut.dial })
			c.mustInvoke(t, e.srv, `{"action":"add_item","params":{"name":"seed"}}`)
			before := e.itemCount(t)
			attempts := c.conn.Stats().ConnectAttempts

			cut.arm(tt.cutAfter)
			_, err := c.invoke(tt.request)
			if cut.cutCount() != 1 {
				t.Fatal("the connection was not cut; the test proves nothing")
			}
			if !errors.Is(err, queryfn.ErrOutcomeUnknown) || !strings.Contains(err.Error(), "may or may not have been applied") {
				t.Fatalf("error %v, want ErrOutcomeUnknown", err)
			}
			if s := c.h.Stats(); s.OutcomeUnknown != 1 || s.WriteRetries != 0 {
				t.Errorf("handler stats %+v, want one unknown outcome and no retry", s)
			}
			if got := c.conn.Stats().ConnectAttempts; got != attempts {
				t.Errorf("%d new connections after the cut; the write must not be re-sent", got-attempts)
			}
			change := abs(e.itemCount(t) - before)
			t.Logf("rows changed by the cut write: %d", change)
			if change > tt.maxChange {
				t.Errorf("row count moved by %d, at most %d allowed: the write was applied more than once", change, tt.maxChange)
			}

			// The container recovers: the next write opens a fresh
			// connection and is applied exactly once.
			now := e.itemCount(t)
			c.mustInvoke(t, e.srv, `{"action":"add_item","params":{"name":"next"}}`)
			if got := e.itemCount(t); got != now+1 {
				t.Errorf("next add_item changed the count from %d to %d", now, got)
			}
		})
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
