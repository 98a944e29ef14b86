package auroralocal

import (
	"context"
	"errors"
	"net"
	"reflect"
	"testing"
	"time"
)

func TestDropConnections(t *testing.T) {
	srv := startServer(t, Options{})
	db := masterDB(t, srv)
	ctx := context.Background()
	old, err := db.Conn(ctx) // pinned: database/sql must not retry it away
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := old.PingContext(ctx); err != nil {
		t.Fatalf("ping before drop: %v", err)
	}

	if n := srv.DropConnections(); n < 1 {
		t.Fatalf("DropConnections closed %d connections, want at least the pinned one", n)
	}
	var one int
	if err := old.QueryRowContext(ctx, "SELECT 1").Scan(&one); err == nil {
		t.Fatal("query on a dropped connection succeeded")
	}

	fresh, err := db.Conn(ctx)
	if err != nil {
		t.Fatalf("new connection after drop: %v", err)
	}
	defer fresh.Close()
	if err := fresh.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("query on a new connection after drop: %v (got %d)", err, one)
	}
}

// A stalled connection answers nothing, so a client without a read timeout
// would wait forever: here the statement's ctx ends it. New connections are
// served.
func TestStallConnections(t *testing.T) {
	srv := startServer(t, Options{})
	db := masterDB(t, srv)
	ctx := context.Background()
	old, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := old.PingContext(ctx); err != nil {
		t.Fatalf("ping before stall: %v", err)
	}

	if n := srv.StallConnections(); n < 1 {
		t.Fatalf("StallConnections stalled %d connections, want at least the pinned one", n)
	}
	qctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	var one int
	err = old.QueryRowContext(qctx, "SELECT 1").Scan(&one)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("query on a stalled connection: %v, want it to wait until its ctx ended", err)
	}

	fresh, err := db.Conn(ctx)
	if err != nil {
		t.Fatalf("new connection after stall: %v", err)
	}
	defer fresh.Close()
	if err := fresh.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("query on a new connection after stall: %v (got %d)", err, one)
	}
}

func TestStopRestartKeepsData(t *testing.T) {
	srv := iamServer(t, Options{})
	mustExec(t, masterDB(t, srv), "INSERT INTO appdb.items (name) VALUES ('kept')")
	port := srv.Port()
	usersBefore, err := srv.Users()
	if err != nil {
		t.Fatal(err)
	}

	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if c, err := net.DialTimeout("tcp", srv.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("port still accepting after Stop")
	}

	if err := srv.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if err := srv.Restart(); err == nil {
		t.Error("Restart of a running server succeeded")
	}
	if srv.Port() != port {
		t.Errorf("port after Restart = %d, want %d", srv.Port(), port)
	}
	usersAfter, err := srv.Users()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(usersBefore, usersAfter) {
		t.Errorf("users after Restart = %+v, want %+v", usersAfter, usersBefore)
	}
	token := buildToken(t, srv.Endpoint(), testRegion, iamUser, allowCreds)
	cfg := clientConfig(srv, iamUser, token, true)
	if got := queryStrings(t, openDB(t, cfg), "SELECT name FROM appdb.items"); len(got) != 1 || got[0] != "kept" {
		t.Errorf("rows after Restart as app_user = %q, want [kept]", got)
	}

	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := srv.Restart(); !errors.Is(err, errClosed) {
		t.Errorf("Restart after Close: err = %v, want %v", err, errClosed)
	}
	if _, err := srv.Users(); !errors.Is(err, errClosed) {
		t.Errorf("Users after Close: err = %v, want %v", err, errClosed)
	}
}

