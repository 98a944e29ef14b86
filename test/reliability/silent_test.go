package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// silentReadTimeout is shorter than production's iamdb.DefaultReadTimeout so
// the tests are quick, but long enough that the healthy connection opened
// after the stall never goes quiet that long on a loaded 2-core machine
// (at 300 ms it did, once: ReadTimeouts 2). The stalled ones are silent
// for good, so any value shows the behaviour.
const silentReadTimeout = 2 * time.Second

// TestSilentConnections: after a failover that black-holes the open
// connections (the server neither answers nor resets them), a read is
// noticed after ReadTimeout and run once more on a new connection; the
// pool's other stale connection is retired rather than tried; a write is
// not sent again and reports its outcome unknown. Without ReadTimeout each
// of these would hang until the invocation's deadline.
func TestSilentConnections(t *testing.T) {
	tests := []struct {
		name    string
		request string
		check   func(t *testing.T, resp queryfn.Response, err error, c *container)
	}{
		{name: "read runs again on a new connection", request: `{"action":"get_item","params":{"id":1}}`,
			check: func(t *testing.T, resp queryfn.Response, err error, c *container) {
				if err != nil {
					t.Fatalf("get_item after the stall: %v", err)
				}
				if resp.Item == nil || resp.Item.Name != "seed" {
					t.Errorf("response %+v, want the seeded item", resp)
				}
				if got := c.h.Stats().ReadRetries; got != 1 {
					t.Errorf("%d read retries, want 1", got)
				}
			}},
		{name: "whoami runs again on a new connection", request: `{"action":"whoami"}`,
			check: func(t *testing.T, resp queryfn.Response, err error, c *container) {
				if err != nil {
					t.Fatalf("whoami after the stall: %v", err)
				}
				if resp.User != appUser+"@%" || resp.TLSCipher == "" {
					t.Errorf("response %+v, want the IAM user over TLS", resp)
				}
			}},
		{name: "write is not sent again", request: `{"action":"add_item","params":{"name":"maybe"}}`,
			check: func(t *testing.T, _ queryfn.Response, err error, c *container) {
				if !errors.Is(err, queryfn.ErrOutcomeUnknown) || !strings.Contains(err.Error(), "may or may not have been applied") {
					t.Fatalf("add_item on a silent connection: %v, want ErrOutcomeUnknown", err)
				}
				if s := c.h.Stats(); s.OutcomeUnknown != 1 || s.WriteRetries != 0 {
					t.Errorf("handler stats %+v, want one unknown outcome and no retry", s)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startEnv(t)
			e.createUser(t, "SELECT", "INSERT")
			c := e.newContainer(t, func(cfg *iamdb.Config) {
				cfg.ReadTimeout = silentReadTimeout
				cfg.MaxOpenConns, cfg.MaxIdleConns = 2, 2
			})
			c.mustInvoke(t, e.srv, `{"action":"add_item","params":{"name":"seed"}}`)
			// Two idle, logged-in connections, both about to go silent.
			held, err := c.db.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			c.mustInvoke(t, e.srv, `{"action":"count_items"}`)
			held.Close()
			if n := c.db.Stats().Idle; n != 2 {
				t.Fatalf("%d idle connections before the stall, want 2", n)
			}
			attempts := c.conn.Stats().ConnectAttempts
			if n := e.srv.StallConnections(); n < 2 {
				t.Fatalf("StallConnections stalled %d connections, want the pool's 2", n)
			}

			start := time.Now()
			resp, err := c.invoke(tt.request)
			took := time.Since(start)
			tt.check(t, resp, err, c)

			if took < silentReadTimeout {
				t.Errorf("answered after %s, before ReadTimeout (%s): the silent connection was not tried", took, silentReadTimeout)
			}
			// One wait for a silent connection, not one per stale
			// connection.
			if got := c.conn.Stats().ReadTimeouts; got != 1 {
				t.Errorf("Stats().ReadTimeouts = %d, want 1 (the other stale connection retired, not tried)", got)
			}
			// The container serves again without a restart.
			c.mustInvoke(t, e.srv, `{"action":"count_items"}`)
			if c.conn.Stats().ConnectAttempts == attempts {
				t.Error("no new connection was opened; the silent ones cannot have served")
			}
		})
	}
}

// TestSilentConnectionNamedInError: through the Lambda's own container
// (environment, logging), a write lost on a silent connection says what
// happened and which variable sets the wait, since the driver's own
// words are only "invalid connection"; the log line counts it.
func TestSilentConnectionNamedInError(t *testing.T) {
	e := startEnv(t)
	e.createUser(t, "SELECT", "INSERT")
	t.Setenv("AWS_ACCESS_KEY_ID", testAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", testRegion)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	environment := e.functionEnvironment()
	environment[queryfn.EnvReadTimeoutSeconds] = "1"
	var logs bytes.Buffer
	handle, err := queryfn.NewContainer(t.Context(), queryfn.ContainerOptions{
		Getenv:  func(k string) string { return environment[k] },
		Logger:  slog.New(slog.NewJSONHandler(&logs, nil)),
		RootCAs: e.srv.CAPool(),
	})
	if err != nil {
		t.Fatal(err)
	}
	invoke := func(req string) error {
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		defer cancel()
		_, err := handle(ctx, json.RawMessage(req))
		return err
	}
	if err := invoke(`{"action":"count_items"}`); err != nil {
		t.Fatalf("count_items: %v (server's last refusal: %v)", err, e.srv.LastAuthError())
	}
	if e.srv.StallConnections() == 0 {
		t.Fatal("no connection to stall; the test proves nothing")
	}
	err = invoke(`{"action":"add_item","params":{"name":"maybe"}}`)
	if !errors.Is(err, queryfn.ErrOutcomeUnknown) {
		t.Fatalf("add_item on a silent connection: %v, want ErrOutcomeUnknown", err)
	}
	if want := "the database sent nothing for 1s: connection silent past ReadTimeout, closed as lost: invalid connection (set by DB_READ_TIMEOUT_SECONDS=1)"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if !strings.Contains(logs.String(), `"read_timeouts":1`) {
		t.Errorf("log does not count the silent connection: %s", logs.String())
	}
	if err := invoke(`{"action":"count_items"}`); err != nil {
		t.Errorf("count_items after the silent connection: %v", err)
	}
}
