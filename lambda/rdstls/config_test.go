package rdstls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rdsiam/rdsiam/internal/localpki"
)

func TestConfigFields(t *testing.T) {
	custom := x509.NewCertPool()
	embedded, err := RootCAs()
	if err != nil {
		t.Fatalf("RootCAs: %v", err)
	}
	tests := []struct {
		name       string
		serverName string
		roots      *x509.CertPool
		wantRoots  *x509.CertPool
		wantErr    string
	}{
		{name: "nil roots use the embedded bundle", serverName: "db.cluster-abc.eu-west-1.rds.amazonaws.com", wantRoots: embedded},
		{name: "custom roots are kept", serverName: "localhost", roots: custom, wantRoots: custom},
		{name: "IP literal", serverName: "127.0.0.1", wantRoots: embedded},
		{name: "empty", serverName: "", wantErr: "server name is empty"},
		{name: "with port", serverName: "db.example.com:3306", wantErr: `"db.example.com:3306" includes port 3306`},
		{name: "URL", serverName: "https://db.example.com", wantErr: "is not a host name"},
		{name: "space", serverName: "db example", wantErr: "is not a host name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Config(tt.serverName, tt.roots)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Config(%q) error = %v, want one containing %q", tt.serverName, err, tt.wantErr)
				}
				if cfg != nil {
					t.Errorf("Config(%q) returned a config alongside an error", tt.serverName)
				}
				return
			}
			if err != nil {
				t.Fatalf("Config(%q): %v", tt.serverName, err)
			}
			if cfg.ServerName != tt.serverName {
				t.Errorf("ServerName = %q, want %q", cfg.ServerName, tt.serverName)
			}
			if cfg.RootCAs != tt.wantRoots {
				t.Errorf("RootCAs = %p, want %p", cfg.RootCAs, tt.wantRoots)
			}
			if cfg.MinVersion != tls.VersionTLS12 {
				t.Errorf("MinVersion = %#x, want TLS 1.2 (%#x)", cfg.MinVersion, tls.VersionTLS12)
			}
			if cfg.InsecureSkipVerify {
				t.Error("InsecureSkipVerify is set")
			}
		})
	}
}

func TestConfigReturnsIndependentCopies(t *testing.T) {
	a, err := Config("a.example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Config("a.example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	a.ServerName = "changed.example.com"
	if b.ServerName != "a.example.com" {
		t.Fatalf("changing one Config result changed another: ServerName = %q", b.ServerName)
	}
}

// TestConfigVerifiesServer runs real handshakes against a server whose
// certificate comes from a throwaway CA, to show that the returned config
// enforces both the trusted roots and the host name.
func TestConfigVerifiesServer(t *testing.T) {
	ca, leaf := newTestPKI(t, "db.test.internal")
	roots := x509.NewCertPool()
	roots.AddCert(ca)

	tests := []struct {
		name       string
		serverName string
		roots      *x509.CertPool // nil: the embedded RDS bundle
		maxVersion uint16         // server's highest TLS version
		wantErr    string         // empty: handshake must succeed
	}{
		{name: "trusted CA and matching name", serverName: "db.test.internal", roots: roots},
		{name: "name mismatch", serverName: "other.test.internal", roots: roots, wantErr: "certificate is valid for db.test.internal"},
		{name: "CA not in RDS bundle", serverName: "db.test.internal", wantErr: "certificate signed by unknown authority"},
		{name: "server offers only TLS 1.1", serverName: "db.test.internal", roots: roots, maxVersion: tls.VersionTLS11, wantErr: "protocol version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Config(tt.serverName, tt.roots)
			if err != nil {
				t.Fatalf("Config: %v", err)
			}
			err = handshake(t, cfg, &tls.Config{
				Certificates: []tls.Certificate{leaf},
				MinVersion:   tls.VersionTLS10,
				MaxVersion:   tt.maxVersion,
			})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("handshake failed: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("handshake error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// handshake connects client to server over loopback TCP and returns the
// client's handshake error. A socket rather than net.Pipe: the pipe has no
// buffering, so a client aborting mid-handshake can deadlock with the server.
func handshake(t *testing.T, client, server *tls.Config) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		// The server's own error is irrelevant: the client decides.
		_ = tls.Server(s, server).HandshakeContext(ctx)
	}()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	err = tls.Client(c, client).HandshakeContext(ctx)
	c.Close()
	<-done
	return err
}

// newTestPKI makes a self-signed CA and a server certificate for host.
func newTestPKI(t *testing.T, host string) (*x509.Certificate, tls.Certificate) {
	t.Helper()
	pki, err := localpki.Issue("rdstls test CA", []string{host}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return pki.CA, pki.Server
}
