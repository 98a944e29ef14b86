package dbuser

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/lambda/backoff"
	"github.com/rdsiam/rdsiam/lambda/rdstls"
)

// Connection defaults.
const (
	// DefaultWaitFor is how long Create and Update wait for a new cluster
	// to accept connections: the writer can refuse connections for a while
	// after CloudFormation reports the cluster as created.
	DefaultWaitFor = 3 * time.Minute
	// DeleteWaitFor caps the wait on Delete, so that deleting a stack whose
	// cluster is unreachable does not hang.
	DeleteWaitFor = 30 * time.Second
	// DefaultConnectTimeout bounds one connection attempt (dial, TLS, login).
	DefaultConnectTimeout = 10 * time.Second
)

// Backoff between connection attempts: exponential from backoffBase up to
// backoffMax, each delay jittered so that many stacks deploying at once do
// not retry in lock step.
const (
	defaultBackoffBase = 500 * time.Millisecond
	backoffMax         = 10 * time.Second
	// minAttempt is the least time given to an attempt, even when the wait
	// budget is nearly used up, so the last attempt can still succeed.
	minAttempt = time.Second
)

// OpenMySQL is the default Handler.Open: it opens a *sql.DB on cfg with
// go-sql-driver/mysql. It does not connect; the handler does that.
func OpenMySQL(_ context.Context, cfg *mysql.Config) (*sql.DB, error) {
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql connector: %w", err)
	}
	return sql.OpenDB(c), nil
}

// mysqlConfig builds the driver configuration for logging in as the master
// user at p.Endpoint:p.Port. TLS is always on and always verified against
// roots (nil: the Amazon RDS CA bundle). The returned config holds the
// password: never log or print it.
func mysqlConfig(p Properties, secret MasterSecret, roots *x509.CertPool, logger *slog.Logger) (*mysql.Config, error) {
	tlsCfg, err := rdstls.Config(p.Endpoint, roots)
	if err != nil {
		return nil, fmt.Errorf("TLS configuration for %s: %w", p.Endpoint, err)
	}
	cfg := mysql.NewConfig()
	cfg.User = secret.Username
	cfg.Passwd = secret.Password
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(p.Endpoint, strconv.Itoa(p.Port))
	cfg.TLS = tlsCfg
	cfg.AllowFallbackToPlaintext = false // never send the password in clear text
	cfg.AllowCleartextPasswords = false
	cfg.AllowNativePasswords = true // how the Aurora master user logs in
	cfg.MultiStatements = false     // one statement per Exec, by design
	cfg.InterpolateParams = false
	cfg.Timeout = connectTimeout(p)
	cfg.Logger = driverLogger{logger}
	return cfg, nil
}

func connectTimeout(p Properties) time.Duration {
	if p.ConnectTimeout > 0 {
		return p.ConnectTimeout
	}
	return DefaultConnectTimeout
}

// UnreachableError is returned when the database did not accept a
// connection within the wait budget.
type UnreachableError struct {
	Addr     string        // host:port
	Waited   time.Duration // the wait budget that ran out
	Attempts int
	Last     error // the last attempt's error
}

// Error reads "database at host:port not reachable after 3m0s (N attempts): <last error>".
func (e *UnreachableError) Error() string {
	attempts := "attempts"
	if e.Attempts == 1 {
		attempts = "attempt"
	}
	return fmt.Sprintf("database at %s not reachable after %s (%d %s): %v", e.Addr, e.Waited, e.Attempts, attempts, e.Last)
}

// Unwrap returns the last attempt's error.
func (e *UnreachableError) Unwrap() error { return e.Last }

// waitOptions control waitForConn.
type waitOptions struct {
	addr           string
	budget         time.Duration // total time for all attempts
	attemptTimeout time.Duration
	backoffBase    time.Duration
	// hostGoneIsFinal stops at the first "no such host": on Delete that
	// means the cluster was deleted, and waiting cannot change it.
	hostGoneIsFinal bool
}

// waitForConn takes one connection from db, retrying with jittered
// exponential backoff while the failure looks transient, until opts.budget
// has passed. It returns an *UnreachableError when the budget runs out, and
// the error itself at once when retrying cannot help (login refused, TLS
// verification failed, ctx ended).
func waitForConn(ctx context.Context, db *sql.DB, opts waitOptions, log *slog.Logger) (*sql.Conn, error) {
	deadline := time.Now().Add(opts.budget)
	delay := opts.backoffBase
	for attempt := 1; ; attempt++ {
		timeout := min(opts.attemptTimeout, max(time.Until(deadline), minAttempt))
		actx, cancel := context.WithTimeout(ctx, timeout)
		conn, err := db.Conn(actx)
		cancel()
		if err == nil {
			log.Info("connected to database", "addr", opts.addr, "attempts", attempt)
			return conn, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect to database at %s: %w (last error: %v)", opts.addr, ctx.Err(), err)
		}
		if reason := permanent(err); reason != "" {
			return nil, fmt.Errorf("connect to database at %s: %s: %w", opts.addr, reason, err)
		}
		if opts.hostGoneIsFinal && hostNotFound(err) {
			return nil, fmt.Errorf("connect to database at %s: %w", opts.addr, err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, &UnreachableError{Addr: opts.addr, Waited: opts.budget, Attempts: attempt, Last: err}
		}
		sleep := min(backoff.Jitter(delay), left)
		log.Info("database not reachable yet; retrying", "addr", opts.addr, "attempt", attempt,
			"retryIn", sleep.String(), "error", err.Error())
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to database at %s: %w (last error: %v)", opts.addr, ctx.Err(), err)
		case <-time.After(sleep):
		}
		delay = min(2*delay, backoffMax)
	}
}

// permanentMySQLErrors are login errors that retrying cannot fix.
var permanentMySQLErrors = map[uint16]string{
	1044: "access denied for the master user",
	1045: "login as the master user refused (wrong credentials in the secret?)",
	1251: "authentication method not supported",
	3118: "the master user account is locked",
}

// permanent returns why err cannot be fixed by retrying, or "" if it can.
func permanent(err error) string {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return permanentMySQLErrors[me.Number]
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return "server certificate not trusted"
	case errors.Is(err, mysql.ErrNoTLS):
		return "server does not offer TLS"
	}
	return ""
}

// hostNotFound reports whether err says the host name does not resolve.
func hostNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// driverLogger sends go-sql-driver/mysql's own log lines (connection
// problems, never credentials) to the handler's logger instead of stderr.
type driverLogger struct{ log *slog.Logger }

func (d driverLogger) Print(v ...any) { d.log.Warn("mysql driver", "message", fmt.Sprint(v...)) }
