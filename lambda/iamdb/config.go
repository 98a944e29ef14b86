package iamdb

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Defaults applied by [Config.Validate], [NewConnector] and [Open] to zero
// fields. They are tuned for Lambda, where a container runs one request at a
// time and may be frozen for minutes between requests.
//
// DefaultConnMaxIdleTime (4m) closes idle connections before anything on the
// path forgets them: AWS NAT gateways drop flows idle for 350 seconds, and
// Aurora itself closes sessions idle for wait_timeout (8h by default). The
// pool's cleaner cannot run while Lambda has the container frozen, so after
// a long freeze one stale connection can still be handed out; the driver's
// liveness check catches it if the server's FIN or RST has arrived, and
// package queryfn retries a read once if it dies in flight.
// DefaultConnMaxLifetime (14m) makes long-lived containers reconnect, so
// they follow a failover's DNS change and log in again under the current
// IAM policy; it is not needed for the 15-minute token, which is checked
// only at login.
const (
	DefaultPort            = 3306
	DefaultTokenReuse      = 10 * time.Minute
	DefaultMaxOpenConns    = 2
	DefaultMaxIdleConns    = 2
	DefaultConnMaxIdleTime = 4 * time.Minute
	DefaultConnMaxLifetime = 14 * time.Minute
	DefaultDialTimeout     = 5 * time.Second
	// DefaultReadTimeout is well above a healthy reply from Aurora to the
	// statements a Lambda function runs, and leaves a default 15-second
	// function time to notice a silent connection and run a read again.
	DefaultReadTimeout = 5 * time.Second
	// DefaultAccessDeniedRetryFor covers the usual delay before a new IAM
	// policy or database user takes effect right after a deployment.
	DefaultAccessDeniedRetryFor = 30 * time.Second
	// DefaultMaxNewConnsPerSecond is far below the roughly 200 new
	// IAM-authenticated connections per second Aurora sustains, so one
	// container cannot use the cluster's budget on its own.
	DefaultMaxNewConnsPerSecond = 10
	// DefaultNewConnBurst lets a cold container open its default pool of
	// two connections at once.
	DefaultNewConnBurst = 2
)

// NoAccessDeniedRetry, as Config.AccessDeniedRetryFor, turns the retrying
// of refused logins off: the first MySQL error 1045 is returned at once.
const NoAccessDeniedRetry time.Duration = -1

// Limits enforced by [Config.Validate].
const (
	// MaxTokenReuse leaves a minute of the token's 15-minute life for clock
	// skew and for the TLS handshake that carries it.
	MaxTokenReuse = TokenLifetime - time.Minute
	// MaxOpenConnsLimit caps the pool: Aurora's max_connections is shared by
	// every container of every function, so a large per-container pool is
	// a misconfiguration, not a tuning choice.
	MaxOpenConnsLimit = 100
	// MaxConnMaxLifetime matches MySQL's default wait_timeout (8 hours),
	// past which the server closes the connection anyway.
	MaxConnMaxLifetime = 8 * time.Hour
	// MaxDialTimeout keeps a dead endpoint from eating a Lambda's whole run.
	MaxDialTimeout = time.Minute
	// MaxReadTimeout is Lambda's own longest run: a longer silence could
	// never be noticed by the function.
	MaxReadTimeout = 15 * time.Minute
	// MaxAccessDeniedRetryFor: past five minutes a refused login is a
	// configuration error, not propagation, and the caller should hear so.
	MaxAccessDeniedRetryFor = 5 * time.Minute
	// MaxNewConnsPerSecondLimit is Aurora's own guidance: IAM database
	// authentication suits workloads below 200 new connections per second.
	MaxNewConnsPerSecondLimit = 200
	// maxUserLen and maxDatabaseLen are MySQL 8's identifier limits.
	maxUserLen     = 32
	maxDatabaseLen = 64
	maxHostLen     = 253
)

