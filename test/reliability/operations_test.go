package reliability

import (
	"testing"
	"time"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

// TestThrottledRetriesReuseToken: Aurora throttles IAM logins with tokens it
// has not seen, and answers a throttled login with the same 1045 as any
// refusal. The connector retries with the token it already signed (it has
// more than a minute to live), so the retries ask nothing more of IAM, and
// signs no second token; the throttle lets the login through once its
// bucket refills on the server clock.
func TestThrottledRetriesReuseToken(t *testing.T) {
	e := startEnv(t)
	e.createUser(t, "SELECT", "INSERT")
	clk := newClocks(e.srv)
	// One new token every 10 s of server time, none in reserve after the
	// first container's login.
	e.srv.ThrottleIAMLogins(0.1, 1)
	defer e.srv.ThrottleIAMLogins(0, 0)

	first := e.newContainer(t, withClocks(clk, nil))
	first.mustInvoke(t, e.srv, `{"action":"whoami"}`)
	// A second later (tokens are signed to the second) a second container
	// signs its own token: throttled.
	clk.shift(time.Second)
	second := e.newContainer(t, withClocks(clk, nil))
	resp := second.mustInvoke(t, e.srv, `{"action":"whoami"}`)

	s := second.conn.Stats()
	throttled := refusals(e.srv, auroralocal.ErrThrottled)
	t.Logf("second container: %+v; server throttled %d logins, backoff %v", s, throttled, time.Duration(clk.slept.Load()))
	if resp.User != appUser+"@%" {
		t.Errorf("whoami = %+v", resp)
	}
	if throttled == 0 || uint64(throttled) != s.AccessDeniedRetries {
		t.Errorf("server throttled %d logins, the connector retried %d times; want the throttle met and every throttled login retried",
			throttled, s.AccessDeniedRetries)
	}
	if s.TokensSigned != 1 || s.RetryTokensReused != s.AccessDeniedRetries || s.RetryTokensSigned != 0 {
		t.Errorf("signed %d tokens, retries reused %d and re-signed %d; want one token for every retry", s.TokensSigned, s.RetryTokensReused, s.RetryTokensSigned)
	}
	if got := e.srv.LimitStats().Throttled; got != uint64(throttled) {
		t.Errorf("LimitStats.Throttled = %d, events %d", got, throttled)
	}
}

// TestPausedClusterResumedByFirstCall: with minCapacity 0 the writer pauses
// when idle; the next request's login waits for the resume. With the dial
// budget the synth requires for a pausing cluster (stacks.ResumeSeconds) the
// first request succeeds on its first login; with the default budget and a
// resume that outlasts it, the request fails with the attempt's timeout.
func TestPausedClusterResumedByFirstCall(t *testing.T) {
	e := startEnv(t)
	e.createUser(t, "SELECT", "INSERT")

	t.Run("dial budget shorter than the resume", func(t *testing.T) {
		e.srv.Pause(time.Hour) // does not end by itself during the test
		defer e.srv.Resume()
		c := e.newContainer(t, func(c *iamdb.Config) { c.DialTimeout = time.Second })
		_, err := c.invoke(`{"action":"whoami"}`)
		if err == nil {
			t.Fatal("whoami on a paused writer with a 1 s dial budget succeeded")
		}
		if s := e.srv.LimitStats(); s.LoginsWaitedForResume == 0 || !e.srv.Paused() {
			t.Errorf("%+v, paused %v: want the login to have waited on the pause", s, e.srv.Paused())
		}
	})

	t.Run("dial budget sized for a resume", func(t *testing.T) {
		e.srv.Pause(200 * time.Millisecond)
		before := e.srv.LimitStats()
		c := e.newContainer(t, func(c *iamdb.Config) { c.DialTimeout = 30 * time.Second })
		if resp := c.mustInvoke(t, e.srv, `{"action":"whoami"}`); resp.User != appUser+"@%" {
			t.Errorf("whoami = %+v", resp)
		}
		after := e.srv.LimitStats()
		if after.Resumes != before.Resumes+1 || after.LoginsWaitedForResume <= before.LoginsWaitedForResume || e.srv.Paused() {
			t.Errorf("limits %+v -> %+v, paused %v: want one resume, started by this call", before, after, e.srv.Paused())
		}
		if s := c.conn.Stats(); s.ConnectAttempts != 1 || s.ConnectFailures != 0 {
			t.Errorf("connector %+v: want the first login to wait for the resume and succeed", s)
		}
	})
}
