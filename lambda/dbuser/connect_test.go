package dbuser

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/internal/localpki"
)

// closedPort returns a local TCP port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// With nothing listening, Create gives up after WaitFor with an error that
// says where, how long and how often it tried.
func TestUnreachableDatabase(t *testing.T) {
	hn := newHarness()
	hn.h.Open = nil // the real driver
	hn.h.WaitFor = 150 * time.Millisecond
	hn.h.backoffBase = 10 * time.Millisecond
	port := closedPort(t)
	props := with(with(goodProps(), "Endpoint", "127.0.0.1"), "Port", strconv.Itoa(port))
	_, err := hn.h.Handle(context.Background(), event(RequestCreate, props))
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("got %v, want *UnreachableError", err)
	}
	if ue.Attempts < 2 || ue.Waited != hn.h.WaitFor {
		t.Errorf("Attempts = %d, Waited = %v; want several attempts over %v", ue.Attempts, ue.Waited, hn.h.WaitFor)
	}
	prefix := "database at 127.0.0.1:" + strconv.Itoa(port) + " not reachable after 150ms (" + strconv.Itoa(ue.Attempts) + " attempts): "
	if !strings.HasPrefix(err.Error(), prefix) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error %q: want prefix %q and the dial error", err, prefix)
	}
}

// Transient failures are retried on the same handle until one succeeds.
func TestWaitRetriesTransientErrors(t *testing.T) {
	hn := newHarness()
	transient := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	hn.db.connectErrs = []error{transient, transient, &mysql.MySQLError{Number: 1040, Message: "Too many connections"}}
	if _, err := hn.h.Handle(context.Background(), event(RequestCreate, goodProps())); err != nil {
		t.Fatal(err)
	}
	if hn.db.connects != 4 {
		t.Errorf("connects = %d, want 3 failures and 1 success", hn.db.connects)
	}
	if !strings.Contains(hn.logs.String(), "retrying") {
		t.Error("retries are not logged")
	}
}

// Errors that retrying cannot fix end the wait at the first attempt, even
// with a long WaitFor.
func TestWaitStopsOnPermanentErrors(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&mysql.MySQLError{Number: 1045, Message: "Access denied for user 'dbmaster'@'10.0.0.1' (using password: YES)"}, "wrong credentials"},
		{&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, "certificate not trusted"},
		{mysql.ErrNoTLS, "does not offer TLS"},
	} {
		hn := newHarness()
		hn.h.WaitFor = time.Hour
		hn.db.connectErrs = []error{tt.err, tt.err}
		_, err := hn.h.Handle(context.Background(), event(RequestCreate, goodProps()))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.err) {
			t.Errorf("got %v, want an error saying %q and wrapping %v", err, tt.want, tt.err)
		}
		if hn.db.connects != 1 {
			t.Errorf("%v: %d attempts, want 1", tt.err, hn.db.connects)
		}
	}
}

// A Lambda deadline shortens the wait so the handler can still answer.
func TestWaitCappedByDeadline(t *testing.T) {
	hn := newHarness()
	hn.h.Open = nil
	hn.h.WaitFor = time.Hour
	props := with(with(goodProps(), "Endpoint", "127.0.0.1"), "Port", strconv.Itoa(closedPort(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := hn.h.Handle(ctx, event(RequestCreate, props))
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("got %v, want *UnreachableError before the deadline", err)
	}
	if ue.Waited >= 5*time.Second-responseReserve {
		t.Errorf("waited %v, want less than the time left before the deadline", ue.Waited)
	}
	if ctx.Err() != nil {
		t.Error("the handler returned only after its deadline")
	}
}

func TestWaitBudget(t *testing.T) {
	h := &Handler{}
	noDeadline := context.Background()
	soon, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tests := []struct {
		name     string
		waitFor  time.Duration
		prop     time.Duration
		ctx      context.Context
		isDelete bool
		max      time.Duration
		min      time.Duration
	}{
		{"default", 0, 0, noDeadline, false, DefaultWaitFor, DefaultWaitFor},
		{"handler setting", time.Minute, 0, noDeadline, false, time.Minute, time.Minute},
		{"property wins", time.Minute, 2 * time.Minute, noDeadline, false, 2 * time.Minute, 2 * time.Minute},
		{"delete capped", 0, 0, noDeadline, true, DeleteWaitFor, DeleteWaitFor},
		{"delete shorter still", 0, time.Second, noDeadline, true, time.Second, time.Second},
		{"deadline caps", 0, 0, soon, false, time.Minute - sqlReserve, time.Minute - sqlReserve - 5*time.Second},
	}
	for _, tt := range tests {
		h.WaitFor = tt.waitFor
		got := h.waitBudget(tt.ctx, Properties{Wait: tt.prop}, tt.isDelete)
		if got > tt.max || got < tt.min {
			t.Errorf("%s: budget %v, want between %v and %v", tt.name, got, tt.min, tt.max)
		}
	}
}

// fakeTLSServer speaks just enough of the MySQL protocol to get a client to
// start TLS: it sends a handshake offering SSL, reads the SSL request and
// then runs a TLS handshake with cert. It returns the listening address.
func fakeTLSServer(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Write(handshakePacket()); err != nil {
					return
				}
				header := make([]byte, 4)
				if _, err := io.ReadFull(c, header); err != nil {
					return
				}
				size := int(header[0]) | int(header[1])<<8 | int(header[2])<<16
				if _, err := io.ReadFull(c, make([]byte, size)); err != nil {
					return
				}
				_ = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}}).Handshake()
			}()
		}
	}()
	return l.Addr().String()
}

