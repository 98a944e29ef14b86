package mariadb

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/internal/localpki"
)

// Timeouts of the server's life cycle. Generous: the machine may be busy.
const (
	readyTimeout = 90 * time.Second
	stopTimeout  = 30 * time.Second
)

// Options configures Start. The embedded auroralocal.Options mean what they
// mean for the stand-in (Port, Endpoint, Region, Account, ClusterResourceID,
// MasterUser, MasterPassword, RequireSecureTransport, IAMAuthDisabled,
// Principals, Logger), with the same defaults; the zero value is usable.
type Options struct {
	auroralocal.Options
	// Dir is where the server's throw-away data directory is made (a fresh
	// folder inside it, removed by Close). Default: <module root>/.build/mariadb/run.
	Dir string
}

// Server is a running MariaDB server of the real-engine lane. Methods are
// safe for concurrent use.
type Server struct {
	opts     auroralocal.Options
	log      *slog.Logger
	pki      *localpki.PKI
	cmd      *exec.Cmd
	exited   chan struct{} // closed when mariadbd has exited
	exitErr  error         // valid after exited is closed
	runDir   string        // data directory and error log (under Options.Dir)
	sockDir  string        // short private folder: sockets, TLS key
	admin    *sql.DB       // root@localhost over the Unix socket: the lane's plumbing
	verifier *verifier
	started  time.Duration

	closeOnce sync.Once
	closeErr  error
}

// Start makes a data directory from the template (creating the template
// on first use), builds the plugin if it is missing or stale, starts
// mariadbd on 127.0.0.1 with TLS and the plugin, creates the master user and
// waits until it accepts logins. Close it when done: a Server left running
// is also killed when the process that started it dies.
func Start(opts Options) (s *Server, err error) {
	began := time.Now()
	o, err := opts.Options.WithDefaults()
	if err != nil {
		return nil, err
	}
	if err := Installed(); err != nil {
		return nil, err
	}
	tv, err := auroralocal.NewTokenVerifier(o)
	if err != nil {
		return nil, err
	}
	mariadbd, err := lookPath(serverProgram)
	if err != nil {
		return nil, err
	}
	pluginDir, err := ensurePlugin()
	if err != nil {
		return nil, err
	}
	tmpl, err := templateDir(mariadbd)
	if err != nil {
		return nil, err
	}
	s = &Server{opts: o, log: o.Logger, exited: make(chan struct{})}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()

	base := opts.Dir
	if base == "" {
		dir, err := buildDir()
		if err != nil {
			return s, err
		}
		base = filepath.Join(dir, "run")
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return s, err
	}
	sweepDead(base)
	if s.runDir, err = os.MkdirTemp(base, "server-"); err != nil {
		return s, err
	}
	// Unix socket paths are limited to 108 bytes; a short private folder in
	// the system temp dir keeps them valid whatever the checkout's path.
	if s.sockDir, err = os.MkdirTemp("", "rdsiam-mdb-"); err != nil {
		return s, err
	}
	if err := os.WriteFile(filepath.Join(s.runDir, sockDirFile), []byte(s.sockDir), 0o600); err != nil {
		return s, err
	}
	dataDir := filepath.Join(s.runDir, "data")
	if err := copyTree(tmpl, dataDir); err != nil {
		return s, fmt.Errorf("mariadb: copying the template data directory: %w", err)
	}
	certFile, keyFile, err := s.writeTLS()
	if err != nil {
		return s, err
	}
	if s.verifier, err = startVerifier(filepath.Join(s.sockDir, "verifier.sock"), tv, s); err != nil {
		return s, err
	}
	port := o.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return s, err
		}
	}
	s.opts.Port = port
	requireTLS := "ON"
	if !*o.RequireSecureTransport {
		requireTLS = "OFF"
	}
	args := append([]string{"--no-defaults"}, runAsRootFlag()...)
	args = append(args,
		"--datadir="+dataDir,
		"--socket="+s.socketPath(),
		"--port="+strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--skip-name-resolve",
		"--ssl-cert="+certFile, "--ssl-key="+keyFile,
		"--require-secure-transport="+requireTLS,
		"--plugin-dir="+pluginDir,
		"--plugin-load-add="+PluginFile,
		// The plugin declares itself experimental: it is a test double.
		"--plugin-maturity=experimental",
		// The verifier reads performance_schema.threads.CONNECTION_TYPE to
		// tell TLS from plain TCP (the plugin API does not say).
		"--performance-schema=ON",
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
		// Throw-away data: trade durability for speed and memory.
		"--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M",
		"--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--sync-binlog=0",
		"--log-error="+s.errorLog(),
		"--pid-file="+filepath.Join(s.runDir, "mariadbd.pid"),
	)
	s.cmd = exec.Command(mariadbd, args...)
	// The plugin finds the verifier through its environment; nothing
	// secret is in it.
	s.cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", verifierSocketEnv + "=" + s.verifier.path}
	// Pdeathsig kills mariadbd if this process dies without Close (a test
	// binary killed on timeout): no server outlives its test. The signal is
	// tied to the OS thread that forked, so that thread stays locked to the
	// goroutine that waits for mariadbd and ends only after it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	startErr := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
		err := s.cmd.Start()
		startErr <- err
		if err == nil {
			s.exitErr = s.cmd.Wait()
		}
		close(s.exited)
	}()
	if err := <-startErr; err != nil {
		s.cmd = nil
		return s, fmt.Errorf("mariadb: starting %s: %w", mariadbd, err)
	}
	if err := s.waitReady(); err != nil {
		return s, err
	}
	if err := s.setUp(); err != nil {
		return s, err
	}
	s.started = time.Since(began)
	s.log.Info("mariadb: started", "addr", s.Addr(), "endpoint", s.Endpoint(), "startup", s.started)
	return s, nil
}

