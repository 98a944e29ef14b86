package auroralocal

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
)

// A door is a second endpoint of the stand-in (the RDS Proxy endpoint or the
// cluster's reader endpoint): its own TCP listener on 127.0.0.1 that relays
// every connection, byte for byte, to the server's own listener. TLS and
// the login run end to end between the client and the server; the server
// tells which door a connection came through by the relay's outbound
// address, and then checks the token against the door's host name and
// resource ARN (and, for the reader, refuses writes).
//
// The relay is a real extra hop on loopback, so what a proxy costs per query
// and per login can be measured against the direct path; it is a floor for
// what RDS Proxy costs, which also parses and multiplexes the protocol.
type door struct {
	s    *Server
	kind string // "proxy" or "reader", for logs and errors
	host string
	// resourceID is the id in the door's rds-db:connect ARNs: the proxy's
	// prx-… id, or the cluster's for the reader endpoint.
	resourceID string
	readOnly   bool
	// backend, when set, is the proxy's own role: it must be allowed
	// rds-db:connect on the cluster's ARN for the user, as RDS Proxy's role
	// must be to log in to the database with IAM end to end.
	backend *Principal

	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	open map[net.Conn]struct{}
}

// doorTable maps each relay's outbound local address to its door.
type doorTable struct {
	mu    sync.Mutex
	byOut map[string]*door
}

func (t *doorTable) put(addr string, d *door) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byOut == nil {
		t.byOut = map[string]*door{}
	}
	t.byOut[addr] = d
}

func (t *doorTable) remove(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byOut, addr)
}

// doorOf returns the door a server-side connection from remote came
// through, or nil for a direct connection.
func (s *Server) doorOf(remote net.Addr) *door {
	// Without doors (the usual server) logins and statements pay nothing.
	if remote == nil || (s.proxy == nil && s.reader == nil) {
		return nil
	}
	s.doors.mu.Lock()
	defer s.doors.mu.Unlock()
	return s.doors.byOut[remote.String()]
}

// endpoint is what tokens for this door must be signed for: its host name
// and the port clients are configured with, which is the cluster's (the
// stand-in's doors listen elsewhere; Server.Dial routes by host name).
func (d *door) endpoint() string {
	return net.JoinHostPort(d.host, strconv.Itoa(d.s.Port()))
}

// hostName and endpointName are host and endpoint(), or "" for a door
// that is not configured (nil).
func (d *door) hostName() string {
	if d == nil {
		return ""
	}
	return d.host
}

func (d *door) endpointName() string {
	if d == nil {
		return ""
	}
	return d.endpoint()
}

func (d *door) dbUserARN(user string) string {
	return fmt.Sprintf("arn:%s:rds-db:%s:%s:dbuser:%s/%s", Partition, d.s.opts.Region, d.s.opts.Account, d.resourceID, user)
}

// openDoor starts listening and relaying.
func (s *Server) openDoor(d *door) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(listenHost, "0"))
	if err != nil {
		return fmt.Errorf("auroralocal: %s endpoint: %w", d.kind, err)
	}
	d.s, d.ln, d.open = s, ln, map[net.Conn]struct{}{}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d.wg.Add(1)
			go func() {
				defer d.wg.Done()
				d.relay(c)
			}()
		}
	}()
	return nil
}

// relay connects client to the server and copies both ways until either
// side closes. While the server is stopped the client is closed at once,
// as a proxy with no target does.
func (d *door) relay(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", d.s.Addr())
	if err != nil {
		return
	}
	defer server.Close()
	out := server.LocalAddr().String()
	// Registered before any client byte is forwarded, so the login that
	// follows always finds its door.
	d.s.doors.put(out, d)
	defer d.s.doors.remove(out)
	if !d.track(client, server) {
		return
	}
	defer d.untrack(client, server)
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// Either side ending ends the session, as a proxy does.
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go cp(server, client)
	go cp(client, server)
	<-done
	<-done
}

func (d *door) track(cs ...net.Conn) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.open == nil { // closed
		return false
	}
	for _, c := range cs {
		d.open[c] = struct{}{}
	}
	return true
}

func (d *door) untrack(cs ...net.Conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range cs {
		delete(d.open, c)
	}
}

// close stops the listener, closes every relayed connection and waits for
// the relays to end.
func (d *door) close() {
	if d == nil || d.ln == nil {
		return
	}
	_ = d.ln.Close()
	d.mu.Lock()
	for c := range d.open {
		_ = c.Close()
	}
	d.open = nil
	d.mu.Unlock()
	d.wg.Wait()
}

// Dial connects to the endpoint named by addr's host: the cluster endpoint
// (Host()), ProxyHost() or ReaderHost(), whatever the port, which clients
// take from their configuration (DB_PORT) and must equal Port(). Use it as
// iamdb.Config.Dial when a client is configured with a door's host name,
// which does not resolve. Other hosts are refused, naming the known ones.
func (s *Server) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("auroralocal: Dial %q: %w", addr, err)
	}
	if port != strconv.Itoa(s.Port()) {
		return nil, fmt.Errorf("auroralocal: Dial %q: port %s is not the cluster's port %d", addr, port, s.Port())
	}
	target := ""
	switch {
	case host == s.Host() || host == listenHost:
		target = s.Addr()
	case s.proxy != nil && host == s.proxy.host:
		target = s.proxy.ln.Addr().String()
	case s.reader != nil && host == s.reader.host:
		target = s.reader.ln.Addr().String()
	default:
		return nil, fmt.Errorf("auroralocal: Dial %q: unknown host; this stand-in answers %s", addr, s.hostList())
	}
	var d net.Dialer
	return d.DialContext(ctx, network, target)
}

func (s *Server) hostList() string {
	hosts := s.Host()
	if s.proxy != nil {
		hosts += ", " + s.proxy.host + " (proxy)"
	}
	if s.reader != nil {
		hosts += ", " + s.reader.host + " (reader)"
	}
	return hosts
}

// normalizeDoors fills the proxy's and reader's defaults and checks them.
func (o *Options) normalizeDoors() error {
	if o.Proxy != nil {
		p := *o.Proxy
		if err := p.normalize(o.Endpoint); err != nil {
			return err
		}
		o.Proxy = &p
	}
	if o.Reader != nil {
		r := *o.Reader
		if err := r.normalize(o.Endpoint); err != nil {
			return err
		}
		o.Reader = &r
	}
	if o.Proxy != nil && o.Reader != nil && o.Proxy.Host == o.Reader.Host {
		return fmt.Errorf("auroralocal: Options.Proxy.Host and Options.Reader.Host are both %q; each endpoint needs its own name", o.Proxy.Host)
	}
	return nil
}

// doorHosts are the extra names the server certificate must cover.
func (o Options) doorHosts() []string {
	var hosts []string
	if o.Proxy != nil {
		hosts = append(hosts, o.Proxy.Host)
	}
	if o.Reader != nil {
		hosts = append(hosts, o.Reader.Host)
	}
	return hosts
}

// openDoors starts the configured proxy and reader endpoints.
func (s *Server) openDoors() error {
	if p := s.opts.Proxy; p != nil {
		role := p.Role
		s.proxy = &door{kind: "proxy", host: p.Host, resourceID: p.ResourceID, backend: &role}
		if err := s.openDoor(s.proxy); err != nil {
			return err
		}
	}
	if r := s.opts.Reader; r != nil {
		s.reader = &door{kind: "reader", host: r.Host, resourceID: s.opts.ClusterResourceID, readOnly: true}
		if err := s.openDoor(s.reader); err != nil {
			s.proxy.close()
			return err
		}
	}
	return nil
}
