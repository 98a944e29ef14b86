//go:build unix

package jsiinode

import "syscall"

// reexec replaces the process (Linux and macOS alike): same pid, so make,
// the CDK CLI and go test see one program exit with its own status.
func reexec(self string, args, env []string) error {
	return syscall.Exec(self, args, env)
}
