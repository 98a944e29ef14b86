// Command rdsiam-dev is the Makefile's helper for what must not be written
// twice or assume one platform. It has no CDK dependency, so it compiles in
// a second even on a cold cache.
//
//	rdsiam-dev node       print the Node.js that runs the CDK CLI and jsii
//	                      here (internal/jsiinode); a note on stderr when it
//	                      is not the pinned one; fails saying what to install
//	rdsiam-dev check-aws  exit 1 with one line when no AWS credentials or
//	                      region can be found locally (internal/awsprecheck);
//	                      never calls AWS
//	rdsiam-dev lambdas    build the Lambda binaries (internal/lambdabuild),
//	                      skipped when unchanged; make runs it while the app
//	                      compiles
//	rdsiam-dev stage NAME HINT -- COMMAND ARGS...
//	                      run COMMAND as a named stage: print its name (and
//	                      HINT, if not empty), a heartbeat every 30 s and
//	                      how long it took (internal/progress)
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/rdsiam/rdsiam/internal/awsprecheck"
	"github.com/rdsiam/rdsiam/internal/jsiinode"
	"github.com/rdsiam/rdsiam/internal/lambdabuild"
	"github.com/rdsiam/rdsiam/internal/modroot"
	"github.com/rdsiam/rdsiam/internal/progress"
)

func main() {
	if len(os.Args) >= 5 && os.Args[1] == "stage" && os.Args[4] == "--" {
		os.Exit(stage(os.Args[2], os.Args[3], os.Args[5:]))
	}
	if len(os.Args) != 2 {
		fail(fmt.Errorf("usage: rdsiam-dev node|check-aws|lambdas|stage NAME HINT -- COMMAND..."))
	}
	switch os.Args[1] {
	case "node":
		root, err := modroot.Find(".")
		if err != nil {
			fail(err)
		}
		n, err := jsiinode.Resolve(jsiinode.HostEnv(root))
		if err != nil {
			fail(err)
		}
		if n.Note != "" {
			fmt.Fprintln(os.Stderr, "rdsiam:", n.Note)
		}
		fmt.Println(n.Path)
	case "lambdas":
		root, err := modroot.Find(".")
		if err != nil {
			fail(err)
		}
		st := progress.Stderr().Start("Lambda builds (linux/arm64)", "")
		bins, err := lambdabuild.BuildGoLambdas(root, lambdabuild.Packages())
		if err != nil {
			fail(err)
		}
		st.Done(lambdabuild.Summary(bins))
	case "check-aws":
		if err := awsprecheck.Check(awsprecheck.HostEnv()); err != nil {
			fail(err)
		}
	default:
		fail(fmt.Errorf("unknown command %q: want node, check-aws, lambdas or stage", os.Args[1]))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rdsiam:", err)
	os.Exit(1)
}

// stage runs a command as a progress stage and returns its exit status.
func stage(name, hint string, command []string) int {
	if len(command) == 0 {
		fail(errors.New("stage: no command"))
	}
	s := progress.Stderr().Start(name, hint)
	tick := time.NewTicker(30 * time.Second)
	stop := make(chan struct{})
	go progress.Heartbeat(s, tick.C, stop)
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	tick.Stop()
	close(stop)
	var exit *exec.ExitError
	switch {
	case err == nil:
		s.Done("")
		return 0
	case errors.As(err, &exit):
		s.Done(fmt.Sprintf("failed (exit status %d)", exit.ExitCode()))
		return exit.ExitCode()
	default:
		s.Done("failed: " + err.Error())
		return 1
	}
}
