package queryfn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
)

const (
	testSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testSession = "IQoJb3JpZ2luX2VjEXAMPLESESSION"
)

// isolateAWS points the AWS SDK at fake environment credentials and away
// from any real configuration on the machine, so tests cannot reach AWS.
func isolateAWS(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_SESSION_TOKEN", testSession)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func TestNewContainer(t *testing.T) {
	isolateAWS(t)
	port := strconv.Itoa(closedPort(t))
	valid := map[string]string{
		"DB_ENDPOINT": "127.0.0.1",
		"DB_PORT":     port,
		"DB_USER":     "app_user",
		"DB_NAME":     "app",
		"DB_REGION":   "eu-west-1",
	}
	tests := []struct {
		name    string
		unset   string
		set     map[string]string
		wantErr string
	}{
		{name: "valid"},
		{name: "valid with connection knobs", set: map[string]string{"DB_MAX_CONNS": "1", "DB_MAX_NEW_CONNS_PER_SECOND": "5", "DB_ACCESS_DENIED_RETRY_SECONDS": "0"}},
		{name: "missing endpoint", unset: "DB_ENDPOINT", wantErr: "DB_ENDPOINT is not set"},
		{name: "missing region", unset: "DB_REGION", wantErr: "DB_REGION is not set"},
		{name: "bad rate limit", set: map[string]string{"DB_MAX_NEW_CONNS_PER_SECOND": "1000"}, wantErr: `DB_MAX_NEW_CONNS_PER_SECOND="1000"`},
		{name: "bad reader endpoint", set: map[string]string{EnvReaderEndpoint: "db:3306"}, wantErr: EnvReaderEndpoint + `="db:3306"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == tt.unset {
					return ""
				}
				if v, ok := tt.set[k]; ok {
					return v
				}
				return valid[k]
			}
			var logs, metrics bytes.Buffer
			h, err := NewContainer(context.Background(), ContainerOptions{Getenv: getenv, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: &metrics})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewContainer error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewContainer: %v", err)
			}

			// A bad request is refused before any connection is tried.
			_, err = h(context.Background(), json.RawMessage(`{"action":"nope"}`))
			if !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("invalid request: error = %v, want ErrInvalidRequest", err)
			}

			// A valid request signs a token and dials the (closed) port:
			// the error names the endpoint, and neither it nor the log
			// holds the token or the credentials.
			_, err = h(context.Background(), json.RawMessage(`{"action":"count_items"}`))
			if err == nil || !strings.Contains(err.Error(), "iamdb: connect to 127.0.0.1:"+port) {
				t.Fatalf("count_items against a closed port: error = %v, want a connect error", err)
			}
			out := logs.String() + err.Error()
			for _, secret := range []string{testSecret, testSession, "X-Amz-Signature", "X-Amz-Credential"} {
				if strings.Contains(out, secret) {
					t.Errorf("log or error contains %q:\n%s", secret, out)
				}
			}
			if !strings.Contains(logs.String(), `"msg":"request failed"`) || !strings.Contains(logs.String(), `"tokens_signed":1`) {
				t.Errorf("failed request was not logged with connector stats:\n%s", logs.String())
			}

			// The metric lines: none for the refused request, one
			// per request that touched connections, each with the
			// counts since the line before (the second request
			// reuses the first one's token).
			_, _ = h(context.Background(), json.RawMessage(`{"action":"count_items"}`))
			lines := strings.Split(strings.TrimSuffix(metrics.String(), "\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("%d metric lines, want 2:\n%s", len(lines), metrics.String())
			}
			for i, want := range []map[string]float64{
				{"TokensSigned": 1, "LoginFailures": 1},
				{"TokensReused": 1, "LoginFailures": 1},
			} {
				var got map[string]any
				if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				for k, v := range want {
					if got[k] != v {
						t.Errorf("line %d: %s = %v, want %v\n%s", i, k, got[k], v, lines[i])
					}
				}
				for _, absent := range []string{"TokensSigned", "TokensReused"} {
					if _, ok := want[absent]; !ok && got[absent] != nil {
						t.Errorf("line %d carries %s = %v, a count from before it", i, absent, got[absent])
					}
				}
			}
		})
	}
}
