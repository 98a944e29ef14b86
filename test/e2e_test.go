package test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/auroralocal/fromstack"
	"github.com/rdsiam/rdsiam/auroralocal/sigv4"
	"github.com/rdsiam/rdsiam/internal/standin"
	"github.com/rdsiam/rdsiam/lambda/dbuser"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// deliverTwice sends ev to the real custom-resource handler twice, as
// CloudFormation may, and requires the same answer both times.
func deliverTwice(t *testing.T, h *dbuser.Handler, ev dbuser.Event) dbuser.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first, err := h.Handle(ctx, ev)
	if err != nil {
		t.Fatalf("%s: %v", ev.RequestType, err)
	}
	second, err := h.Handle(ctx, ev)
	if err != nil {
		t.Fatalf("%s delivered again: %v", ev.RequestType, err)
	}
	if !jsonEqual(first, second) {
		t.Fatalf("%s answered %s, then %s", ev.RequestType, asJSON(first), asJSON(second))
	}
	return first
}

// wantUsers checks the IAM users on the server: exactly these names (plus
// the master), each with the IAM plugin, SSL required and exactly grants.
func wantUsers(t *testing.T, srv fromstack.Engine, users map[string][]string) {
	t.Helper()
	all, err := srv.Users()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range all {
		if u.Name == srv.MasterUser() {
			continue
		}
		names = append(names, u.Name)
		want, ok := users[u.Name]
		if !ok {
			continue
		}
		if u.Plugin != auroralocal.IAMPluginName || !u.RequireSSL || u.Host != "%" {
			t.Errorf("user %s: plugin %q, host %q, require SSL %v; want %s at %% with SSL", u.Name, u.Plugin, u.Host, u.RequireSSL, auroralocal.IAMPluginName)
		}
		grants, err := srv.Grants(u.Name, u.Host)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(grants, want) {
			t.Errorf("user %s grants %v, want %v", u.Name, grants, want)
		}
	}
	slices.Sort(names)
	var wantNames []string
	for n := range users {
		wantNames = append(wantNames, n)
	}
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Errorf("users %v, want %v", names, wantNames)
	}
}

// grantLines renders privileges as Server.Grants reports them.
func grantLines(db string, privs ...string) []string {
	var out []string
	for _, p := range privs {
		out = append(out, p+" ON "+db+".*")
	}
	slices.Sort(out)
	return out
}

func TestE2EUserLifecycle(t *testing.T) { forEachEngine(t, testUserLifecycle) }

