package connect

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
	"sync"
	"testing"
	"time"

	"github.com/rdsiam/rdsiam/internal/localpki"
)

// fakeMySQL is a server that greets like MySQL, upgrades to TLS on an
// SSLRequest with a certificate for names, then echoes what it reads.
type fakeMySQL struct {
	addr  string
	roots *x509.CertPool
}

func packet(seq byte, payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, payload...)
}

func greeting(caps uint16) []byte {
	p := []byte{10}
	p = append(p, "8.0.39-fake"...)
	p = append(p, 0, 1, 0, 0, 0) // NUL, connection id
	p = append(p, "abcdefgh"...)
	p = append(p, 0)
	p = binary.LittleEndian.AppendUint16(p, caps)
	return packet(0, p)
}

func sslRequest(caps uint32) []byte {
	p := make([]byte, 32)
	binary.LittleEndian.PutUint32(p, caps)
	return packet(1, p)
}

func startFakeMySQL(t testing.TB, names []string, caps uint16) *fakeMySQL {
	t.Helper()
	pki, err := localpki.Issue("fake RDS CA", names, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				c.Write(greeting(caps))
				if _, err := readPacket(c); err != nil {
					return
				}
				s := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{pki.Server}})
				if s.Handshake() != nil {
					return
				}
				io.Copy(s, s)
			}()
		}
	}()
	return &fakeMySQL{addr: ln.Addr().String(), roots: pki.Pool()}
}

// clientThroughHop speaks to the hop as a MySQL client does, verifying the
// hop's certificate for 127.0.0.1 against its CA, and returns the TLS
// session (or the error of the step that failed).
func clientThroughHop(t testing.TB, h *Hop, askTLS bool) (*tls.Conn, error) {
	t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(h.Port())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := readPacket(c); err != nil {
		return nil, err
	}
	caps := uint32(clientSSL)
	if !askTLS {
		caps = 0
	}
	c.Write(sslRequest(caps))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(h.CAPEM())
	s := tls.Client(c, &tls.Config{ServerName: "127.0.0.1", RootCAs: pool, MinVersion: tls.VersionTLS12})
	return s, s.Handshake()
}

// startTestHop starts a hop to srv that verifies it as realName, and
// collects the hop's errors.
func startTestHop(t testing.TB, srv *fakeMySQL, realName string) (*Hop, func() []error) {
	t.Helper()
	var mu sync.Mutex
	var errs []error
	h, err := StartHop(func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", srv.addr)
	}, &tls.Config{ServerName: realName, RootCAs: srv.roots, MinVersion: tls.VersionTLS12}, func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, func() []error {
		h.Close() // waits for every relay, so errs is complete
		mu.Lock()
		defer mu.Unlock()
		return errs
	}
}

const realName = "db.cluster-abc.eu-west-1.rds.amazonaws.com"

// TestHopRelaysInsideBothTLSSessions: bytes written by the client come back
// from the server unchanged, through the client-hop and hop-server TLS.
func TestHopRelaysInsideBothTLSSessions(t *testing.T) {
	srv := startFakeMySQL(t, []string{realName}, clientSSL|0x0200)
	h, errs := startTestHop(t, srv, realName)
	s, err := clientThroughHop(t, h, true)
	if err != nil {
		t.Fatalf("TLS with the hop: %v", err)
	}
	msg := []byte("login packet with the token, then COM_QUERY")
	if _, err := s.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(s, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Errorf("echo = %q, want %q", got, msg)
	}
	s.Close()
	if e := errs(); len(e) != 0 {
		t.Errorf("hop errors: %v", e)
	}
}

// TestHopRefuses: the hop never lets a login through when it cannot verify
// the server for the real name, when the server offers no TLS, or when the
// client does not ask for TLS.
func TestHopRefuses(t *testing.T) {
	for _, tc := range []struct {
		name      string
		certNames []string
		caps      uint16
		clientTLS bool
		want      error
		wantText  string
	}{
		{"certificate for the tunnel's localhost only", []string{"localhost", "127.0.0.1"}, clientSSL, true, ErrTLSNotVerifiable, realName},
		{"certificate for another cluster", []string{"db.cluster-other.eu-west-1.rds.amazonaws.com"}, clientSSL, true, ErrTLSNotVerifiable, "not " + realName},
		{"server without TLS", []string{realName}, 0x0200, true, ErrTLSNotVerifiable, "does not offer TLS"},
		{"client without TLS", []string{realName}, clientSSL, false, nil, "did not ask for TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFakeMySQL(t, tc.certNames, tc.caps)
			h, errs := startTestHop(t, srv, realName)
			s, err := clientThroughHop(t, h, tc.clientTLS)
			if err == nil {
				// The handshake with the hop cannot succeed: the hop
				// closes the client before its own TLS.
				if _, err = s.Write([]byte("x")); err == nil {
					_, err = s.Read(make([]byte, 1))
				}
			}
			if err == nil {
				t.Fatal("the client got a working session")
			}
			e := errs()
			if len(e) != 1 {
				t.Fatalf("hop errors = %v, want one", e)
			}
			if tc.want != nil && !errors.Is(e[0], tc.want) {
				t.Errorf("hop error %v is not %v", e[0], tc.want)
			}
			if !strings.Contains(e[0].Error(), tc.wantText) {
				t.Errorf("hop error %v does not say %q", e[0], tc.wantText)
			}
		})
	}
}

func TestStartHopNeedsVerification(t *testing.T) {
	for _, cfg := range []*tls.Config{nil, {InsecureSkipVerify: true, ServerName: realName}, {}} {
		if h, err := StartHop(nil, cfg, nil); err == nil {
			h.Close()
			t.Errorf("StartHop(%+v) accepted a configuration that does not verify the server", cfg)
		}
	}
}