func TestRefuseLogins(t *testing.T) {
	srv := iamServer(t, Options{})
	login := func() error {
		return connectOnce(t, clientConfig(srv, iamUser, buildToken(t, srv.Endpoint(), testRegion, iamUser, allowCreds), true))
	}

	srv.RefuseLogins(2)
	for i := 0; i < 2; i++ {
		assertRefused(t, srv, login(), ErrNumAccessDenied, ErrInjectedRefusal, "")
	}
	if err := login(); err != nil {
		t.Fatalf("third login after RefuseLogins(2): %v", err)
	}
	// The master user is not an IAM login and is never refused.
	srv.RefuseLogins(1)
	if err := connectOnce(t, clientConfig(srv, srv.MasterUser(), srv.MasterPassword(), true)); err != nil {
		t.Fatalf("master login during RefuseLogins: %v", err)
	}
	srv.RefuseLogins(0)
	if err := login(); err != nil {
		t.Fatalf("login after RefuseLogins(0): %v", err)
	}

	srv.RefuseLoginsUntil(srv.Now().Add(time.Minute))
	assertRefused(t, srv, login(), ErrNumAccessDenied, ErrInjectedRefusal, "")
	assertRefused(t, srv, login(), ErrNumAccessDenied, ErrInjectedRefusal, "")
	srv.AdvanceClock(2 * time.Minute)
	if err := login(); err != nil {
		t.Fatalf("login after the refusal window: %v", err)
	}
}

func TestStats(t *testing.T) {
	srv := iamServer(t, Options{}) // creating the user uses one master connection
	base := srv.Stats()
	if base.LoginsOK < 1 || base.ConnectionsOpened < base.LoginsOK {
		t.Fatalf("stats after creating the user = %+v", base)
	}
	const okLogins, badLogins = 3, 2
	for i := 0; i < okLogins; i++ {
		if err := connectOnce(t, clientConfig(srv, iamUser, buildToken(t, srv.Endpoint(), testRegion, iamUser, allowCreds), true)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < badLogins; i++ {
		if err := connectOnce(t, clientConfig(srv, srv.MasterUser(), "wrong-password", true)); err == nil {
			t.Fatal("wrong master password accepted")
		}
	}
	got := srv.Stats()
	if got.LoginsOK-base.LoginsOK != okLogins {
		t.Errorf("LoginsOK grew by %d, want %d", got.LoginsOK-base.LoginsOK, okLogins)
	}
	if got.LoginsRefused-base.LoginsRefused != badLogins {
		t.Errorf("LoginsRefused grew by %d, want %d", got.LoginsRefused-base.LoginsRefused, badLogins)
	}
	if got.ConnectionsOpened-base.ConnectionsOpened != okLogins+badLogins {
		t.Errorf("ConnectionsOpened grew by %d, want %d", got.ConnectionsOpened-base.ConnectionsOpened, okLogins+badLogins)
	}
	if got.PeakNewConnectionsPerSecond < 1 || uint64(got.PeakNewConnectionsPerSecond) > got.ConnectionsOpened {
		t.Errorf("PeakNewConnectionsPerSecond = %d, want 1..%d", got.PeakNewConnectionsPerSecond, got.ConnectionsOpened)
	}
	events := srv.AuthEvents()
	okEvents := 0
	for _, e := range events {
		if e.OK && e.User == iamUser {
			okEvents++
			if e.Principal != "arn:aws:iam::123456789012:role/QueryRole" || e.Method != "mysql_clear_password" || !e.TLS {
				t.Errorf("IAM login event = %+v", e)
			}
		}
	}
	if okEvents != okLogins {
		t.Errorf("AuthEvents has %d successful app_user logins, want %d", okEvents, okLogins)
	}
}

func TestRateWindowPeak(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms ...int) []time.Time {
		out := make([]time.Time, len(ms))
		for i, m := range ms {
			out[i] = t0.Add(time.Duration(m) * time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name   string
		events []time.Time
		want   int
	}{
		{"none", nil, 0},
		{"one", at(0), 1},
		{"burst inside one second", at(0, 100, 200, 999), 4},
		{"exactly one second apart are separate windows", at(0, 1000), 1},
		{"sliding window spans a second boundary", at(0, 900, 1100, 1200, 1800), 4},
		{"later burst is the peak", at(0, 2000, 2001, 2002), 3},
		{"identical timestamps", at(5, 5, 5), 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w rateWindow
			for _, e := range tc.events {
				w.add(e)
			}
			if got := w.peakCount(); got != tc.want {
				t.Errorf("peak = %d, want %d", got, tc.want)
			}
		})
	}
}