// sockDirFile, in a server's run folder, names its socket folder, so
// sweepDead can remove both.
const sockDirFile = "sockdir"

// sweepDead removes what servers killed without Close (their test process
// died; Pdeathsig killed mariadbd) left in base: each run folder whose
// mariadbd is gone, and its socket folder. A folder whose pid file is
// missing or names a live process is left alone.
func sweepDead(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, "server-*"))
	for _, dir := range dirs {
		pidText, err := os.ReadFile(filepath.Join(dir, "mariadbd.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(pidText)))
		if err != nil || pid <= 0 || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue
		}
		if sock, err := os.ReadFile(filepath.Join(dir, sockDirFile)); err == nil &&
			strings.HasPrefix(filepath.Base(string(sock)), "rdsiam-mdb-") {
			os.RemoveAll(string(sock))
		}
		os.RemoveAll(dir)
	}
}

// verifierSocketEnv names the plugin's verifier socket in mariadbd's
// environment (read by plugin/aws_auth.c).
const verifierSocketEnv = "RDSIAM_VERIFIER_SOCKET"

func (s *Server) socketPath() string { return filepath.Join(s.sockDir, "mariadbd.sock") }
func (s *Server) errorLog() string   { return filepath.Join(s.runDir, "error.log") }

// writeTLS issues the server certificate from internal/localpki and writes
// it (with the CA) and its key into the private socket folder.
func (s *Server) writeTLS() (certFile, keyFile string, err error) {
	names := []string{"localhost", "127.0.0.1"}
	if s.opts.Endpoint != "localhost" && s.opts.Endpoint != "127.0.0.1" {
		names = append(names, s.opts.Endpoint)
	}
	if s.pki, err = localpki.Issue("rdsiam mariadb lane test CA", names, time.Now(), 10*365*24*time.Hour); err != nil {
		return "", "", err
	}
	var chain bytes.Buffer
	for _, der := range s.pki.Server.Certificate {
		pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(s.pki.Server.PrivateKey)
	if err != nil {
		return "", "", fmt.Errorf("mariadb: encoding the TLS key: %w", err)
	}
	certFile, keyFile = filepath.Join(s.sockDir, "server-cert.pem"), filepath.Join(s.sockDir, "server-key.pem")
	if err := os.WriteFile(certFile, chain.Bytes(), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before mariadbd binds; Start then fails naming the port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("mariadb: finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// rootDB opens a pool as root@localhost over the Unix socket.
func (s *Server) rootDB(password string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "root", password, "unix", s.socketPath()
	cfg.Timeout = 5 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}

// waitReady polls the socket until root can log in, or mariadbd exits.
func (s *Server) waitReady() error {
	db, err := s.rootDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("mariadb: mariadbd exited during start-up (%v); %s", s.exitErr, s.errorLogTail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mariadb: not ready after %s: %v; %s", readyTimeout, err, s.errorLogTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// errorLogTail is the last lines of mariadbd's error log, for start-up errors.
func (s *Server) errorLogTail() string {
	data, _ := os.ReadFile(s.errorLog())
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return "error log " + s.errorLog() + ":\n" + string(data)
}

// setUp leaves exactly the accounts a fresh Aurora cluster has for our
// purposes: the master (every privilege, WITH GRANT OPTION) and, for the
// lane's own plumbing, root@localhost with a random password, reachable only
// over the private Unix socket (with --skip-name-resolve a TCP client is
// never 'localhost'). The anonymous accounts mariadb-install-db creates
// would match a loopback login before 'app_user'@'%', so they are dropped.
func (s *Server) setUp() error {
	db, err := s.rootDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	rootPassword := rand.Text() // 26 base32 characters, 130 bits
	rows, err := db.Query("SELECT User, Host FROM mysql.user WHERE User = '' OR (User = 'root' AND Host <> 'localhost')")
	if err != nil {
		return fmt.Errorf("mariadb: listing default accounts: %w", err)
	}
	var drops []string
	for rows.Next() {
		var u, h string
		if err := rows.Scan(&u, &h); err != nil {
			rows.Close()
			return err
		}
		drops = append(drops, "DROP USER "+quoteString(u)+"@"+quoteString(h))
	}
	rows.Close()
	stmts := append(drops,
		"CREATE USER "+quoteString(s.opts.MasterUser)+"@'%' IDENTIFIED BY "+quoteString(s.opts.MasterPassword),
		"GRANT ALL PRIVILEGES ON *.* TO "+quoteString(s.opts.MasterUser)+"@'%' WITH GRANT OPTION",
		"ALTER USER 'root'@'localhost' IDENTIFIED BY "+quoteString(rootPassword),
	)
	if s.opts.IAMAuthDisabled {
		stmts = append(stmts, "UNINSTALL SONAME "+quoteString(PluginFile))
	}
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			// The statement may hold a password: name only its start.
			return fmt.Errorf("mariadb: setting up accounts (%.30s…): %w", stmt, err)
		}
	}
	if s.admin, err = s.rootDB(rootPassword); err != nil {
		return err
	}
	s.admin.SetMaxIdleConns(4)
	return nil
}

// Close stops mariadbd (SIGTERM, then SIGKILL after 30 s), stops the
// verifier and removes the data directory and sockets. Calling it again
// does nothing.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.admin != nil {
			s.admin.Close()
		}
		if s.cmd != nil && s.cmd.Process != nil {
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.exited:
			case <-time.After(stopTimeout):
				_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
				<-s.exited
				s.closeErr = fmt.Errorf("mariadb: mariadbd did not stop within %s; killed", stopTimeout)
			}
		}
		if s.verifier != nil {
			s.verifier.close()
		}
		for _, d := range []string{s.runDir, s.sockDir} {
			if d == "" {
				continue
			}
			if err := os.RemoveAll(d); err != nil && s.closeErr == nil {
				s.closeErr = fmt.Errorf("mariadb: removing %s: %w", d, err)
			}
		}
	})
	return s.closeErr
}

