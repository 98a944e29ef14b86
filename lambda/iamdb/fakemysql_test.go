package iamdb

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rdsiam/rdsiam/internal/localpki"
)

// fakeMySQL is a minimal MySQL server for connector tests. It speaks just
// enough of the protocol to log a client in the way Aurora does for an
// AWSAuthenticationPlugin user: it requires TLS, switches the client to the
// mysql_clear_password plugin, records the password it receives and lets
// accept decide whether the login succeeds. After login it answers every
// query and ping with OK, unless stallOpenSessions silenced it.
type fakeMySQL struct {
	t      *testing.T
	ln     net.Listener
	tls    *tls.Config
	accept func(user, password string) bool

	mu          sync.Mutex
	logins      []fakeLogin
	tlsFailures int            // TLS handshakes the client aborted
	refuseWith  uint16         // MySQL error number for refused logins; 0 means 1045
	dropLogins  int            // the next logins to answer by closing the connection
	open        []*atomic.Bool // per logged-in session: stalled
	wg          sync.WaitGroup
}

// stallOpenSessions makes every logged-in session stop answering, as
// connections to a server lost in a failover do; later sessions are served.
func (s *fakeMySQL) stallOpenSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, stalled := range s.open {
		stalled.Store(true)
	}
}

// dropNextLogins makes the next n logins end with the server closing the
// connection instead of answering, as a failover does.
func (s *fakeMySQL) dropNextLogins(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLogins = n
}

// refuseLoginsWith sets the MySQL error number refused logins get.
func (s *fakeMySQL) refuseLoginsWith(number uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseWith = number
}

// fakeLogin is what the server saw of one login attempt.
type fakeLogin struct {
	user, password, database string
	tlsVersion               uint16 // 0 if the client did not start TLS
	plugin                   string // plugin that carried the password
}

// Capability flags, from the MySQL client/server protocol.
const (
	capLongPassword     = 1 << 0
	capConnectWithDB    = 1 << 3
	capProtocol41       = 1 << 9
	capSSL              = 1 << 11
	capTransactions     = 1 << 13
	capSecureConnection = 1 << 15
	capPluginAuth       = 1 << 19
	capPluginAuthLenenc = 1 << 21
	fakeCaps            = capLongPassword | capConnectWithDB | capProtocol41 | capSSL | capTransactions | capSecureConnection | capPluginAuth | capPluginAuthLenenc
)

// newFakeMySQL starts a server on 127.0.0.1 and returns it with the CA pool
// that verifies its certificate (issued for 127.0.0.1).
func newFakeMySQL(t *testing.T, accept func(user, password string) bool) (*fakeMySQL, *x509.CertPool) {
	t.Helper()
	roots, cert := newTestPKI(t, net.IPv4(127, 0, 0, 1))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeMySQL{t: t, ln: ln, accept: accept, tls: &tls.Config{Certificates: []tls.Certificate{cert}}}
	s.wg.Go(s.serve)
	t.Cleanup(s.stop)
	return s, roots
}

// stop closes the listener and waits for every session to finish, so
// counters read afterwards are final. It may be called more than once.
func (s *fakeMySQL) stop() {
	s.ln.Close()
	s.wg.Wait()
}

func (s *fakeMySQL) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// seen returns the logins so far.
func (s *fakeMySQL) seen() []fakeLogin {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]fakeLogin(nil), s.logins...)
}

func (s *fakeMySQL) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Go(func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if err := s.session(c); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.t.Errorf("fake MySQL: %v", err)
			}
		})
	}
}

