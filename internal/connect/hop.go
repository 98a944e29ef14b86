package connect

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/rdsiam/rdsiam/internal/localpki"
)

// The hop exists because of the tunnel trap: through a tunnel the client
// dials localhost, but the server's certificate names the cluster endpoint,
// and the MariaDB and Oracle MySQL clients check the certificate against the
// name they dialled. Turning verification off would send the token, a
// cleartext password, to whoever answers.
//
// So the client talks TLS to this hop on 127.0.0.1, verified against a CA
// that exists only in this process (its certificate goes to the client's
// --ssl-ca), and the hop talks TLS to the server, verified for the REAL
// host name against the RDS CA bundle. MySQL upgrades to TLS inside its own
// protocol (the server greets in clear, the client answers with an
// SSLRequest packet), so the hop relays those two packets, does both
// handshakes, and then copies decrypted bytes both ways unchanged: the
// login, with the token, happens end to end inside the two TLS sessions.
//
// The hop adds no credential: another local user who connects to its port
// reaches the server's login prompt and nothing more, as from inside the
// VPC. And only this process holds the key of the hop's certificate, so a
// program that took the port first could not pass the client's verification.

// clientSSL is the CLIENT_SSL capability flag.
const clientSSL = 0x0800

// maxHandshakePacket bounds the greeting and the SSLRequest the hop reads
// before TLS; real ones are about 100 and exactly 32 bytes.
const maxHandshakePacket = 64 << 10

// hopCertLifetime: the hop's certificate only has to outlive one session.
const hopCertLifetime = 24 * time.Hour

// Hop is a local, TLS-terminating relay to one MySQL server.
type Hop struct {
	ln        net.Listener
	pki       *localpki.PKI
	dial      func(ctx context.Context) (net.Conn, error)
	upstream  *tls.Config
	onError   func(error)
	wg        sync.WaitGroup
	closeOnce sync.Once
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
}

// StartHop listens on 127.0.0.1 (an ephemeral port) and relays every
// connection to the server that dial reaches, verifying it with upstream
// (which must verify: rdstls.Config for the real host name). onError
// receives each connection's failure (nil: ignored); it never holds the
// token, which the hop never parses.
func StartHop(dial func(ctx context.Context) (net.Conn, error), upstream *tls.Config, onError func(error)) (*Hop, error) {
	if upstream == nil || upstream.InsecureSkipVerify || upstream.ServerName == "" {
		return nil, errors.New("connect: the hop needs a TLS configuration that verifies the server by name")
	}
	pki, err := localpki.Issue("rdsiam connect hop CA", []string{"localhost", "127.0.0.1"}, time.Now(), hopCertLifetime)
	if err != nil {
		return nil, fmt.Errorf("connect: hop certificate: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("connect: hop listener: %w", err)
	}
	if onError == nil {
		onError = func(error) {}
	}
	h := &Hop{ln: ln, pki: pki, dial: dial, upstream: upstream, onError: onError, conns: map[net.Conn]struct{}{}}
	h.wg.Add(1)
	go h.accept()
	return h, nil
}

// Port is the port the hop listens on at 127.0.0.1.
func (h *Hop) Port() int { return h.ln.Addr().(*net.TCPAddr).Port }

// CAPEM is the CA certificate the client must trust for the hop.
func (h *Hop) CAPEM() []byte { return append([]byte(nil), h.pki.CAPEM...) }

// Close stops listening, ends every relayed connection and waits for them.
func (h *Hop) Close() error {
	var err error
	h.closeOnce.Do(func() {
		err = h.ln.Close()
		h.mu.Lock()
		for c := range h.conns {
			c.Close()
		}
		h.conns = nil
		h.mu.Unlock()
	})
	h.wg.Wait()
	return err
}

// track registers c so that Close can end it, and returns the function
// that forgets it; after Close it closes c at once.
func (h *Hop) track(c net.Conn) (untrack func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns == nil {
		c.Close()
		return func() {}
	}
	h.conns[c] = struct{}{}
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.conns != nil {
			delete(h.conns, c)
		}
	}
}

