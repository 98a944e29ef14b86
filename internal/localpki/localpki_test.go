package localpki

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// A client trusting Pool completes a handshake for each issued name and
// fails for any other name.
func TestIssuedCertificateVerifies(t *testing.T) {
	pki, err := Issue("test CA", []string{"localhost", "127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		serverName string
		ok         bool
	}{{"localhost", true}, {"127.0.0.1", true}, {"other.example", false}} {
		client, server := net.Pipe()
		// Deadlines: after a failed verification neither side waits for
		// the other to read over the synchronous pipe.
		client.SetDeadline(time.Now().Add(5 * time.Second))
		server.SetDeadline(time.Now().Add(time.Second))
		srv := tls.Server(server, &tls.Config{Certificates: []tls.Certificate{pki.Server}})
		go func() { srv.Handshake(); server.Close() }()
		cli := tls.Client(client, &tls.Config{ServerName: tc.serverName, RootCAs: pki.Pool(), MinVersion: tls.VersionTLS12})
		err := cli.Handshake()
		cli.Close()
		if (err == nil) != tc.ok {
			t.Errorf("server name %s: handshake error %v, want ok=%v", tc.serverName, err, tc.ok)
		}
	}
	if len(pki.CAPEM) == 0 || !pki.CA.IsCA {
		t.Errorf("CA not usable: IsCA=%v, PEM %d bytes", pki.CA.IsCA, len(pki.CAPEM))
	}
}