// session handles one client connection.
func (s *fakeMySQL) session(c net.Conn) error {
	p := &packetConn{rw: c}
	if err := p.write(handshakeV10()); err != nil {
		return err
	}
	req, err := p.read()
	if err != nil {
		return err
	}
	login := fakeLogin{}
	if len(req) == 32 && binary.LittleEndian.Uint32(req)&capSSL != 0 {
		tc := tls.Server(c, s.tls)
		if err := tc.Handshake(); err != nil {
			// The client refusing our certificate is a test scenario,
			// not a server fault.
			s.mu.Lock()
			s.tlsFailures++
			s.mu.Unlock()
			return nil
		}
		login.tlsVersion = tc.ConnectionState().Version
		p.rw = tc
		if req, err = p.read(); err != nil {
			return err
		}
	}
	if err := parseHandshakeResponse(req, &login); err != nil {
		return err
	}
	// Like Aurora: ask for the password in the clear, which is safe only
	// because it arrives inside TLS.
	if err := p.write(append([]byte{0xfe}, "mysql_clear_password\x00"...)); err != nil {
		return err
	}
	resp, err := p.read()
	if err != nil {
		return err
	}
	login.plugin = "mysql_clear_password"
	login.password = string(bytes.TrimSuffix(resp, []byte{0}))

	s.mu.Lock()
	s.logins = append(s.logins, login)
	drop := s.dropLogins > 0
	if drop {
		s.dropLogins--
	}
	s.mu.Unlock()
	if drop {
		return nil // the deferred Close drops the connection unanswered
	}

	if login.tlsVersion == 0 || !s.accept(login.user, login.password) {
		s.mu.Lock()
		number := s.refuseWith
		s.mu.Unlock()
		if number == 0 {
			number = 1045
		}
		state, msg := "#28000", fmt.Sprintf("Access denied for user '%s'@'127.0.0.1' (using password: YES)", login.user)
		if number != 1045 {
			state, msg = "#HY000", fmt.Sprintf("refused with error %d", number)
		}
		pkt := binary.LittleEndian.AppendUint16([]byte{0xff}, number)
		pkt = append(pkt, state...)
		return p.write(append(pkt, msg...))
	}
	if err := p.write(okPacket()); err != nil {
		return err
	}
	stalled := new(atomic.Bool)
	s.mu.Lock()
	s.open = append(s.open, stalled)
	s.mu.Unlock()
	for {
		cmd, err := p.read()
		if err != nil {
			return err
		}
		switch {
		case stalled.Load(): // read on, answer nothing, until the client leaves
		case len(cmd) > 0 && cmd[0] == 0x01: // COM_QUIT
			return nil
		default: // COM_QUERY (SET time_zone), COM_PING: all OK
			if err := p.write(okPacket()); err != nil {
				return err
			}
		}
	}
}

// handshakeV10 is the server greeting, offering mysql_native_password first
// as Aurora does.
func handshakeV10() []byte {
	b := []byte{10}
	b = append(b, "8.0.39-fake\x00"...)
	b = append(b, 1, 0, 0, 0)    // connection id
	b = append(b, "abcdefgh"...) // auth data part 1
	b = append(b, 0)             // filler
	b = binary.LittleEndian.AppendUint16(b, fakeCaps&0xffff)
	b = append(b, 255)  // utf8mb4_0900_ai_ci
	b = append(b, 2, 0) // status: autocommit
	b = binary.LittleEndian.AppendUint16(b, fakeCaps>>16)
	b = append(b, 21)                    // auth data length
	b = append(b, make([]byte, 10)...)   // reserved
	b = append(b, "ijklmnopqrst\x00"...) // auth data part 2
	b = append(b, "mysql_native_password\x00"...)
	return b
}

func okPacket() []byte { return []byte{0x00, 0, 0, 2, 0, 0, 0} }

// parseHandshakeResponse reads user and database from a
// HandshakeResponse41 packet.
func parseHandshakeResponse(b []byte, l *fakeLogin) error {
	if len(b) < 32 {
		return fmt.Errorf("handshake response of %d bytes", len(b))
	}
	caps := binary.LittleEndian.Uint32(b)
	rest := b[32:]
	user, rest, ok := bytes.Cut(rest, []byte{0})
	if !ok {
		return errors.New("handshake response: unterminated user")
	}
	l.user = string(user)
	if len(rest) == 0 || rest[0] >= 0xfb {
		return errors.New("handshake response: unsupported auth data length")
	}
	n := int(rest[0])
	if len(rest) < 1+n {
		return errors.New("handshake response: short auth data")
	}
	rest = rest[1+n:]
	if caps&capConnectWithDB != 0 {
		db, _, ok := bytes.Cut(rest, []byte{0})
		if !ok {
			return errors.New("handshake response: unterminated database")
		}
		l.database = string(db)
	}
	return nil
}

// packetConn frames MySQL packets: 3-byte length, 1-byte sequence number.
type packetConn struct {
	rw  io.ReadWriter
	seq byte
}

func (p *packetConn) read() ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(p.rw, h[:]); err != nil {
		return nil, err
	}
	n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	p.seq = h[3] + 1
	b := make([]byte, n)
	_, err := io.ReadFull(p.rw, b)
	return b, err
}

func (p *packetConn) write(b []byte) error {
	h := []byte{byte(len(b)), byte(len(b) >> 8), byte(len(b) >> 16), p.seq}
	p.seq++
	_, err := p.rw.Write(append(h, b...))
	return err
}

// newTestPKI makes a throwaway CA and a server certificate for ip (for
// 127.0.0.1 if ip is nil).
func newTestPKI(t *testing.T, ip net.IP) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	if ip == nil {
		ip = net.IPv4(127, 0, 0, 1)
	}
	pki, err := localpki.Issue("iamdb test CA", []string{ip.String()}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return pki.Pool(), pki.Server
}
