package connect

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
)

// fakeSession plays `aws ssm start-session`: it checks the command and, if
// up, listens on the localPortNumber the command names.
func fakeSession(t *testing.T, up bool, argvSeen *[]string) StartFunc {
	return func(ctx context.Context, argv []string, _ io.Writer) (Process, error) {
		*argvSeen = argv
		done := make(chan error, 1)
		if !up {
			done <- errors.New("exit status 255: SessionManagerPlugin is not found")
			return Process{Done: done, Stop: func() {}}, nil
		}
		i := slices.Index(argv, "--parameters")
		_, port, _ := strings.Cut(argv[i+1], "localPortNumber=")
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			return Process{}, err
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		t.Cleanup(func() { ln.Close() })
		return Process{Done: done, Stop: func() { ln.Close() }}, nil
	}
}

func TestSSMSession(t *testing.T) {
	var argv []string
	addr, p, err := startSSMSession(context.Background(), fakeSession(t, true, &argv), io.Discard, "eu-west-1", "i-0123456789abcdef0", testEndpoint, 3306)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	_, port, _ := net.SplitHostPort(addr)
	want := []string{"aws", "ssm", "start-session", "--region", "eu-west-1", "--target", "i-0123456789abcdef0",
		"--document-name", "AWS-StartPortForwardingSessionToRemoteHost",
		"--parameters", "host=" + testEndpoint + ",portNumber=3306,localPortNumber=" + port}
	if !slices.Equal(argv, want) {
		t.Errorf("command\n %q\nwant\n %q", argv, want)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("the tunnel's port is not open: %v", err)
	}
	c.Close()
}

func TestSSMSessionThatEnds(t *testing.T) {
	var argv []string
	_, _, err := startSSMSession(context.Background(), fakeSession(t, false, &argv), io.Discard, "eu-west-1", "i-0123456789abcdef0", testEndpoint, 3306)
	if !errors.Is(err, ErrTunnelNotUp) || !strings.Contains(err.Error(), "Session Manager plugin") || !strings.Contains(err.Error(), "SessionManagerPlugin is not found") {
		t.Errorf("err = %v, want ErrTunnelNotUp explaining the plugin", err)
	}
}
