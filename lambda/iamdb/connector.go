package iamdb

import (
	"context"
	"crypto/tls"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/lambda/rdstls"
)

// Connector is a database/sql/driver.Connector that opens MySQL connections
// authenticated with RDS IAM tokens. Create it with [NewConnector]; it is safe
// for concurrent use. Pass it to sql.OpenDB, or use [Connector.OpenDB] or
// [Open], which also apply the Config's pool limits.
type Connector struct {
	cfg     Config        // validated, defaults applied
	base    *mysql.Config // passwordless template; the driver clones it per connect
	mysql   driver.Connector
	src     tokenSource
	tokens  tokenCache
	limiter *rateLimiter
	// tlsConfig returns the TLS configuration every connection uses.
	tlsConfig func() (*tls.Config, error)

	connectAttempts     atomic.Uint64
	connectFailures     atomic.Uint64
	accessDeniedRetries atomic.Uint64
	retryTokensReused   atomic.Uint64
	retryTokensSigned   atomic.Uint64
	readTimeouts        atomic.Uint64
	// connsOpened numbers logged-in connections; retiredUpTo is the
	// highest number retired by a silent connection (see silence.go).
	connsOpened, retiredUpTo atomic.Uint64
}

// Stats are a Connector's counters since it was created, for tests,
// benchmarks and metrics.
type Stats struct {
	// Logins counts connections that logged in.
	Logins uint64
	// TokensSigned counts tokens built with a fresh SigV4 signature.
	TokensSigned uint64
	// TokensReused counts connects that reused a cached token.
	TokensReused uint64
	// ConnectAttempts counts login attempts, each on a new physical
	// connection: one per Connect call plus one per access-denied retry.
	ConnectAttempts uint64
	// ConnectFailures counts Connect calls that returned an error.
	ConnectFailures uint64
	// AccessDeniedRetries counts attempts repeated after error 1045.
	AccessDeniedRetries uint64
	// RetryTokensReused counts those retries that presented the token
	// already cached (it still had more than a minute to live), and
	// RetryTokensSigned those that needed a fresh signature. Aurora does
	// not throttle logins that reuse one token, so a retry that re-signs
	// spends the cluster's IAM login budget and one that reuses does not.
	RetryTokensReused, RetryTokensSigned uint64
	// RateLimitWaits counts attempts that waited for the new-connection
	// rate limit, and RateLimitDelay the total time reserved for them.
	RateLimitWaits uint64
	RateLimitDelay time.Duration
	// ReadTimeouts counts connections closed because a socket read or
	// write hit ReadTimeout (a silent connection; one during a login
	// counts too). Each retired the connections opened before it.
	ReadTimeouts uint64
}

// NewConnector validates c, applies its defaults and returns a Connector for
// it. It does not connect or sign anything; the first token is signed by the
// first Connect. It returns the [Config.Validate] error for an invalid c, or
// an error if c.TLS is nil and the embedded RDS CA bundle cannot be loaded.
//
// Each connection logs in as c.User with a token as its password, using
// MySQL's cleartext client plugin (which AWSAuthenticationPlugin requires)
// inside TLS. The token is set on a per-connection copy of the driver
// configuration just before dialling; the Connector itself never holds a
// password, so no DSN built from it can leak one.
func NewConnector(c Config) (*Connector, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()

	// The TLS configuration is set on every connection's copy of the driver
	// configuration in beforeConnect, never left out. The RDS bundle (115
	// certificates, ~2 ms to parse) is loaded at the first connection, not
	// at init, so a Lambda container is ready sooner.
	tlsConfig := sync.OnceValues(func() (*tls.Config, error) {
		cfg, err := rdstls.Config(c.Host, nil)
		if err != nil {
			return nil, fmt.Errorf("iamdb: TLS for %s: %w", c.Host, err)
		}
		return cfg, nil
	})
	if c.TLS != nil {
		// Our copy: later changes by the caller must not weaken it.
		own := c.TLS.Clone()
		tlsConfig = func() (*tls.Config, error) { return own, nil }
	}

	m := mysql.NewConfig()
	m.Net = "tcp"
	m.Addr = c.endpoint()
	m.User = c.User
	m.DBName = c.Database
	m.Timeout = c.DialTimeout
	// Per read and per write of the socket, reset before each: a
	// connection that stops answering is closed after ReadTimeout instead
	// of holding the invocation until Lambda's timeout.
	m.ReadTimeout = c.ReadTimeout
	m.WriteTimeout = c.ReadTimeout
	// AWSAuthenticationPlugin asks for mysql_clear_password; TLS above is
	// what keeps the token confidential, so fallback to plaintext is off.
	m.AllowCleartextPasswords = true
	m.AllowFallbackToPlaintext = false
	// After an Aurora failover the old writer comes back read-only; this
	// makes the driver drop such connections instead of failing writes.
	m.RejectReadOnly = true
	// Scan DATETIME/TIMESTAMP into time.Time, and read TIMESTAMPs in UTC
	// whatever the cluster's time_zone parameter says (one SET per new
	// connection).
	m.ParseTime = true
	m.Params = map[string]string{"time_zone": SessionTimeZone}
	// Send a query with arguments as one statement, escaped by the driver,
	// instead of PREPARE + EXECUTE + CLOSE: half the round trips of every
	// named query. The driver refuses to interpolate for character sets
	// where escaping is unsafe, and honours NO_BACKSLASH_ESCAPES.
	m.InterpolateParams = true

	conn := &Connector{
		cfg: c,
		src: tokenSource{
			endpoint: c.endpoint(),
			region:   c.Region,
			user:     c.User,
			creds:    c.Credentials,
			reuse:    c.TokenReuse,
		},
		limiter:   newRateLimiter(c.MaxNewConnsPerSecond, c.NewConnBurst),
		tlsConfig: tlsConfig,
	}
	m.DialFunc = conn.dial
	if err := m.Apply(mysql.BeforeConnect(conn.beforeConnect)); err != nil {
		return nil, fmt.Errorf("iamdb: configure driver: %w", err)
	}
	inner, err := mysql.NewConnector(m)
	if err != nil {
		return nil, fmt.Errorf("iamdb: configure driver for %s: %w", m.Addr, err)
	}
	conn.base = m
	conn.mysql = inner
	return conn, nil
}