// Config describes one IAM-authenticated connection pool. Zero values of the
// optional fields select the Default* constants. Use [Config.Validate] to
// check it; [NewConnector] and [Open] validate it too.
type Config struct {
	// Host is the endpoint host name, usually the cluster writer endpoint,
	// without scheme or port. It is also the TLS server name. Required.
	Host string
	// Port is the endpoint port, 1..65535; 0 means DefaultPort (3306).
	Port int
	// User is the MySQL user created with AWSAuthenticationPlugin; the
	// token is signed for this name. Required, 1..32 characters.
	User string
	// Database is the default schema of each connection; empty means none.
	// At most 64 characters.
	Database string
	// Region is the AWS region of the database, e.g. "eu-west-1"; tokens
	// are signed for it. Required.
	Region string
	// Credentials signs tokens; in Lambda pass aws.Config.Credentials from
	// config.LoadDefaultConfig, which caches and refreshes them. Required.
	Credentials aws.CredentialsProvider
	// TLS is the client TLS configuration. nil means rdstls.Config(Host,
	// nil): verify against the embedded Amazon RDS CA bundle. If set it
	// must verify the server (no InsecureSkipVerify) and allow TLS 1.2+,
	// because the token travels as a cleartext password inside TLS.
	TLS *tls.Config
	// Now returns the current time; nil means time.Now. It sets token
	// signing times and token ages, so tests can move the clock.
	Now func() time.Time
	// TokenReuse is how long a signed token is reused for new connections
	// before a fresh one is signed; 0 means DefaultTokenReuse (10m).
	// Allowed: more than 0, at most MaxTokenReuse (14m).
	TokenReuse time.Duration
	// MaxOpenConns caps open connections; 0 means DefaultMaxOpenConns (2).
	// Allowed 1..MaxOpenConnsLimit.
	MaxOpenConns int
	// MaxIdleConns caps idle connections kept for reuse; 0 means
	// DefaultMaxIdleConns (2), lowered to MaxOpenConns if that is smaller.
	// Allowed 1..MaxOpenConns.
	MaxIdleConns int
	// ConnMaxIdleTime closes connections idle this long, before Aurora,
	// a NAT or a frozen Lambda silently drops them; 0 means
	// DefaultConnMaxIdleTime (4m). Allowed: more than 0, at most
	// ConnMaxLifetime.
	ConnMaxIdleTime time.Duration
	// ConnMaxLifetime closes connections this old so the pool follows
	// failovers and re-authenticates with current IAM permissions; 0 means
	// DefaultConnMaxLifetime (14m). Allowed: more than 0, at most
	// MaxConnMaxLifetime (8h).
	ConnMaxLifetime time.Duration
	// DialTimeout bounds one connection attempt: the TCP connect, the TLS
	// handshake and the login, so an endpoint that accepts TCP but never
	// answers cannot hold a connection request (the pool's background
	// opener has no deadline of its own). 0 means DefaultDialTimeout (5s).
	// Allowed: more than 0, at most MaxDialTimeout (1m).
	DialTimeout time.Duration
	// ReadTimeout is the longest a connection may stay silent while the
	// client waits for the server: a statement's reply, or the next packet
	// of its rows (and, for writes to the socket, the longest a send may
	// block). A connection silent for longer is treated as lost: the
	// driver closes it and the statement fails with mysql.ErrInvalidConn
	// wrapped in ErrSilentConnection, which package queryfn handles like a
	// dropped connection (a read runs once more on a new connection, a
	// write fails with its outcome unknown). Without it, a connection black-holed by a failover or a
	// network fault is noticed only by TCP keepalive minutes later, or by
	// the Lambda timeout. It limits silence, not a statement's total time,
	// so set it above the longest a statement computes before its first
	// row. 0 means DefaultReadTimeout (5s). Allowed: more than 0, at most
	// MaxReadTimeout (15m).
	ReadTimeout time.Duration

	// AccessDeniedRetryFor bounds how long a login refused with MySQL
	// error 1045 is retried, with a freshly signed token and jittered
	// exponential backoff, before Connect reports it: right after a
	// deployment, a new IAM policy or database user can take a while to
	// reach the database. It is the total of the backoff delays, and the
	// retrying also stops early enough to report before ctx's deadline.
	// 0 means DefaultAccessDeniedRetryFor (30s); NoAccessDeniedRetry
	// turns retrying off. Allowed: NoAccessDeniedRetry, or more than 0
	// and at most MaxAccessDeniedRetryFor (5m).
	AccessDeniedRetryFor time.Duration
	// MaxNewConnsPerSecond is the steady rate at which this Connector
	// starts new connection attempts (token bucket); attempts beyond it
	// wait, or fail at once if their ctx would end first. Every attempt
	// counts, including access-denied retries, because each is one IAM
	// login for Aurora's throttle. 0 means DefaultMaxNewConnsPerSecond
	// (10). Allowed: more than 0, at most MaxNewConnsPerSecondLimit (200).
	MaxNewConnsPerSecond float64
	// NewConnBurst is how many attempts may start at once before the rate
	// applies (the bucket size); 0 means DefaultNewConnBurst (2). Allowed
	// 1..MaxOpenConnsLimit.
	NewConnBurst int

	// Sleep waits d between access-denied retries and returns early with
	// ctx's error if ctx ends first; nil means a timer. Tests pass a
	// function that moves their clocks instead, so retries take no time.
	// The rate limiter always waits in real time.
	Sleep func(ctx context.Context, d time.Duration) error
	// Dial opens the TCP connection; nil means a net.Dialer. Tests wrap it
	// to inject network faults.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// FieldError reports one invalid [Config] field. [Config.Validate] returns
// one per bad field, joined with errors.Join; use errors.As to inspect them.
type FieldError struct {
	// Field is the Config field name, e.g. "Port".
	Field string
	// Value is the offending value as text; strings are quoted.
	Value string
	// Allowed says what the field accepts.
	Allowed string
}

// Error returns "iamdb: Config.<Field> = <Value>: <Allowed>".
func (e *FieldError) Error() string {
	return fmt.Sprintf("iamdb: Config.%s = %s: %s", e.Field, e.Value, e.Allowed)
}

// regionPattern matches AWS region names such as us-east-1, us-gov-west-1,
// cn-northwest-1 and eusc-de-east-1.
var regionPattern = regexp.MustCompile(`^[a-z]{2,}(-[a-z]+)+-[0-9]+$`)

// Validate reports whether c, with defaults applied to zero fields, can be
// used. It returns nil, or one [*FieldError] per invalid field joined with
// errors.Join, each naming the field, its value and the allowed range.
func (c Config) Validate() error {
	d := c.withDefaults()
	var errs []error
	bad := func(field, value, allowed string) {
		errs = append(errs, &FieldError{Field: field, Value: value, Allowed: allowed})
	}

	if reason := checkHost(d.Host); reason != "" {
		bad("Host", strconv.Quote(d.Host), reason)
	}
	if d.Port < 1 || d.Port > 65535 {
		bad("Port", strconv.Itoa(d.Port), "allowed 1..65535 (0 means 3306)")
	}
	if reason := checkName(d.User, 1, maxUserLen); reason != "" {
		bad("User", strconv.Quote(d.User), reason)
	}
	if reason := checkName(d.Database, 0, maxDatabaseLen); reason != "" {
		bad("Database", strconv.Quote(d.Database), reason)
	}
	if !regionPattern.MatchString(d.Region) {
		bad("Region", strconv.Quote(d.Region), `want an AWS region name such as "eu-west-1"`)
	}
	if d.Credentials == nil {
		bad("Credentials", "nil", "required: pass aws.Config.Credentials from config.LoadDefaultConfig")
	}
	if d.TLS != nil {
		if d.TLS.InsecureSkipVerify {
			bad("TLS", "InsecureSkipVerify=true", "server verification must stay on: the token is sent as a cleartext password inside TLS")
		}
		if v := d.TLS.MinVersion; v != 0 && v < tls.VersionTLS12 {
			bad("TLS", "MinVersion="+tls.VersionName(v), "allowed TLS 1.2 or later")
		}
		if v := d.TLS.MaxVersion; v != 0 && v < tls.VersionTLS12 {
			bad("TLS", "MaxVersion="+tls.VersionName(v), "allowed TLS 1.2 or later")
		}
	}
	if d.TokenReuse <= 0 || d.TokenReuse > MaxTokenReuse {
		bad("TokenReuse", d.TokenReuse.String(), "allowed more than 0 and at most "+MaxTokenReuse.String()+" (0 means "+DefaultTokenReuse.String()+")")
	}
	// A field bounded by another is checked against it only when that other
	// field is itself valid, so one mistake yields one error.
	openOK := d.MaxOpenConns >= 1 && d.MaxOpenConns <= MaxOpenConnsLimit
	if !openOK {
		bad("MaxOpenConns", strconv.Itoa(d.MaxOpenConns), fmt.Sprintf("allowed 1..%d (0 means %d)", MaxOpenConnsLimit, DefaultMaxOpenConns))
	}
	if d.MaxIdleConns < 1 || openOK && d.MaxIdleConns > d.MaxOpenConns {
		bad("MaxIdleConns", strconv.Itoa(d.MaxIdleConns), fmt.Sprintf("allowed 1..MaxOpenConns (%d) (0 means %d)", d.MaxOpenConns, DefaultMaxIdleConns))
	}
	lifetimeOK := d.ConnMaxLifetime > 0 && d.ConnMaxLifetime <= MaxConnMaxLifetime
	if !lifetimeOK {
		bad("ConnMaxLifetime", d.ConnMaxLifetime.String(), "allowed more than 0 and at most "+MaxConnMaxLifetime.String()+" (0 means "+DefaultConnMaxLifetime.String()+")")
	}
	if d.ConnMaxIdleTime <= 0 || lifetimeOK && d.ConnMaxIdleTime > d.ConnMaxLifetime {
		bad("ConnMaxIdleTime", d.ConnMaxIdleTime.String(), "allowed more than 0 and at most ConnMaxLifetime ("+d.ConnMaxLifetime.String()+") (0 means "+DefaultConnMaxIdleTime.String()+")")
	}
	if d.DialTimeout <= 0 || d.DialTimeout > MaxDialTimeout {
		bad("DialTimeout", d.DialTimeout.String(), "allowed more than 0 and at most "+MaxDialTimeout.String()+" (0 means "+DefaultDialTimeout.String()+")")
	}
	if d.ReadTimeout <= 0 || d.ReadTimeout > MaxReadTimeout {
		bad("ReadTimeout", d.ReadTimeout.String(), "allowed more than 0 and at most "+MaxReadTimeout.String()+" (0 means "+DefaultReadTimeout.String()+")")
	}
	if r := d.AccessDeniedRetryFor; r != NoAccessDeniedRetry && (r <= 0 || r > MaxAccessDeniedRetryFor) {
		bad("AccessDeniedRetryFor", r.String(), "allowed more than 0 and at most "+MaxAccessDeniedRetryFor.String()+
			", or NoAccessDeniedRetry (-1ns) to turn retrying off (0 means "+DefaultAccessDeniedRetryFor.String()+")")
	}
	if r := d.MaxNewConnsPerSecond; math.IsNaN(r) || r <= 0 || r > MaxNewConnsPerSecondLimit {
		bad("MaxNewConnsPerSecond", strconv.FormatFloat(r, 'g', -1, 64), fmt.Sprintf("allowed more than 0 and at most %d (0 means %d)",
			MaxNewConnsPerSecondLimit, DefaultMaxNewConnsPerSecond))
	}
	if d.NewConnBurst < 1 || d.NewConnBurst > MaxOpenConnsLimit {
		bad("NewConnBurst", strconv.Itoa(d.NewConnBurst), fmt.Sprintf("allowed 1..%d (0 means %d)", MaxOpenConnsLimit, DefaultNewConnBurst))
	}
	return errors.Join(errs...)
}

// withDefaults returns c with every zero optional field set to its default.
// Negative values are kept so Validate can report them.
func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.TokenReuse == 0 {
		c.TokenReuse = DefaultTokenReuse
	}
	if c.MaxOpenConns == 0 {
		c.MaxOpenConns = DefaultMaxOpenConns
	}
	if c.MaxIdleConns == 0 {
		// A default larger than MaxOpenConns would be an error the user
		// never wrote; follow their MaxOpenConns instead.
		c.MaxIdleConns = DefaultMaxIdleConns
		if c.MaxOpenConns > 0 && c.MaxOpenConns < c.MaxIdleConns {
			c.MaxIdleConns = c.MaxOpenConns
		}
	}
	if c.ConnMaxIdleTime == 0 {
		c.ConnMaxIdleTime = DefaultConnMaxIdleTime
		// Same reasoning: keep the default idle time within a short
		// user-set lifetime.
		if c.ConnMaxLifetime > 0 && c.ConnMaxLifetime < c.ConnMaxIdleTime {
			c.ConnMaxIdleTime = c.ConnMaxLifetime
		}
	}
	if c.ConnMaxLifetime == 0 {
		c.ConnMaxLifetime = DefaultConnMaxLifetime
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.AccessDeniedRetryFor == 0 {
		c.AccessDeniedRetryFor = DefaultAccessDeniedRetryFor
	}
	if c.MaxNewConnsPerSecond == 0 {
		c.MaxNewConnsPerSecond = DefaultMaxNewConnsPerSecond
	}
	if c.NewConnBurst == 0 {
		c.NewConnBurst = DefaultNewConnBurst
	}
	if c.Sleep == nil {
		c.Sleep = sleepCtx
	}
	return c
}

// endpoint returns "host:port" for dialling and signing, bracketing IPv6.
func (c Config) endpoint() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// checkHost returns why h is not a usable endpoint host, or "" if it is.
// It accepts IP literals and DNS names of letters, digits, '-' and '.'.
func checkHost(h string) string {
	const want = `want a host name such as "db.cluster-abc.eu-west-1.rds.amazonaws.com", without scheme or port`
	switch {
	case h == "":
		return "required; " + want
	case net.ParseIP(h) != nil:
		return ""
	case len(h) > maxHostLen:
		return fmt.Sprintf("longer than %d characters; %s", maxHostLen, want)
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return want
		}
		for i := 0; i < len(label); i++ {
			b := label[i]
			if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-') {
				return want
			}
		}
	}
	return ""
}

// checkName returns why s is not a MySQL name of minLen..maxLen characters,
// or "" if it is. Control characters are refused: they are never intended
// and would make log lines and error messages misleading.
func checkName(s string, minLen, maxLen int) string {
	allowed := fmt.Sprintf("allowed %d..%d characters of valid UTF-8 without control characters", minLen, maxLen)
	if !utf8.ValidString(s) {
		return "not valid UTF-8; " + allowed
	}
	if n := utf8.RuneCountInString(s); n < minLen || n > maxLen {
		return fmt.Sprintf("%d characters; %s", n, allowed)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "contains a control character; " + allowed
	}
	return ""
}
