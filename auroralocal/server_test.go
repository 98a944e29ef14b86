package auroralocal

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestMasterLoginOverTLS(t *testing.T) {
	srv := startServer(t, Options{})
	cfg := clientConfig(srv, srv.MasterUser(), srv.MasterPassword(), true)
	recorder := &clientTLS{}
	cfg.TLS = recorder.config(srv)
	db := openDB(t, cfg)
	db.SetMaxOpenConns(1) // one connection, so the recorded cipher is its cipher

	var currentUser, version string
	if err := db.QueryRow("SELECT CURRENT_USER(), VERSION()").Scan(&currentUser, &version); err != nil {
		t.Fatalf("SELECT CURRENT_USER(), VERSION(): %v", err)
	}
	if want := srv.MasterUser() + "@%"; currentUser != want {
		t.Errorf("CURRENT_USER() = %q, want %q", currentUser, want)
	}
	if version != ServerVersion || !strings.HasPrefix(version, "8.0.") {
		t.Errorf("VERSION() = %q, want %q", version, ServerVersion)
	}

	var name, cipher string
	if err := db.QueryRow("SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil {
		t.Fatalf("SHOW SESSION STATUS: %v", err)
	}
	if name != "Ssl_cipher" || cipher == "" || cipher != recorder.lastCipher() {
		t.Errorf("Ssl_cipher row = (%q, %q), want (Ssl_cipher, %q) as negotiated by the client", name, cipher, recorder.lastCipher())
	}
}

// TestSslCipherIsPerConnection checks each session reports its own
// connection's cipher: a client pinned to one TLS 1.2 suite, a TLS 1.3
// client, and a plain-TCP client.
func TestSslCipherIsPerConnection(t *testing.T) {
	srv := startServer(t, Options{RequireSecureTransport: Bool(false)})
	tls12 := clientConfig(srv, srv.MasterUser(), srv.MasterPassword(), true)
	tls12.TLS.MaxVersion = tls.VersionTLS12
	tls12.TLS.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}
	tls13 := clientConfig(srv, srv.MasterUser(), srv.MasterPassword(), true)
	tls13.TLS.MinVersion = tls.VersionTLS13
	plain := clientConfig(srv, srv.MasterUser(), srv.MasterPassword(), false)

	tests := []struct {
		name string
		cfg  *mysql.Config
		want func(string) bool
	}{
		{"tls1.2 pinned suite", tls12, func(c string) bool { return c == "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" }},
		{"tls1.3", tls13, func(c string) bool { return strings.HasPrefix(c, "TLS_AES_") || strings.HasPrefix(c, "TLS_CHACHA20_") }},
		{"plain tcp", plain, func(c string) bool { return c == "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := showStatus(t, tc.cfg, "Ssl_cipher"); !tc.want(got) {
				t.Errorf("Ssl_cipher = %q", got)
			}
		})
	}
}

// showStatus returns the session status variable name on a fresh
// connection made with cfg.
func showStatus(t *testing.T, cfg *mysql.Config, name string) string {
	t.Helper()
	db := openDB(t, cfg)
	var gotName, value string
	if err := db.QueryRow("SHOW SESSION STATUS LIKE '"+name+"'").Scan(&gotName, &value); err != nil {
		t.Fatalf("SHOW SESSION STATUS LIKE '%s': %v", name, err)
	}
	if gotName != name {
		t.Fatalf("Variable_name = %q, want %q", gotName, name)
	}
	return value
}

func TestCAMaterial(t *testing.T) {
	srv := startServer(t, Options{Endpoint: "db.auroralocal.test"})
	block, _ := pem.Decode(srv.CACertPEM())
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("CACertPEM is not a PEM certificate")
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !ca.IsCA {
		t.Fatalf("CA certificate: IsCA=%v err=%v", ca != nil && ca.IsCA, err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := srv.WriteCA(path); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(path)
	if err != nil || string(written) != string(srv.CACertPEM()) {
		t.Fatalf("WriteCA wrote %d bytes (err %v), want the CACertPEM bytes", len(written), err)
	}
	if err := srv.WriteCA(filepath.Join(t.TempDir(), "missing", "ca.pem")); err == nil {
		t.Error("WriteCA into a missing directory succeeded")
	}

	leaf, err := x509.ParseCertificate(srv.ca.serverCert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.1", "db.auroralocal.test"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: srv.CAPool()}); err != nil {
			t.Errorf("server certificate not valid for %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.example.com", Roots: srv.CAPool()}); err == nil {
		t.Error("server certificate valid for an unrelated name")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: x509.NewCertPool()}); err == nil {
		t.Error("server certificate verified without its CA")
	}
}
