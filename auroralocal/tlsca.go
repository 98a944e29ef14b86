package auroralocal

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/rdsiam/rdsiam/internal/localpki"
)

// certAuthority is the per-server TLS material: a throw-away CA (standing in
// for the RDS CA bundle clients pin) and a server certificate it signed.
type certAuthority struct {
	caPEM      []byte
	pool       *x509.CertPool
	serverCert tls.Certificate
}

// newCertAuthority creates an ECDSA P-256 CA and a server certificate for
// "localhost", 127.0.0.1, endpoint (a DNS name or IP literal) and more (the
// proxy and reader endpoints), valid from
// an hour before now for ten years. Private keys never leave memory.
func newCertAuthority(endpoint string, now time.Time, more ...string) (*certAuthority, error) {
	names := []string{"localhost", "127.0.0.1"}
	if endpoint != "localhost" && !net.ParseIP(endpoint).Equal(net.IPv4(127, 0, 0, 1)) {
		names = append(names, endpoint)
	}
	names = append(names, more...)
	pki, err := localpki.Issue("auroralocal test CA", names, now, 10*365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	return &certAuthority{caPEM: pki.CAPEM, pool: pki.Pool(), serverCert: pki.Server}, nil
}

// serverTLSConfig offers TLS 1.2 and 1.3 with the server certificate.
func (ca *certAuthority) serverTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{ca.serverCert},
	}
}

// CAPool returns a new pool holding only this server's CA certificate, for a
// client tls.Config's RootCAs. Each call returns a fresh copy, so callers may
// add to it.
func (s *Server) CAPool() *x509.CertPool {
	return s.ca.pool.Clone()
}

// CACertPEM returns a copy of the CA certificate in PEM form (what a client
// would pass as ssl-ca / --ssl-ca).
func (s *Server) CACertPEM() []byte {
	return append([]byte(nil), s.ca.caPEM...)
}

// WriteCA writes the PEM CA certificate to path (mode 0644), e.g. for the
// mysql CLI's --ssl-ca. It returns the write error wrapped with the path.
func (s *Server) WriteCA(path string) error {
	if err := os.WriteFile(path, s.ca.caPEM, 0o644); err != nil {
		return fmt.Errorf("auroralocal: writing CA certificate to %s: %w", path, err)
	}
	return nil
}
