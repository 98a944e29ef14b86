package connect

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"
)

// BenchmarkHopRoundTrip: one 1 KiB request and its echo over an open
// session, straight to the server (one TLS session) and through the hop
// (two TLS sessions and two more loopback hops): what a person's statement
// pays for the hop once logged in.
func BenchmarkHopRoundTrip(b *testing.B) {
	srv := startFakeMySQL(b, []string{realName}, clientSSL)
	msg := make([]byte, 1024)
	got := make([]byte, len(msg))
	roundTrips := func(b *testing.B, c net.Conn) {
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(c, got); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("direct", func(b *testing.B) {
		c, err := net.Dial("tcp", srv.addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Minute))
		if _, err := readPacket(c); err != nil {
			b.Fatal(err)
		}
		c.Write(sslRequest(clientSSL))
		s := tls.Client(c, &tls.Config{ServerName: realName, RootCAs: srv.roots})
		roundTrips(b, s)
	})
	b.Run("through-hop", func(b *testing.B) {
		h, _ := startTestHop(b, srv, realName)
		s, err := clientThroughHop(b, h, true)
		if err != nil {
			b.Fatal(err)
		}
		s.SetDeadline(time.Now().Add(time.Minute))
		roundTrips(b, s)
	})
}
