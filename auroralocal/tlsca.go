package auroralocal

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// certAuthority is the per-server TLS material: a throw-away CA (standing in
// for the RDS CA bundle clients pin) and a server certificate it signed.
type certAuthority struct {
	caPEM      []byte
	pool       *x509.CertPool
	serverCert tls.Certificate
}

// newCertAuthority creates an ECDSA P-256 CA and a server certificate for
// "localhost", 127.0.0.1 and endpoint (a DNS name or IP literal), valid from
// an hour before now for ten years. Private keys never leave memory.
func newCertAuthority(endpoint string, now time.Time) (*certAuthority, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating CA key: %w", err)
	}
	notBefore, notAfter := now.Add(-time.Hour), now.Add(10*365*24*time.Hour)
	caSerial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          caSerial,
		Subject:               pkix.Name{CommonName: "auroralocal test CA", Organization: []string{"auroralocal"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("self-signing CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parsing CA certificate: %w", err)
	}

	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating server key: %w", err)
	}
	srvSerial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	srvTemplate := &x509.Certificate{
		SerialNumber: srvSerial,
		Subject:      pkix.Name{CommonName: endpoint, Organization: []string{"auroralocal"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	if ip := net.ParseIP(endpoint); ip != nil {
		if !ip.Equal(net.IPv4(127, 0, 0, 1)) {
			srvTemplate.IPAddresses = append(srvTemplate.IPAddresses, ip)
		}
	} else if endpoint != "localhost" {
		srvTemplate.DNSNames = append(srvTemplate.DNSNames, endpoint)
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTemplate, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("signing server certificate: %w", err)
	}

	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &certAuthority{
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pool:  pool,
		serverCert: tls.Certificate{
			Certificate: [][]byte{srvDER, caDER},
			PrivateKey:  srvKey,
		},
	}, nil
}

// serverTLSConfig offers TLS 1.2 and 1.3 with the server certificate.
func (ca *certAuthority) serverTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{ca.serverCert},
	}
}

func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating certificate serial: %w", err)
	}
	return serial, nil
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