func (h *Hop) accept() {
	defer h.wg.Done()
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			if err := h.relay(c); err != nil {
				h.onError(err)
			}
		}()
	}
}

// relay serves one client connection.
func (h *Hop) relay(client net.Conn) error {
	defer client.Close()
	defer h.track(client)()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	server, err := h.dial(ctx)
	if err != nil {
		return fmt.Errorf("connect: hop: reach the server: %w", err)
	}
	defer server.Close()
	defer h.track(server)()

	// Both handshakes must finish in time; afterwards a session may idle.
	deadline, _ := ctx.Deadline()
	server.SetDeadline(deadline)
	client.SetDeadline(deadline)

	greeting, err := readPacket(server)
	if err != nil {
		return fmt.Errorf("connect: hop: read the server's greeting: %w", err)
	}
	if err := checkGreeting(greeting); err != nil {
		client.Write(greeting) // an error packet explains itself to the client
		return err
	}
	if _, err := client.Write(greeting); err != nil {
		return fmt.Errorf("connect: hop: greet the client: %w", err)
	}
	request, err := readPacket(client)
	if err != nil {
		return fmt.Errorf("connect: hop: read the client's first packet: %w", err)
	}
	if !isSSLRequest(request) {
		// The token must not cross even the loopback in clear.
		return errors.New("connect: hop: the client did not ask for TLS; refused")
	}
	if _, err := server.Write(request); err != nil {
		return fmt.Errorf("connect: hop: forward the SSLRequest: %w", err)
	}
	upstream := tls.Client(server, h.upstream.Clone())
	if err := upstream.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrTLSNotVerifiable, h.upstream.ServerName, err)
	}
	local := tls.Server(client, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{h.pki.Server}})
	if err := local.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("connect: hop: TLS with the local client: %w", err)
	}
	server.SetDeadline(time.Time{})
	client.SetDeadline(time.Time{})

	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(upstream, local)
	go pipe(local, upstream)
	<-done
	// One side ended the session: end the other, so neither waits.
	server.Close()
	client.Close()
	<-done
	return nil
}

// readPacket reads one MySQL packet, header included.
func readPacket(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if n > maxHandshakePacket {
		return nil, fmt.Errorf("packet of %d bytes before TLS; want at most %d", n, maxHandshakePacket)
	}
	p := make([]byte, 4+n)
	copy(p, hdr[:])
	if _, err := io.ReadFull(r, p[4:]); err != nil {
		return nil, err
	}
	return p, nil
}

// checkGreeting accepts a protocol-10 greeting that offers TLS.
func checkGreeting(p []byte) error {
	payload := p[4:]
	if len(payload) > 0 && payload[0] == 0xff {
		msg := payload[1:]
		if len(msg) >= 2 {
			msg = msg[2:]
		}
		return fmt.Errorf("connect: hop: the server refused the connection: %q", msg)
	}
	if len(payload) == 0 || payload[0] != 10 {
		return errors.New("connect: hop: the server's greeting is not MySQL protocol 10: is this a MySQL port?")
	}
	i := 1
	for i < len(payload) && payload[i] != 0 {
		i++
	}
	i += 1 + 4 + 8 + 1 // NUL, connection id, auth data part 1, filler
	if i+2 > len(payload) {
		return errors.New("connect: hop: the server's greeting is truncated")
	}
	if binary.LittleEndian.Uint16(payload[i:])&clientSSL == 0 {
		return fmt.Errorf("%w: the server does not offer TLS, so the token cannot be sent safely", ErrTLSNotVerifiable)
	}
	return nil
}

// isSSLRequest reports whether p is a client's SSLRequest: a 32-byte payload
// whose capability flags ask for TLS.
func isSSLRequest(p []byte) bool {
	payload := p[4:]
	return len(payload) == 32 && binary.LittleEndian.Uint32(payload)&clientSSL != 0
}