// StartupTime is how long Start took (template and plugin build included
// when this call made them).
func (s *Server) StartupTime() time.Duration { return s.started }

// Running reports whether mariadbd is still running.
func (s *Server) Running() bool {
	select {
	case <-s.exited:
		return false
	default:
		return s.cmd != nil
	}
}

// Pid is mariadbd's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Name identifies the engine in test names: "mariadb".
func (s *Server) Name() string { return "mariadb" }

// Addr returns "127.0.0.1:PORT", the address to dial.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.opts.Port)) }

// Host returns the endpoint host name tokens are signed for and the
// certificate is valid for (Options.Endpoint, default localhost).
func (s *Server) Host() string { return s.opts.Endpoint }

// Port returns the TCP port.
func (s *Server) Port() int { return s.opts.Port }

// Endpoint returns "Host():Port()", what tokens must be signed for.
func (s *Server) Endpoint() string {
	return net.JoinHostPort(s.opts.Endpoint, strconv.Itoa(s.opts.Port))
}

// Region returns the region tokens must be scoped to.
func (s *Server) Region() string { return s.opts.Region }

// MasterUser returns the master user's name.
func (s *Server) MasterUser() string { return s.opts.MasterUser }

// MasterPassword returns the master user's password. Do not log it.
func (s *Server) MasterPassword() string { return s.opts.MasterPassword }

