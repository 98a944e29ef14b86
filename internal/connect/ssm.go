package connect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"time"
)

// SSMDocument is the Session Manager document that forwards a local port to
// a host and port the instance can reach.
const SSMDocument = "AWS-StartPortForwardingSessionToRemoteHost"

// ssmReadyTimeout bounds the wait for the session's local port: starting a
// session takes a few seconds.
const ssmReadyTimeout = 60 * time.Second

// SessionArgs is the AWS CLI command that forwards 127.0.0.1:localPort
// through bastion to host:port (needs the Session Manager plugin).
func SessionArgs(region, bastion, host string, port, localPort int) []string {
	return []string{"aws", "ssm", "start-session",
		"--region", region,
		"--target", bastion,
		"--document-name", SSMDocument,
		"--parameters", fmt.Sprintf("host=%s,portNumber=%d,localPortNumber=%d", host, port, localPort),
	}
}

// Process is a started command.
type Process struct {
	// Done receives the command's exit (once).
	Done <-chan error
	// Stop ends it.
	Stop func()
}

// StartFunc starts argv with its output going to out. ExecStart runs it;
// tests fake the session.
type StartFunc func(ctx context.Context, argv []string, out io.Writer) (Process, error)

// ExecStart runs argv as a child process.
func ExecStart(ctx context.Context, argv []string, out io.Writer) (Process, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return Process{}, fmt.Errorf("connect: start %s: %w (is the AWS CLI installed?)", argv[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return Process{Done: done, Stop: func() { cmd.Process.Kill() }}, nil
}

// startSSMSession starts the port forwarding and waits until its local port
// accepts connections. It returns the tunnel's address.
func startSSMSession(ctx context.Context, start StartFunc, out io.Writer, region, bastion, host string, port int) (string, Process, error) {
	localPort, err := freePort()
	if err != nil {
		return "", Process{}, err
	}
	argv := SessionArgs(region, bastion, host, port, localPort)
	p, err := start(ctx, argv, out)
	if err != nil {
		return "", Process{}, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(localPort))
	wait, cancel := context.WithTimeout(ctx, ssmReadyTimeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		var d net.Dialer
		if c, err := d.DialContext(wait, "tcp", addr); err == nil {
			c.Close()
			return addr, p, nil
		}
		select {
		case err := <-p.Done:
			return "", Process{}, fmt.Errorf("%w: the SSM session ended before its port %d opened (%v); check the Session Manager plugin is installed, "+
				"your role may ssm:StartSession on %s (the stack's BastionSessionPolicy), and the bastion is online (aws ssm describe-instance-information)", ErrTunnelNotUp, localPort, err, bastion)
		case <-wait.Done():
			p.Stop()
			if errors.Is(ctx.Err(), context.Canceled) {
				return "", Process{}, ctx.Err()
			}
			return "", Process{}, fmt.Errorf("%w: the SSM session's port %d did not open within %s", ErrTunnelNotUp, localPort, ssmReadyTimeout)
		case <-tick.C:
		}
	}
}

// freePort asks the kernel for a free port on 127.0.0.1. Another program
// could take it before the session binds it; the session then fails and
// says so.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("connect: find a free local port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
