// Package progress prints what a long synth is doing and how long each
// stage took, on stderr, so a first run that compiles the Go CDK packages
// for minutes does not look hung. The CDK CLI passes the app's stderr
// through as it comes, and `cdk synth --quiet` hides only the template.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Reporter writes stage lines, each prefixed "rdsiam: ".
type Reporter struct {
	W   io.Writer
	Now func() time.Time
	mu  sync.Mutex
}

// Stderr reports to os.Stderr with the wall clock.
func Stderr() *Reporter { return &Reporter{W: os.Stderr, Now: time.Now} }

// Stage is one running stage.
type Stage struct {
	r     *Reporter
	name  string
	start time.Time
}

func (r *Reporter) printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.W, "rdsiam: "+format+"\n", args...)
}

// Start prints "<name> ..." (and the hint, if any) and starts the clock.
func (r *Reporter) Start(name, hint string) *Stage {
	if hint != "" {
		r.printf("%s ... (%s)", name, hint)
	} else {
		r.printf("%s ...", name)
	}
	return &Stage{r: r, name: name, start: r.Now()}
}

// Elapsed is the time since Start, rounded for people.
func (s *Stage) Elapsed() time.Duration { return Round(s.r.Now().Sub(s.start)) }

// StillRunning prints a heartbeat for a stage that takes long.
func (s *Stage) StillRunning() { s.r.printf("%s: still running after %s", s.name, s.Elapsed()) }

// Done prints "<name>: <result> in <elapsed>".
func (s *Stage) Done(result string) {
	if result == "" {
		result = "done"
	}
	s.r.printf("%s: %s in %s", s.name, result, s.Elapsed())
}

// Round keeps a duration readable: 10 ms steps under a minute, whole
// seconds above.
func Round(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(10 * time.Millisecond)
}

// Heartbeat calls s.StillRunning on every tick until stop is closed.
func Heartbeat(s *Stage, tick <-chan time.Time, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-tick:
			s.StillRunning()
		}
	}
}
