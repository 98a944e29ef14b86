//go:build !unix

package jsiinode

import (
	"errors"
	"os"
	"os/exec"
)

// reexec runs the program again as a child (Windows has no exec that
// keeps the process) with the same standard streams, and exits with its
// status.
func reexec(self string, args, env []string) error {
	cmd := exec.Command(self, args[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.As(err, &exit):
		os.Exit(exit.ExitCode())
	}
	return err
}
