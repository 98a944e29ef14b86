package dbuser

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	usersql "github.com/rdsiam/rdsiam/bootstrap-sql"
)

const testResponseURL = "https://cloudformation-custom-resource-response.s3.amazonaws.com/x?X-Amz-Signature=SIGNATURE-0123abcd"

// harness is a Handler wired to fakes, logging JSON into logs.
type harness struct {
	h       *Handler
	db      *fakeDB
	secrets *fakeSecrets
	logs    *bytes.Buffer
}

func newHarness() *harness {
	var logs bytes.Buffer
	db := &fakeDB{}
	secrets := &fakeSecrets{secret: masterSecret()}
	return &harness{
		h: &Handler{
			Secrets:     secrets,
			RootCAs:     x509.NewCertPool(),
			WaitFor:     time.Second,
			Logger:      slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Open:        db.open,
			backoffBase: time.Millisecond,
		},
		db: db, secrets: secrets, logs: &logs,
	}
}

func event(requestType string, props map[string]any) Event {
	return Event{
		RequestType:        requestType,
		ServiceToken:       "arn:aws:lambda:eu-west-1:123456789012:function:provider",
		ResponseURL:        testResponseURL,
		StackID:            "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1",
		RequestID:          "req-1",
		LogicalResourceID:  "DatabaseUser",
		ResourceType:       "Custom::DatabaseUser",
		ResourceProperties: props,
	}
}

func mustSpec(t *testing.T, props map[string]any) usersql.Spec {
	t.Helper()
	p, err := ParseProperties(props)
	if err != nil {
		t.Fatal(err)
	}
	return p.Spec
}

// sqlTexts returns the SQL of a plan; plans in these tests come from valid
// specs, so err is always nil and a non-nil err is reported as a bad plan.
func sqlTexts(stmts []usersql.Statement, err error) []string {
	if err != nil {
		return []string{"plan error: " + err.Error()}
	}
	var out []string
	for _, s := range stmts {
		out = append(out, s.SQL)
	}
	return out
}

func TestCreate(t *testing.T) {
	hn := newHarness()
	props := goodProps()
	resp, err := hn.h.Handle(context.Background(), event(RequestCreate, props))
	if err != nil {
		t.Fatal(err)
	}
	spec := mustSpec(t, props)
	if want := "dbuser:" + spec.User; resp.PhysicalResourceID != want {
		t.Errorf("PhysicalResourceId = %q, want %q", resp.PhysicalResourceID, want)
	}
	if resp.Data["UserName"] != spec.User || resp.Data["DatabaseName"] != spec.Database || len(resp.Data) != 2 {
		t.Errorf("Data = %v", resp.Data)
	}
	if got, want := hn.db.statements(), sqlTexts(usersql.Create(spec)); !slices.Equal(got, want) {
		t.Errorf("executed\n%q\nwant\n%q", got, want)
	}
	if hn.db.connects != 1 || slices.ContainsFunc(hn.db.execConn, func(id int) bool { return id != 1 }) {
		t.Errorf("want every statement on one connection; connects=%d, per statement %v", hn.db.connects, hn.db.execConn)
	}
}

