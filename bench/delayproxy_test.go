package bench

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// delayProxy forwards TCP connections from its own address to target and
// holds every chunk of data, in both directions, for oneWay before passing
// it on: a network with a round-trip time of 2*oneWay on top of loopback's,
// and loopback's bandwidth. It lets the benchmarks show how costs that are
// counted in round trips (a new TLS connection and login takes several, a
// warm query one) compare at a latency like a Lambda's to Aurora in the
// same region, which the loopback stand-in alone cannot.
type delayProxy struct {
	ln     net.Listener
	target string
	oneWay time.Duration
	wg     sync.WaitGroup
}

// startDelayProxy listens on listenAddr and forwards to target.
func startDelayProxy(listenAddr, target string, oneWay time.Duration) (*delayProxy, error) {
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("delay proxy: %w", err)
	}
	p := &delayProxy{ln: ln, target: target, oneWay: oneWay}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *delayProxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(client)
		}()
	}
}

// handle forwards one connection until either side closes, then closes
// both.
func (p *delayProxy) handle(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client); done <- struct{}{} }()
	go func() { p.pipe(client, server); done <- struct{}{} }()
	<-done
}

// pipe copies src to dst, each chunk delivered oneWay after it was read.
// Reading goes on while earlier chunks wait, so the delay adds latency but
// does not throttle throughput.
func (p *delayProxy) pipe(dst io.Writer, src io.Reader) {
	type chunk struct {
		data []byte
		due  time.Time
	}
	chunks := make(chan chunk, 256)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				chunks <- chunk{buf[:n], time.Now().Add(p.oneWay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(c.data); err != nil {
			for range chunks { // let the reader finish
			}
			return
		}
	}
}

// close stops accepting; open connections end when their clients close.
func (p *delayProxy) close() { p.ln.Close() }
