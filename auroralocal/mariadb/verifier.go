package mariadb

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/rdsiam/rdsiam/auroralocal"
)

// The verifier is the Go half of AWSAuthenticationPlugin: the C plugin in
// mariadbd connects to its Unix socket once per IAM login (protocol in
// plugin/aws_auth.c) and the verifier decides, with the same
// auroralocal.TokenVerifier the stand-in uses.
//
// Why a Unix socket served by the process that started the server, and not
// a Go c-shared library loaded into mariadbd: the decision needs the test's
// own state — the principals and their policies from the synthesized stack,
// the clock a test advances, the log of refusals a test reads. A c-shared
// library would run a second Go runtime inside mariadbd with none of that,
// so it would need a channel back to the test anyway; it would also tie the
// build to cgo and to mariadbd's threads and signals. The socket keeps the C
// to a few dozen lines of transport, and a verifier that is not there (the
// test ended) simply refuses the login.

// Limits of one verifier exchange.
const (
	exchangeTimeout = 30 * time.Second
	// maxField bounds one field; tokens are about 1.5 KB.
	maxField = 64 << 10
)

// Answers to the plugin.
const (
	allow  = 'Y'
	refuse = 'N'
)

type verifier struct {
	path string
	ln   net.Listener
	tv   *auroralocal.TokenVerifier
	srv  *Server
	log  auroralocal.AuthLog

	clockMu sync.Mutex
	offset  time.Duration

	wg sync.WaitGroup
}

// startVerifier listens on path (in a private folder) and serves the plugin.
func startVerifier(path string, tv *auroralocal.TokenVerifier, srv *Server) (*verifier, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("mariadb: verifier socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	v := &verifier{path: path, ln: ln, tv: tv, srv: srv}
	v.wg.Add(1)
	go v.serve()
	return v, nil
}

func (v *verifier) serve() {
	defer v.wg.Done()
	for {
		c, err := v.ln.Accept()
		if err != nil {
			return // closed
		}
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(exchangeTimeout))
			v.handle(bufio.NewReader(c), c)
		}()
	}
}

func (v *verifier) close() {
	v.ln.Close()
	v.wg.Wait()
}

func (v *verifier) now() time.Time {
	v.clockMu.Lock()
	defer v.clockMu.Unlock()
	return time.Now().Add(v.offset)
}

func (v *verifier) advance(d time.Duration) {
	v.clockMu.Lock()
	defer v.clockMu.Unlock()
	v.offset += d
}

// handle runs one login's two exchanges (transport, then token) and records
// the decision. A protocol error refuses (the plugin treats a closed socket
// as a refusal) and is recorded as an internal error.
func (v *verifier) handle(r *bufio.Reader, w io.Writer) {
	ev := auroralocal.AuthEvent{Time: v.now(), Method: "mysql_clear_password"}
	// decide records the decision before answering, so a client that has
	// its answer always finds the event in the log.
	decide := func(reason error) {
		answer := byte(allow)
		if reason == nil {
			ev.OK = true
		} else {
			ev.Err, ev.ErrorNumber, answer = reason, auroralocal.ErrNumAccessDenied, refuse
		}
		v.log.Add(ev)
		v.srv.log.Info("mariadb: IAM login", "user", ev.User, "remote", ev.RemoteAddr, "tls", ev.TLS,
			"ok", ev.OK, "reason", auroralocal.ReasonCode(ev.Err), "principal", ev.Principal)
		w.Write([]byte{answer})
	}
	f, err := readFields(r, "transport", 4)
	if err != nil {
		decide(fmt.Errorf("%w: plugin protocol: %v", auroralocal.ErrAuthInternal, err))
		return
	}
	connID, client, server := f[1], f[2], f[3]
	ev.RemoteAddr = client
	connType, err := v.connectionType(connID)
	if err != nil {
		decide(fmt.Errorf("%w: %v", auroralocal.ErrAuthInternal, err))
		return
	}
	ev.TLS = connType == "SSL/TLS"
	if !ev.TLS {
		decide(fmt.Errorf("%w (connection %s from %s to %s is %s)", auroralocal.ErrIAMWithoutTLS, connID, client, server, connType))
		return
	}
	if _, err := w.Write([]byte{allow}); err != nil {
		return // the plugin gave up; it refuses
	}

	f, err = readFields(r, "token", 3)
	if err != nil {
		decide(fmt.Errorf("%w: plugin protocol: %v", auroralocal.ErrAuthInternal, err))
		return
	}
	ev.User = f[1]
	ev.Time = v.now()
	principal, err := v.tv.Verify(f[2], ev.User, v.srv.Endpoint(), ev.Time)
	ev.Principal = principal
	decide(err)
}

// connectionType reads performance_schema.threads.CONNECTION_TYPE of the
// connection logging in: "SSL/TLS", "TCP/IP" or "Socket".
func (v *verifier) connectionType(connID string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if v.srv.admin == nil {
		return "", errors.New("the server is still starting")
	}
	var t sql.NullString
	err := v.srv.admin.QueryRowContext(ctx,
		"SELECT CONNECTION_TYPE FROM performance_schema.threads WHERE PROCESSLIST_ID = ?", connID).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !t.Valid) {
		return "", fmt.Errorf("connection %s has no transport in performance_schema.threads", connID)
	}
	if err != nil {
		return "", fmt.Errorf("reading connection %s's transport: %w", connID, err)
	}
	return t.String, nil
}

// readFields reads n length-prefixed fields; the first must be kind.
func readFields(r io.Reader, kind string, n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		var size uint32
		if err := binary.Read(r, binary.BigEndian, &size); err != nil {
			return nil, err
		}
		if size > maxField {
			return nil, fmt.Errorf("field of %d bytes (limit %d)", size, maxField)
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		out[i] = string(b)
	}
	if out[0] != kind {
		return nil, fmt.Errorf("got message %q, want %q", out[0], kind)
	}
	return out, nil
}