// DBUserARN is the rds-db resource a login as user is authorized against.
func (s *Server) DBUserARN(user string) string { return s.verifier.tv.DBUserARN(user) }

// CAPool returns a new pool holding only this server's CA certificate.
func (s *Server) CAPool() *x509.CertPool { return s.pki.Pool() }

// CACertPEM returns the CA certificate in PEM form.
func (s *Server) CACertPEM() []byte { return append([]byte(nil), s.pki.CAPEM...) }

// WriteCA writes the PEM CA certificate to path (mode 0644), for a
// client's --ssl-ca.
func (s *Server) WriteCA(path string) error {
	if err := os.WriteFile(path, s.pki.CAPEM, 0o644); err != nil {
		return fmt.Errorf("mariadb: writing CA certificate to %s: %w", path, err)
	}
	return nil
}

// SetIAMAuth turns IAM database authentication off or on, as modifying the
// cluster would: off uninstalls the plugin (UNINSTALL SONAME), so an IAM
// user's login fails with error 1524 "Plugin 'AWSAuthenticationPlugin' is
// not loaded" before the verifier is asked; on installs it again. The
// accounts keep their plugin either way, as on Aurora.
func (s *Server) SetIAMAuth(enabled bool) error {
	var loaded int
	if err := s.admin.QueryRow("SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = ? AND PLUGIN_STATUS = 'ACTIVE'",
		auroralocal.IAMPluginName).Scan(&loaded); err != nil {
		return fmt.Errorf("mariadb: reading the plugin's state: %w", err)
	}
	stmt := ""
	switch {
	case enabled && loaded == 0:
		stmt = "INSTALL SONAME " + quoteString(PluginFile)
	case !enabled && loaded > 0:
		stmt = "UNINSTALL SONAME " + quoteString(PluginFile)
	default:
		return nil
	}
	if _, err := s.admin.Exec(stmt); err != nil {
		return fmt.Errorf("mariadb: %s: %w", stmt, err)
	}
	return nil
}

// AuthEvents returns the IAM logins the verifier decided (up to 1024),
// oldest first. Password logins and IAM logins the server refused before
// asking the plugin (unknown account, plugin uninstalled) are not in it.
func (s *Server) AuthEvents() []auroralocal.AuthEvent { return s.verifier.log.Events() }

// LastAuthError returns the reason of the most recent IAM login the
// verifier refused, or nil. Use auroralocal.ReasonCode for its code.
func (s *Server) LastAuthError() error { return s.verifier.log.LastError() }

// AdvanceClock moves the verifier's clock (token validity) by d.
func (s *Server) AdvanceClock(d time.Duration) { s.verifier.advance(d) }

// Now is the verifier's clock.
func (s *Server) Now() time.Time { return s.verifier.now() }

// quoteString is a MySQL string literal for s (backslash escapes on, the
// server default).
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}