// Connect opens one authenticated connection. database/sql calls it whenever
// the pool needs a new connection. It returns a [*ConnectError], which never
// contains the token.
//
// Every attempt first waits for the new-connection rate limit
// (MaxNewConnsPerSecond, NewConnBurst) and is bounded by DialTimeout. A
// login refused with MySQL error 1045 is retried, with the cached token
// while it has more than a minute to live and a freshly signed one after,
// after a jittered, exponentially growing delay, until the delays add up to
// AccessDeniedRetryFor or the next attempt could not finish before ctx's
// deadline; see retry.go. Every other error is returned at once: retrying
// cannot fix a disabled IAM plugin (1524), a missing TLS requirement (3159)
// or an untrusted certificate, and a dead endpoint is the pool's and the
// caller's to retry. A connection the server dropped during the login is
// marked with [ErrConnectionLost], so callers can tell it from a refusal.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	r := retryState{delay: accessDeniedBackoffBase}
	var refused error // the last attempt's 1045, while retrying
	for {
		if err := c.limiter.wait(ctx); err != nil {
			if refused != nil {
				err = fmt.Errorf("%w (while waiting to retry after: %w)", err, refused)
			}
			return nil, c.fail(err, r)
		}
		r.attempts++
		c.connectAttempts.Add(1)
		sock := new(socketState)
		conn, err := c.attempt(ctx, sock)
		if refused != nil {
			c.countRetryToken(sock)
		}
		if err == nil {
			return c.track(conn, sock)
		}
		if !isAccessDenied(err) || c.cfg.AccessDeniedRetryFor == NoAccessDeniedRetry {
			return nil, c.fail(err, r)
		}
		// The retry presents the cached token again while it has more
		// than a minute to live (the token cache's reuse window never
		// reaches closer to expiry, nor past the signing credentials'
		// expiry), and a fresh one only after that. Aurora does not
		// throttle logins that reuse a token, so a fleet refused during
		// IAM propagation or throttled does not spend the login budget a
		// second time on its retries; a new signature cannot fix a policy
		// that has not propagated yet anyway.
		d, ok := r.next(ctx, c.cfg.AccessDeniedRetryFor)
		if !ok {
			return nil, c.fail(err, r)
		}
		if serr := c.cfg.Sleep(ctx, d); serr != nil {
			return nil, c.fail(fmt.Errorf("%w (while waiting to retry after: %w)", serr, err), r)
		}
		r.slept += d
		refused = err
		c.accessDeniedRetries.Add(1)
	}
}

// countRetryToken counts a retry's token as reused or freshly signed; an
// attempt that failed before its token was chosen counts as neither.
func (c *Connector) countRetryToken(sock *socketState) {
	switch sock.token.Load() {
	case tokenReused:
		c.retryTokensReused.Add(1)
	case tokenSigned:
		c.retryTokensSigned.Add(1)
	}
}

