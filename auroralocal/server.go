package auroralocal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/vitess/go/mysql"
)

// listenHost is the only interface the server binds: it is a local test
// stand-in and must never be reachable from elsewhere.
const listenHost = "127.0.0.1"

// stopDrainTimeout bounds how long Stop waits for connection handlers to
// finish after their sockets were closed.
const stopDrainTimeout = 10 * time.Second

// Server is a running (or stopped) local Aurora MySQL stand-in. All methods
// are safe for concurrent use.
type Server struct {
	opts     Options
	log      *slog.Logger
	ca       *certAuthority
	engine   *sqle.Engine
	provider *memory.DbProvider
	mysqlDb  *mysql_db.MySQLDb
	auth     *authServer
	verifier *TokenVerifier

	iamEnabled atomic.Bool
	clock      serverClock
	faults     loginFaults
	stats      statsCounters
	events     AuthLog
	limits     limits // limits.go

	// proxy and reader are the extra endpoints (nil when not configured);
	// doors maps their relays' outbound addresses to them.
	proxy, reader *door
	doors         doorTable

	// port is set by the first listen and never changes afterwards. It is
	// atomic, not under lifeMu, because auth methods read it (Endpoint)
	// while Stop holds lifeMu waiting for those very handlers to finish.
	port atomic.Int32

	// lifeMu serializes Start/Stop/Restart/Close and guards the fields below.
	lifeMu  sync.Mutex
	closed  bool
	gms     *server.Server    // nil while stopped
	ln      *trackingListener // current generation's listener; nil while stopped
	handler *connHandler      // current generation's handler wrapper
	served  chan struct{}     // closed when the accept loop returns
}

// Start creates the in-memory database, the master user and the TLS
// material, and starts listening on 127.0.0.1:opts.Port (0 = ephemeral). It
// returns an error naming the bad option if opts is invalid, or the listen
// error.
func Start(opts Options) (*Server, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	ca, err := newCertAuthority(o.Endpoint, time.Now(), o.doorHosts()...)
	if err != nil {
		return nil, fmt.Errorf("auroralocal: creating TLS material: %w", err)
	}
	engine, provider, mysqlDb, err := newEngine(o.MasterUser, o.MasterPassword)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:     o,
		log:      o.Logger,
		ca:       ca,
		engine:   engine,
		provider: provider,
		mysqlDb:  mysqlDb,
		verifier: newTokenVerifier(o),
	}
	s.port.Store(int32(o.Port))
	s.iamEnabled.Store(!o.IAMAuthDisabled)
	if s.auth, err = newAuthServer(s); err != nil {
		return nil, err
	}

	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	// The doors first: their fields are then set before any goroutine
	// that serves a connection starts, and nobody can reach them before
	// Start returns the port.
	if err := s.openDoors(); err != nil {
		_ = engine.Close()
		return nil, err
	}
	if err := s.listenLocked(); err != nil {
		s.proxy.close()
		s.reader.close()
		_ = engine.Close()
		return nil, err
	}
	s.log.Info("auroralocal: started", "addr", s.Addr(), "endpoint", s.opts.Endpoint, "region", s.opts.Region,
		"master_user", s.opts.MasterUser, "require_secure_transport", *s.opts.RequireSecureTransport)
	return s, nil
}

// listenLocked binds the port and starts a new GMS server generation over
// the shared engine (same databases and users). Callers hold lifeMu.
func (s *Server) listenLocked() error {
	addr := s.Addr()
	raw, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("auroralocal: listening on %s: %w", addr, err)
	}
	s.port.Store(int32(raw.Addr().(*net.TCPAddr).Port))
	ln := newTrackingListener(raw, &s.stats)

	var handler *connHandler
	cfg := server.Config{
		Protocol: "tcp",
		Address:  raw.Addr().String(),
		Listener: ln,
		Version:  ServerVersion,
		// TLS is offered via the listener factory below; GMS's own
		// RequireSecureTransport is not used because vitess keeps going after
		// sending its error. Transport checks live in the auth methods.
		TLSConfig: s.ca.serverTLSConfig(),
		ProtocolListenerFactory: func(cfg server.Config, lc mysql.ListenerConfig, _ server.ServerEventListener) (server.ProtocolListener, error) {
			lc.AuthServer = s.auth
			lc.AllowClearTextWithoutTLS = false
			vl, err := mysql.NewListenerWithConfig(lc)
			if err != nil {
				return nil, err
			}
			vl.ServerVersion = ServerVersion
			vl.TLSConfig = cfg.TLSConfig
			return vl, nil
		},
	}
	wrap := func(h mysql.Handler) (mysql.Handler, error) {
		handler = &connHandler{next: h, s: s}
		return handler, nil
	}
	gs, err := server.NewServerWithHandler(cfg, s.engine, sql.NewContext, s.buildSession, nil, wrap)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("auroralocal: creating GMS server: %w", err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = gs.Start() // returns when the listener closes
	}()
	s.gms, s.ln, s.handler, s.served = gs, ln, handler, served
	return nil
}

