package progress

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock advances only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func TestStagesReportNameResultAndElapsedTime(t *testing.T) {
	var out strings.Builder
	c := &fakeClock{t: time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)}
	r := &Reporter{W: &out, Now: c.now}

	s := r.Start("compile the CDK app", "first time: minutes")
	c.add(30 * time.Second)
	s.StillRunning()
	c.add(2*time.Minute + 1400*time.Millisecond)
	s.Done("")
	l := r.Start("Lambda builds", "")
	c.add(1234 * time.Millisecond)
	l.Done("query built, dbuser reused")

	want := "rdsiam: compile the CDK app ... (first time: minutes)\n" +
		"rdsiam: compile the CDK app: still running after 30s\n" +
		"rdsiam: compile the CDK app: done in 2m31s\n" +
		"rdsiam: Lambda builds ...\n" +
		"rdsiam: Lambda builds: query built, dbuser reused in 1.23s\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestHeartbeatTicksUntilStopped(t *testing.T) {
	var out strings.Builder
	c := &fakeClock{t: time.Unix(0, 0)}
	r := &Reporter{W: &out, Now: c.now}
	s := r.Start("compile", "")
	tick := make(chan time.Time)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { Heartbeat(s, tick, stop); close(done) }()
	for i := 1; i <= 2; i++ {
		tick <- c.add(30 * time.Second)
	}
	close(stop)
	<-done
	r.mu.Lock()
	got := out.String()
	r.mu.Unlock()
	if strings.Count(got, "still running") != 2 || !strings.Contains(got, "after 1m0s") {
		t.Errorf("heartbeats:\n%s", got)
	}
}