// The driver configuration logs in as the master user over verified TLS.
func TestCreateConnectionConfig(t *testing.T) {
	tests := []struct {
		name  string
		roots *x509.CertPool
	}{
		{"given roots", x509.NewCertPool()},
		{"default RDS bundle", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hn := newHarness()
			hn.h.RootCAs = tt.roots
			props := with(goodProps(), "Port", "3310")
			if _, err := hn.h.Handle(context.Background(), event(RequestCreate, props)); err != nil {
				t.Fatal(err)
			}
			cfg := hn.db.cfg
			endpoint := props["Endpoint"].(string)
			if cfg.User != "dbmaster" || cfg.Passwd != testPassword || cfg.Net != "tcp" || cfg.Addr != endpoint+":3310" {
				t.Errorf("login: user %q net %q addr %q", cfg.User, cfg.Net, cfg.Addr)
			}
			if cfg.TLS == nil {
				t.Fatal("TLS is off")
			}
			if cfg.TLS.InsecureSkipVerify || cfg.TLS.ServerName != endpoint || cfg.TLS.MinVersion < tls.VersionTLS12 {
				t.Errorf("TLS: skip=%v serverName=%q min=%x", cfg.TLS.InsecureSkipVerify, cfg.TLS.ServerName, cfg.TLS.MinVersion)
			}
			if tt.roots != nil && cfg.TLS.RootCAs != tt.roots {
				t.Error("TLS does not use Handler.RootCAs")
			}
			if cfg.TLS.RootCAs == nil {
				t.Error("TLS has no roots: it would trust the system store instead of the RDS CAs")
			}
			if cfg.AllowFallbackToPlaintext || cfg.AllowCleartextPasswords || !cfg.AllowNativePasswords || cfg.MultiStatements {
				t.Errorf("fallback=%v cleartext=%v native=%v multi=%v", cfg.AllowFallbackToPlaintext,
					cfg.AllowCleartextPasswords, cfg.AllowNativePasswords, cfg.MultiStatements)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	base := goodProps()
	tests := []struct {
		name   string
		old    map[string]any
		new    map[string]any
		wantID string
	}{
		{"privilege added", base, with(base, "Privileges", []any{"SELECT", "INSERT", "UPDATE"}), "dbuser:app_user"},
		{"privilege removed", base, with(base, "Privileges", []any{"SELECT"}), "dbuser:app_user"},
		{"database changed", base, with(base, "DatabaseName", "otherdb"), "dbuser:app_user"},
		{"user renamed", base, with(base, "UserName", "new_user"), "dbuser:new_user"},
		// (the fake then stands for the new cluster, where the account is
		// not seeded below)
		{"cluster changed", base, with(base, "Endpoint", "new.cluster-x.eu-west-1.rds.amazonaws.com"), "dbuser:app_user"},
		{"old properties invalid", with(base, "DatabaseName", "select"), base, "dbuser:app_user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hn := newHarness()
			// The account this resource made earlier, holding the old
			// grants, as an rdsiam version before the registry left it.
			if tt.new["Endpoint"] == tt.old["Endpoint"] {
				hn.db.seedAccount("app_user", "`appdb`.*", "INSERT", "SELECT")
			}
			ev := event(RequestUpdate, tt.new)
			ev.OldResourceProperties = tt.old
			ev.PhysicalResourceID = "dbuser:app_user"
			resp, err := hn.h.Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.PhysicalResourceID != tt.wantID {
				t.Errorf("PhysicalResourceId = %q, want %q", resp.PhysicalResourceID, tt.wantID)
			}
			cur, err := ParseProperties(tt.new)
			if err != nil {
				t.Fatal(err)
			}
			want := sqlTexts(usersql.Update(oldSpec(tt.old, cur), cur.Spec))
			if got := hn.db.statements(); !slices.Equal(got, want) {
				t.Errorf("executed\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// The cases where the Update falls back to a full Create really do.
func TestUpdateFallsBackToCreate(t *testing.T) {
	base := goodProps()
	for _, newProps := range []map[string]any{
		with(base, "UserName", "new_user"),
		with(base, "Endpoint", "new.cluster-x.eu-west-1.rds.amazonaws.com"),
	} {
		hn := newHarness()
		ev := event(RequestUpdate, newProps)
		ev.OldResourceProperties = base
		if _, err := hn.h.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if got, want := hn.db.statements(), sqlTexts(usersql.Create(mustSpec(t, newProps))); !slices.Equal(got, want) {
			t.Errorf("executed\n%q\nwant Create's\n%q", got, want)
		}
	}
}

func TestDelete(t *testing.T) {
	dnsGone := func(context.Context, string, string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "db", IsNotFound: true}}
	}
	refused := func(context.Context, string, string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	tests := []struct {
		name        string
		id          string
		props       map[string]any
		setup       func(hn *harness)
		wantErr     string // "" means success
		wantSecrets int    // master secret reads
		wantSQL     bool   // DROP USER executed
		wantLog     string // text the logs must contain
	}{
		{name: "drops the user", wantSecrets: 1, wantSQL: true},
		{name: "failed Create: not our id, nothing recorded", id: "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED",
			wantSecrets: 1, wantLog: "not made by this handler"},
		{name: "retain", props: with(goodProps(), "RetainOnDelete", "true"), wantLog: "RetainOnDelete"},
		{name: "properties invalid", props: with(goodProps(), "UserName", "root"), wantLog: "do not validate"},
		{name: "invalid user in id", id: "dbuser:x;y", wantLog: "not valid"},
		{name: "secret gone", setup: func(hn *harness) {
			hn.secrets.err = fmt.Errorf("read: %w", ErrSecretNotFound)
		}, wantSecrets: 1, wantLog: "master secret no longer exists"},
		{name: "secret unreadable", setup: func(hn *harness) {
			hn.secrets.err = errors.New("AccessDeniedException")
		}, wantSecrets: 1, wantErr: "AccessDeniedException"},
		{name: "user is the master", setup: func(hn *harness) {
			hn.secrets.secret.Username = "APP_USER"
		}, wantSecrets: 1, wantLog: "refusing to drop"},
		{name: "host does not resolve", setup: func(hn *harness) {
			hn.h.Open, hn.h.Dial = nil, dnsGone
		}, wantSecrets: 1, wantLog: "does not resolve"},
		{name: "database unreachable", setup: func(hn *harness) {
			hn.h.Open, hn.h.Dial, hn.h.WaitFor = nil, refused, 20*time.Millisecond
		}, wantSecrets: 1, wantLog: "may remain"},
		{name: "login refused", setup: func(hn *harness) {
			hn.db.connectErrs = []error{&mysql.MySQLError{Number: 1045, Message: "Access denied for user 'dbmaster'"}}
		}, wantSecrets: 1, wantErr: "Access denied"},
		{name: "DROP fails", setup: func(hn *harness) {
			hn.db.failOn = map[string]error{"DROP USER": &mysql.MySQLError{Number: 4006, Message: "user is a definer"}}
		}, wantSecrets: 1, wantSQL: true, wantErr: "MySQL error 4006"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hn := newHarness()
			if tt.setup != nil {
				tt.setup(hn)
			}
			props := tt.props
			if props == nil {
				props = goodProps()
			}
			ev := event(RequestDelete, props)
			ev.PhysicalResourceID = cmpOr(tt.id, "dbuser:app_user")
			resp, err := hn.h.Handle(context.Background(), ev)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if resp.PhysicalResourceID != ev.PhysicalResourceID {
					t.Errorf("PhysicalResourceId = %q, want it unchanged (%q)", resp.PhysicalResourceID, ev.PhysicalResourceID)
				}
			}
			if hn.secrets.calls != tt.wantSecrets {
				t.Errorf("read the master secret %d times, want %d", hn.secrets.calls, tt.wantSecrets)
			}
			want := []string(nil)
			if tt.wantSQL {
				want = sqlTexts(usersql.Delete(usersql.Spec{User: "app_user"}))
			}
			if got := hn.db.statements(); !slices.Equal(got, want) {
				t.Errorf("executed %q, want %q", got, want)
			}
			if !strings.Contains(hn.logs.String(), tt.wantLog) {
				t.Errorf("logs do not contain %q:\n%s", tt.wantLog, hn.logs)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestRequestTypes(t *testing.T) {
	for _, rt := range []string{"", "create", "Replace"} {
		hn := newHarness()
		_, err := hn.h.Handle(context.Background(), event(rt, goodProps()))
		if err == nil || !strings.Contains(err.Error(), strconv.Quote(rt)) || !strings.Contains(err.Error(), "Create, Update, Delete") {
			t.Errorf("request type %q: got %v, want error naming it and the allowed types", rt, err)
		}
		if hn.secrets.calls != 0 || hn.db.connects != 0 {
			t.Errorf("request type %q: did work before rejecting it", rt)
		}
	}
}

func TestCreateAndUpdateFailures(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]any
		setup   func(hn *harness)
		wantErr []string
		wantSQL int // statements executed before stopping
	}{
		{name: "bad property", props: with(goodProps(), "UserName", "a;DROP USER x"),
			wantErr: []string{"property UserName", `"a;DROP USER x"`}},
		{name: "master user", setup: func(hn *harness) { hn.secrets.secret.Username = "app_user" },
			wantErr: []string{"property UserName", "master user"}},
		{name: "secret gone", setup: func(hn *harness) { hn.secrets.err = ErrSecretNotFound },
			wantErr: []string{"secret not found"}},
		{name: "no secret source", setup: func(hn *harness) { hn.h.Secrets = nil },
			wantErr: []string{"Secrets is not set"}},
		{name: "grant refused", setup: func(hn *harness) {
			hn.db.failOn = map[string]error{"GRANT ": &mysql.MySQLError{Number: 1044, Message: "Access denied"}}
		}, wantErr: []string{`user "app_user"`, "grant INSERT, SELECT on appdb", "MySQL error 1044", "dropped again"},
			wantSQL: 7}, // six, then the rollback's DROP USER
		{name: "network error mid-way", setup: func(hn *harness) {
			hn.db.failOn = map[string]error{"ALTER USER": errors.New("connection reset")}
		}, wantErr: []string{`user "app_user"`, "switch user to IAM authentication", "connection reset", "dropped again"},
			wantSQL: 4},
		{name: "revoke of missing grant tolerated", setup: func(hn *harness) {
			hn.db.failOn = map[string]error{"REVOKE": &mysql.MySQLError{Number: 1141, Message: "There is no such grant"}}
		}, wantSQL: 6},
		// The sample table is a resource of its own: the old property is
		// accepted (an upgrade's rollback sends it) and creates nothing.
		{name: "legacy SampleTable ignored", props: with(goodProps(), "SampleTable", "true"), wantSQL: 6},
		{name: "legacy SampleTable not a boolean", props: with(goodProps(), "SampleTable", "yes"),
			wantErr: []string{"property SampleTable", "not a boolean"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hn := newHarness()
			if tt.setup != nil {
				tt.setup(hn)
			}
			props := tt.props
			if props == nil {
				props = goodProps()
			}
			_, err := hn.h.Handle(context.Background(), event(RequestCreate, props))
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not contain %q", err, w)
				}
			}
			if got := len(hn.db.statements()); got != tt.wantSQL {
				t.Errorf("executed %d statements, want %d: %q", got, tt.wantSQL, hn.db.statements())
			}
		})
	}
}

// A MySQL error stays reachable for callers that want the number.
func TestStatementErrorUnwraps(t *testing.T) {
	hn := newHarness()
	hn.db.failOn = map[string]error{"CREATE DATABASE": &mysql.MySQLError{Number: 1007}}
	_, err := hn.h.Handle(context.Background(), event(RequestCreate, goodProps()))
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1007 {
		t.Errorf("error %v does not unwrap to MySQL error 1007", err)
	}
}