// attempt makes a single login attempt through the MySQL driver, which calls
// beforeConnect to fill in the password. DialTimeout bounds the whole
// attempt, not only the TCP connect the driver bounds itself. A failure of
// the established socket (not a refusal, which arrives as a MySQL error)
// is marked with ErrConnectionLost. The returned socketState belongs to
// the connection for its life; the caller makes it.
func (c *Connector) attempt(ctx context.Context, sock *socketState) (driver.Conn, error) {
	actx, cancel := context.WithTimeout(context.WithValue(ctx, attemptKey{}, sock), c.cfg.DialTimeout)
	defer cancel()
	conn, err := c.connectOnce(actx)
	switch {
	case err == nil:
		return conn, nil
	case ctx.Err() != nil:
		return nil, err
	case actx.Err() != nil:
		return nil, fmt.Errorf("%w (%s): %w", errAttemptTimeout, c.cfg.DialTimeout, err)
	case sock.failed.Load() && mysqlErrorNumber(err) == 0:
		return nil, fmt.Errorf("%w: %w", ErrConnectionLost, err)
	}
	return nil, err
}

// connectOnce makes a single login attempt through the MySQL driver.
func (c *Connector) connectOnce(ctx context.Context) (driver.Conn, error) {
	return c.mysql.Connect(ctx)
}

// fail counts a failed Connect and wraps err with the attempts made and a
// hint.
func (c *Connector) fail(err error, r retryState) error {
	c.connectFailures.Add(1)
	return &ConnectError{
		Endpoint: c.src.endpoint,
		User:     c.cfg.User,
		Region:   c.cfg.Region,
		Attempts: r.attempts,
		Backoff:  r.slept,
		Hint:     c.hint(err),
		Err:      err,
	}
}

// beforeConnect is the driver's BeforeConnect hook. perConn is the driver's
// private copy of the configuration for this one connection, so the token
// set here lives only as long as that attempt.
func (c *Connector) beforeConnect(ctx context.Context, perConn *mysql.Config) error {
	tlsCfg, err := c.tlsConfig()
	if err != nil {
		return err
	}
	perConn.TLS = tlsCfg
	token, fresh, err := c.tokens.get(ctx, c.src, c.cfg.Now())
	if err != nil {
		return err
	}
	if sock, _ := ctx.Value(attemptKey{}).(*socketState); sock != nil {
		sock.token.Store(tokenReused)
		if fresh {
			sock.token.Store(tokenSigned)
		}
	}
	perConn.Passwd = token
	return nil
}

// Driver returns the underlying MySQL driver, as driver.Connector requires.
func (c *Connector) Driver() driver.Driver {
	return c.mysql.Driver()
}

// Stats returns a snapshot of the Connector's counters.
func (c *Connector) Stats() Stats {
	signed, reused := c.tokens.counts()
	waits, waited := c.limiter.stats()
	return Stats{
		Logins:              c.connsOpened.Load(),
		TokensSigned:        signed,
		TokensReused:        reused,
		ConnectAttempts:     c.connectAttempts.Load(),
		ConnectFailures:     c.connectFailures.Load(),
		AccessDeniedRetries: c.accessDeniedRetries.Load(),
		RetryTokensReused:   c.retryTokensReused.Load(),
		RetryTokensSigned:   c.retryTokensSigned.Load(),
		RateLimitWaits:      waits,
		RateLimitDelay:      waited,
		ReadTimeouts:        c.readTimeouts.Load(),
	}
}

// OpenDB returns a *sql.DB that draws connections from c, with the pool
// limits of c's Config applied. It does not connect; the first query does.
func (c *Connector) OpenDB() *sql.DB {
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(c.cfg.MaxOpenConns)
	db.SetMaxIdleConns(c.cfg.MaxIdleConns)
	db.SetConnMaxIdleTime(c.cfg.ConnMaxIdleTime)
	db.SetConnMaxLifetime(c.cfg.ConnMaxLifetime)
	return db
}

// Open validates c and returns a connection pool for it: NewConnector(c)
// followed by [Connector.OpenDB]. It does not connect, so it is cheap to call
// at Lambda init; the first query opens the first connection. It returns the
// errors of [NewConnector].
func Open(c Config) (*sql.DB, error) {
	conn, err := NewConnector(c)
	if err != nil {
		return nil, err
	}
	return conn.OpenDB(), nil
}