// handshakePacket is a MySQL protocol-10 initial handshake that offers SSL.
func handshakePacket() []byte {
	const (
		clientProtocol41 = 1 << 9
		clientSSL        = 1 << 11
		clientSecureConn = 1 << 15
		clientPluginAuth = 1 << 19
	)
	caps := uint32(clientProtocol41 | clientSSL | clientSecureConn | clientPluginAuth)
	var p bytes.Buffer
	p.WriteByte(10)
	p.WriteString("8.0.36\x00")
	p.Write([]byte{1, 0, 0, 0})   // connection id
	p.WriteString("abcdefgh\x00") // auth data part 1 + filler
	p.Write([]byte{byte(caps), byte(caps >> 8)})
	p.WriteByte(45)       // utf8mb4
	p.Write([]byte{2, 0}) // status: autocommit
	p.Write([]byte{byte(caps >> 16), byte(caps >> 24)})
	p.WriteByte(21)                   // auth data length
	p.Write(make([]byte, 10))         // reserved
	p.WriteString("ijklmnopqrst\x00") // auth data part 2
	p.WriteString("mysql_native_password\x00")
	out := make([]byte, 4, 4+p.Len())
	binary.LittleEndian.PutUint32(out, uint32(p.Len())) // 3-byte length; sequence 0
	out[3] = 0
	return append(out, p.Bytes()...)
}

// selfSigned returns a server certificate for names and a pool trusting
// the CA that issued it.
func selfSigned(t *testing.T, names ...string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	pki, err := localpki.Issue("fake rds CA", names, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return pki.Server, pki.Pool()
}

// The real driver verifies the server certificate: an untrusted CA or a
// certificate for another host fails at once, before any password is sent,
// and is not retried. With the right roots the TLS handshake gets through
// (the fake server then hangs up, so the wait runs out instead).
func TestTLSVerification(t *testing.T) {
	certForLocalhost, trustsLocalhost := selfSigned(t, "localhost")
	certForOther, trustsOther := selfSigned(t, "other.example")
	tests := []struct {
		name  string
		cert  tls.Certificate
		roots *x509.CertPool
		want  any // error type the result must wrap
	}{
		{"unknown authority (default RDS roots)", certForLocalhost, nil, new(x509.UnknownAuthorityError)},
		{"unknown authority (other roots)", certForLocalhost, trustsOther, new(x509.UnknownAuthorityError)},
		{"wrong host name", certForOther, trustsOther, new(x509.HostnameError)},
		{"trusted", certForLocalhost, trustsLocalhost, new(*UnreachableError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, port, _ := net.SplitHostPort(fakeTLSServer(t, tt.cert))
			hn := newHarness()
			hn.h.Open, hn.h.RootCAs, hn.h.WaitFor = nil, tt.roots, 100*time.Millisecond
			props := with(with(goodProps(), "Endpoint", "localhost"), "Port", port)
			_, err := hn.h.Handle(context.Background(), event(RequestCreate, props))
			if err == nil || !errors.As(err, tt.want) {
				t.Fatalf("got %v, want an error of type %T", err, tt.want)
			}
			var ue *UnreachableError
			certErr := tt.roots != trustsLocalhost
			if certErr && (errors.As(err, &ue) || !strings.Contains(err.Error(), "certificate not trusted")) {
				t.Errorf("a certificate error must end the wait at once: %v", err)
			}
		})
	}
}