func testUserLifecycle(t *testing.T, l *fromstack.Local) {
	h := l.ProviderHandler(nil)
	userID := l.Stack.UserIDs[0]
	props, err := l.UserProperties(userID)
	if err != nil {
		t.Fatal(err)
	}

	created := deliverTwice(t, h, l.UserEvent("Create", userID, "", props, nil))
	if created.PhysicalResourceID != "dbuser:app_user" {
		t.Errorf("physical id %q", created.PhysicalResourceID)
	}
	wantUsers(t, l.Server, map[string][]string{"app_user": grantLines("appdb", "INSERT", "SELECT")})
	mustWhoami(t, l, l.QueryKeys, "app_user")

	// Grants changed: INSERT removed, UPDATE and DELETE added.
	changed := clone(props)
	changed["Privileges"] = []any{"DELETE", "SELECT", "UPDATE"}
	deliverTwice(t, h, l.UserEvent("Update", userID, created.PhysicalResourceID, changed, props))
	wantUsers(t, l.Server, map[string][]string{"app_user": grantLines("appdb", "DELETE", "SELECT", "UPDATE")})

	// User renamed: the Update creates the new user under a new physical
	// id, then CloudFormation deletes the old physical id with the old
	// properties.
	renamed := clone(changed)
	renamed["UserName"] = "reports"
	upd := deliverTwice(t, h, l.UserEvent("Update", userID, created.PhysicalResourceID, renamed, changed))
	if upd.PhysicalResourceID != "dbuser:reports" {
		t.Fatalf("rename kept physical id %q", upd.PhysicalResourceID)
	}
	wantUsers(t, l.Server, map[string][]string{
		"app_user": grantLines("appdb", "DELETE", "SELECT", "UPDATE"),
		"reports":  grantLines("appdb", "DELETE", "SELECT", "UPDATE"),
	})
	deliverTwice(t, h, l.UserEvent("Delete", userID, created.PhysicalResourceID, changed, nil))
	wantUsers(t, l.Server, map[string][]string{"reports": grantLines("appdb", "DELETE", "SELECT", "UPDATE")})

	deliverTwice(t, h, l.UserEvent("Delete", userID, upd.PhysicalResourceID, renamed, nil))
	wantUsers(t, l.Server, map[string][]string{})
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// createDefaultUser creates the default user and the sample app's table on
// l.
func createDefaultUser(t *testing.T, l *fromstack.Local) *fromstack.Local {
	t.Helper()
	props, err := l.UserProperties(l.Stack.UserIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.ProviderHandler(nil).Handle(context.Background(), l.UserEvent("Create", l.Stack.UserIDs[0], "", props, nil)); err != nil {
		t.Fatal(err)
	}
	if err := l.CreateSampleTables(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l
}

// queryHandler is the real query handler with the connector the Lambda
// builds from its environment, signing with keys.
func queryHandler(t *testing.T, l *fromstack.Local, keys aws.Credentials) *queryfn.Handler {
	t.Helper()
	cfg, err := l.QueryConfig(keys)
	if err != nil {
		t.Fatal(err)
	}
	db, err := iamdb.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return queryfn.New(db)
}

func invoke(t *testing.T, h *queryfn.Handler, request string) (queryfn.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return h.Handle(ctx, json.RawMessage(request))
}

func mustWhoami(t *testing.T, l *fromstack.Local, keys aws.Credentials, user string) {
	t.Helper()
	resp, err := invoke(t, queryHandler(t, l, keys), `{"action":"whoami"}`)
	if err != nil {
		t.Fatalf("whoami: %v (server: %v)", err, l.Server.LastAuthError())
	}
	if prefix := quirksOf(l).versionPrefix; resp.User != user+"@%" || resp.TLSCipher == "" || !strings.HasPrefix(resp.ServerVersion, prefix) {
		t.Errorf("whoami = %s; want user %s@%% over TLS on %sx", asJSON(resp), user, prefix)
	}
}

func TestE2EQueryFunction(t *testing.T) {
	forEachEngine(t, func(t *testing.T, l *fromstack.Local) { testQueryFunction(t, createDefaultUser(t, l)) })
}

func testQueryFunction(t *testing.T, l *fromstack.Local) {
	h := queryHandler(t, l, l.QueryKeys)

	resp, err := invoke(t, h, `{"action":"whoami"}`)
	if err != nil {
		t.Fatalf("whoami: %v (server: %v)", err, l.Server.LastAuthError())
	}
	if resp.User != "app_user@%" || resp.TLSCipher == "" {
		t.Errorf("whoami = %s", asJSON(resp))
	}
	events := l.Server.AuthEvents()
	last := events[len(events)-1]
	if !last.OK || !last.TLS || last.Method != "mysql_clear_password" || !strings.Contains(last.Principal, l.Stack.QueryRoleID) {
		t.Errorf("login was not IAM over TLS by the query role: %+v", last)
	}

	for _, name := range []string{"first", "second"} {
		if _, err := invoke(t, h, `{"action":"add_item","params":{"name":"`+name+`"}}`); err != nil {
			t.Fatalf("add_item: %v", err)
		}
	}
	resp, err = invoke(t, h, `{"action":"list_items","params":{"limit":10}}`)
	if err != nil || len(resp.Items) != 2 || resp.Items[0].Name != "first" || resp.Items[1].Name != "second" {
		t.Fatalf("list_items = %s, %v", asJSON(resp), err)
	}
	resp, err = invoke(t, h, `{"action":"count_items"}`)
	if err != nil || resp.Count == nil || *resp.Count != 2 {
		t.Fatalf("count_items = %s, %v", asJSON(resp), err)
	}
	resp, err = invoke(t, h, `{"action":"get_item","params":{"id":`+jsonInt(resp.Count)+`}}`)
	if err != nil || resp.Item == nil || resp.Item.Name != "second" {
		t.Fatalf("get_item = %s, %v", asJSON(resp), err)
	}

	// DELETE is not granted by default: the server refuses it.
	_, err = invoke(t, h, `{"action":"delete_item","params":{"id":1}}`)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != auroralocal.ErrNumTableAccessDenied {
		t.Errorf("delete_item without DELETE: %v, want MySQL error %d", err, auroralocal.ErrNumTableAccessDenied)
	}
	// A malformed request is refused before any SQL.
	if _, err := invoke(t, h, `{"action":"drop_table"}`); !errors.Is(err, queryfn.ErrInvalidRequest) {
		t.Errorf("unknown action: %v", err)
	}
}

func jsonInt(n *int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestE2ERefusals: each login is refused, for its own reason.
func TestE2ERefusals(t *testing.T) {
	forEachEngine(t, func(t *testing.T, l *fromstack.Local) { testRefusals(t, createDefaultUser(t, l)) })
}

func testRefusals(t *testing.T, l *fromstack.Local) {
	srv := l.Server
	ctx := context.Background()

	sign := func(t *testing.T, keys aws.Credentials, user string, at time.Time) string {
		t.Helper()
		tok, err := iamdb.BuildToken(ctx, srv.Endpoint(), srv.Region(), user,
			credentials.NewStaticCredentialsProvider(keys.AccessKeyID, keys.SecretAccessKey, ""), at)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	login := func(t *testing.T, user, token string, useTLS bool) error {
		t.Helper()
		return openDirect(t, l, user, token, useTLS).PingContext(ctx)
	}

	// The control: the query role's own token for its own user works.
	if err := login(t, "app_user", sign(t, l.QueryKeys, "app_user", time.Now()), true); err != nil {
		t.Fatalf("valid login refused: %v (%v)", err, srv.LastAuthError())
	}

	tamper := standin.TamperSignature
	q := quirksOf(l)
	cases := []struct {
		name   string
		user   string
		token  func(t *testing.T) string
		tls    bool
		before func()
		after  func()
		want   error  // the recorded reason (errors.Is)
		reason string // its iam-db-auth-error style code
		errNum uint16 // 0 = 1045
		// serverDecides: the engine refuses before any IAM check (a
		// password account, IAM auth off). MariaDB decides these itself and
		// never asks the verifier, so nothing is recorded there.
		serverDecides bool
	}{
		{name: "user provider role has no rds-db:connect", user: "app_user",
			token: func(t *testing.T) string { return sign(t, l.ProviderKeys, "app_user", time.Now()) },
			tls:   true, want: auroralocal.ErrNotAuthorized, reason: auroralocal.ReasonNotAuthorized},
		{name: "another user name", user: srv.MasterUser(),
			token: func(t *testing.T) string { return sign(t, l.QueryKeys, srv.MasterUser(), time.Now()) },
			tls:   true, want: auroralocal.ErrWrongPassword, reason: auroralocal.ReasonWrongPassword, serverDecides: true},
		{name: "token for another user", user: "app_user",
			token: func(t *testing.T) string { return sign(t, l.QueryKeys, "reports", time.Now()) },
			tls:   true, want: sigv4.ErrUser, reason: auroralocal.ReasonInvalidToken},
		{name: "expired token", user: "app_user",
			token:  func(t *testing.T) string { return sign(t, l.QueryKeys, "app_user", time.Now()) },
			before: func() { srv.AdvanceClock(16 * time.Minute) }, after: func() { srv.AdvanceClock(-16 * time.Minute) },
			tls: true, want: sigv4.ErrExpired, reason: auroralocal.ReasonExpiredToken},
		{name: "tampered signature", user: "app_user",
			token: func(t *testing.T) string { return tamper(sign(t, l.QueryKeys, "app_user", time.Now())) },
			tls:   true, want: sigv4.ErrSignature, reason: auroralocal.ReasonInvalidToken},
		{name: "IAM authentication switched off", user: "app_user",
			token:  func(t *testing.T) string { return sign(t, l.QueryKeys, "app_user", time.Now()) },
			before: func() { mustSetIAMAuth(t, srv, false) }, after: func() { mustSetIAMAuth(t, srv, true) },
			tls: true, want: auroralocal.ErrIAMDisabled, reason: auroralocal.ReasonIAMDisabled,
			errNum: auroralocal.ErrNumPluginNotLoaded, serverDecides: true},
		{name: "plain TCP", user: "app_user",
			token: func(t *testing.T) string { return sign(t, l.QueryKeys, "app_user", time.Now()) },
			tls:   false, reason: auroralocal.ReasonNotTLS, errNum: q.plainTCPError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.token(t)
			if tc.before != nil {
				tc.before()
			}
			if tc.after != nil {
				defer tc.after()
			}
			seen := len(srv.AuthEvents())
			err := login(t, tc.user, tok, tc.tls)
			var me *mysql.MySQLError
			wantNum := tc.errNum
			if wantNum == 0 {
				wantNum = auroralocal.ErrNumAccessDenied
			}
			if !errors.As(err, &me) || me.Number != wantNum {
				t.Fatalf("login: %v, want MySQL error %d", err, wantNum)
			}
			if strings.Contains(err.Error(), "X-Amz-Signature") {
				t.Errorf("client error leaks the token: %v", err)
			}
			if tc.serverDecides && !q.recordsServerRefusals {
				if events := srv.AuthEvents(); len(events) != seen {
					t.Errorf("%s refused it itself, yet the verifier was asked: %+v", srv.Name(), events[seen:])
				}
				return
			}
			if len(srv.AuthEvents()) == seen {
				t.Fatalf("the refusal was not recorded")
			}
			last := srv.LastAuthError()
			if tc.want != nil && !errors.Is(last, tc.want) {
				t.Errorf("refused for %v, want %v", last, tc.want)
			}
			if got := auroralocal.ReasonCode(last); got != tc.reason {
				t.Errorf("reason code %q (%v), want %q", got, last, tc.reason)
			}
		})
	}

	t.Run("user dropped", func(t *testing.T) {
		props, err := l.UserProperties(l.Stack.UserIDs[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.ProviderHandler(nil).Handle(ctx, l.UserEvent("Delete", l.Stack.UserIDs[0], "dbuser:app_user", props, nil)); err != nil {
			t.Fatal(err)
		}
		err = login(t, "app_user", sign(t, l.QueryKeys, "app_user", time.Now()), true)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != auroralocal.ErrNumAccessDenied {
			t.Fatalf("login after drop: %v, want 1045", err)
		}
	})
}

// TestE2ELocalDemo runs the flow `make local` prints, on the default stack.
func TestE2ELocalDemo(t *testing.T) { forEachEngine(t, testLocalDemo) }

func testLocalDemo(t *testing.T, l *fromstack.Local) {
	var out strings.Builder
	if err := l.Demo(context.Background(), &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{`"user":"app_user@%"`, "plugin AWSAuthenticationPlugin, require SSL true", "hello from rdsiam-local", "refused as expected"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), l.QueryKeys.SecretAccessKey) || strings.Contains(out.String(), l.Server.MasterPassword()) {
		t.Errorf("demo output shows a secret")
	}
}

// openDirect opens a pool that logs in with a fixed password or token, as
// a standard client would (fromstack.Local.OpenDB), closed when t ends.
func openDirect(t *testing.T, l *fromstack.Local, user, password string, useTLS bool) *sql.DB {
	t.Helper()
	db, err := l.OpenDB(user, password, useTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
