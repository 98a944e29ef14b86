package auroralocal

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestMaxConnections(t *testing.T) {
	srv := startServer(t, Options{})
	srv.SetMaxConnections(2)
	db := masterDB(t, srv)
	ctx := context.Background()
	held := make([]interface{ Close() error }, 0, 2)
	for range 2 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatalf("connection within max_connections: %v", err)
		}
		held = append(held, c)
	}
	if n := srv.LimitStats().OpenConnections; n != 2 {
		t.Fatalf("OpenConnections = %d, want 2", n)
	}

	err := connectOnce(t, clientConfig(srv, srv.MasterUser(), srv.MasterPassword(), true))
	if mysqlErrNumber(err) != ErrNumTooManyConnections {
		t.Fatalf("third connection: %v, want error 1040", err)
	}
	if last := srv.LastAuthError(); !errors.Is(last, ErrTooManyConnections) {
		t.Errorf("recorded reason %v, want ErrTooManyConnections", last)
	}
	if s := srv.LimitStats(); s.RefusedTooMany != 1 {
		t.Errorf("RefusedTooMany = %d, want 1", s.RefusedTooMany)
	}

	// A connection closed frees its slot.
	_ = held[0].Close()
	db.SetMaxIdleConns(0) // the pool would keep the closed one open
	for range 100 {
		if srv.LimitStats().OpenConnections < 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := connectOnce(t, clientConfig(srv, srv.MasterUser(), srv.MasterPassword(), true)); err != nil {
		t.Errorf("after one closed: %v", err)
	}
	_ = held[1].Close()
}

// Throttling counts only tokens the server has not accepted before, as on
// Aurora; a throttled login is 1045 with ThrottlingException recorded.
func TestThrottleIAMLogins(t *testing.T) {
	srv := iamServer(t, Options{})
	// One new-token login per 100 s of server clock, two at once: the
	// bucket does not refill during the test unless the clock is moved.
	srv.ThrottleIAMLogins(0.01, 2)
	endpoint := srv.Endpoint()
	login := func(token string) error {
		return connectOnce(t, clientConfig(srv, iamUser, token, true))
	}
	a := buildToken(t, endpoint, testRegion, iamUser, allowCreds)
	b := buildToken(t, endpoint, testRegion, iamUser, sessionCreds)
	c := buildToken(t, endpoint, testRegion, iamUser, denyCreds)

	steps := []struct {
		name   string
		token  string
		before func()
		number int   // 0: accepted
		reason error // recorded refusal
	}{
		{name: "first token", token: a},
		{name: "second token empties the bucket", token: b},
		{name: "a third token is throttled", token: c, number: ErrNumAccessDenied, reason: ErrThrottled},
		{name: "the same third token again: still new, still throttled", token: c, number: ErrNumAccessDenied, reason: ErrThrottled},
		{name: "a token already accepted is not throttled", token: a},
		{name: "after 100 s the third token passes the throttle (and is judged on its policy)", token: c,
			before: func() { srv.AdvanceClock(100 * time.Second) }, number: ErrNumAccessDenied, reason: ErrNotAuthorized},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		err := login(st.token)
		if st.number == 0 {
			if err != nil {
				t.Fatalf("%s: %v (server: %v)", st.name, err, srv.LastAuthError())
			}
			continue
		}
		assertRefused(t, srv, err, st.number, st.reason, st.token)
	}
	if s := srv.LimitStats(); s.Throttled != 2 {
		t.Errorf("Throttled = %d, want 2", s.Throttled)
	}
}

// A paused writer holds the first login until it has resumed; a client
// whose dial budget is shorter than the resume gives up.
func TestPause(t *testing.T) {
	srv := iamServer(t, Options{})
	master := func(timeout time.Duration) error {
		cfg := clientConfig(srv, srv.MasterUser(), srv.MasterPassword(), true)
		cfg.Timeout, cfg.ReadTimeout = timeout, timeout
		return connectOnce(t, cfg)
	}

	// A resume that will not end during the test: the login waits until
	// its own timeout.
	srv.Pause(time.Hour)
	if err := master(300 * time.Millisecond); err == nil {
		t.Fatal("login on a paused writer with a short budget succeeded")
	}
	if s := srv.LimitStats(); s.LoginsWaitedForResume != 1 || s.Resumes != 0 || !srv.Paused() {
		t.Fatalf("after the short login: %+v, paused %v", s, srv.Paused())
	}
	srv.Resume() // release the waiting handler
	if srv.Paused() {
		t.Fatal("Resume left the writer paused")
	}

	// A short resume: the first login starts it, waits, and gets in.
	srv.Pause(100 * time.Millisecond)
	if !srv.Paused() {
		t.Fatal("Pause did not pause")
	}
	if err := master(30 * time.Second); err != nil {
		t.Fatalf("login with a budget for the resume: %v", err)
	}
	if s := srv.LimitStats(); s.LoginsWaitedForResume != 2 || s.Resumes != 2 || srv.Paused() {
		t.Errorf("after the resume: %+v, paused %v", s, srv.Paused())
	}
	// Resumed: the next login does not wait.
	if err := master(30 * time.Second); err != nil || srv.LimitStats().LoginsWaitedForResume != 2 {
		t.Errorf("login after the resume: %v, %+v", err, srv.LimitStats())
	}
}

func TestRequireSecureTransportReported(t *testing.T) {
	for _, on := range []bool{true, false} {
		srv := startServer(t, Options{RequireSecureTransport: Bool(on)})
		var plain, session int
		if err := masterDB(t, srv).QueryRow("SELECT @@require_secure_transport, @@session.require_secure_transport").Scan(&plain, &session); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 0}[on]; plain != want || session != want {
			t.Errorf("RequireSecureTransport %v: @@require_secure_transport = %d, @@session. %d, want %d", on, plain, session, want)
		}
	}
}