// Stop closes the listener and every client connection, and waits for their
// handlers to finish. Data and users stay in memory for Restart. Stopping a
// stopped server does nothing.
func (s *Server) Stop() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.stopLocked()
}

func (s *Server) stopLocked() error {
	if s.gms == nil {
		return nil
	}
	gs, ln, handler, served := s.gms, s.ln, s.handler, s.served
	s.gms, s.ln, s.handler, s.served = nil, nil, nil, nil

	_ = gs.Close() // closes the listener; the accept loop returns
	<-served
	dropped := ln.closeAll()

	// Every accepted connection ends in ConnectionClosed; wait for all of
	// them so the next generation never shares connection ids with a
	// handler still tearing down.
	deadline := time.Now().Add(stopDrainTimeout)
	for handler.closedCount() < int64(ln.acceptedCount()) {
		if time.Now().After(deadline) {
			s.log.Warn("auroralocal: stop timed out waiting for connection handlers",
				"accepted", ln.acceptedCount(), "closed", handler.closedCount())
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.log.Info("auroralocal: stopped", "port", s.Port(), "connections_closed", dropped)
	return nil
}

// Restart listens again on the same port, serving the same databases, users
// and grants. It fails if the server is running, closed, or the port was
// taken meanwhile.
func (s *Server) Restart() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return errClosed
	}
	if s.gms != nil {
		return errors.New("auroralocal: Restart called on a running server; call Stop first")
	}
	if err := s.listenLocked(); err != nil {
		return err
	}
	s.log.Info("auroralocal: restarted", "addr", s.Addr())
	return nil
}

// Close stops the server for good and releases the engine. Calling it again
// does nothing.
func (s *Server) Close() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return nil
	}
	s.proxy.close()
	s.reader.close()
	err := s.stopLocked()
	s.closed = true
	// GMS's BackgroundThreads.Shutdown always reports context.Canceled.
	if cerr := s.engine.Close(); cerr != nil && !errors.Is(cerr, context.Canceled) && err == nil {
		err = fmt.Errorf("auroralocal: closing engine: %w", cerr)
	}
	return err
}

func (s *Server) isClosed() bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.closed
}

// Addr returns "127.0.0.1:PORT", the address to dial.
func (s *Server) Addr() string { return net.JoinHostPort(listenHost, strconv.Itoa(s.Port())) }

// Host returns the endpoint host name (Options.Endpoint, default
// "localhost"): the name IAM tokens are signed for and the TLS certificate
// is valid for (use it as tls.Config.ServerName). The server itself listens
// on 127.0.0.1 only; dial Addr() if Host does not resolve there.
func (s *Server) Host() string { return s.opts.Endpoint }

// Port returns the TCP port, stable across Stop/Restart.
func (s *Server) Port() int { return int(s.port.Load()) }

// Endpoint returns "Host():Port()", e.g. "localhost:33061": what
// feature/rds/auth.BuildAuthToken must be given for tokens to verify.
func (s *Server) Endpoint() string {
	return net.JoinHostPort(s.opts.Endpoint, strconv.Itoa(s.Port()))
}

// Region returns the emulated cluster's AWS region.
func (s *Server) Region() string { return s.opts.Region }

// MasterUser returns the master user's name.
func (s *Server) MasterUser() string { return s.opts.MasterUser }

// MasterPassword returns the master user's password (generated at Start
// unless Options.MasterPassword was set). Do not log it.
func (s *Server) MasterPassword() string { return s.opts.MasterPassword }
