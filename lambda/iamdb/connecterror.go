package iamdb

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQL error numbers a login can fail with, as Aurora sends them.
const (
	// ErrNumAccessDenied (ER_ACCESS_DENIED_ERROR) is every IAM refusal:
	// bad or expired token, missing rds-db:connect, unknown user.
	ErrNumAccessDenied uint16 = 1045
	// ErrNumDBAccessDenied (ER_DBACCESS_DENIED_ERROR): the user may log in
	// but holds no privilege on the requested database.
	ErrNumDBAccessDenied uint16 = 1044
	// ErrNumPluginNotLoaded (ER_PLUGIN_IS_NOT_LOADED): IAM database
	// authentication is off on the cluster.
	ErrNumPluginNotLoaded uint16 = 1524
	// ErrNumSecureTransportRequired (ER_SECURE_TRANSPORT_REQUIRED): the
	// server refuses unencrypted connections.
	ErrNumSecureTransportRequired uint16 = 3159
)

// errAttemptTimeout marks an attempt that DialTimeout cut short.
var errAttemptTimeout = errors.New("no complete login within DialTimeout")

// ConnectError is the error [Connector.Connect] returns. It says where the
// connection went, how many attempts were made, and, when the cause is
// recognised, what most likely went wrong. It never contains the token.
type ConnectError struct {
	// Endpoint is "host:port", the address dialled and signed for.
	Endpoint string
	// User is the database user.
	User string
	// Region is the region tokens were signed for.
	Region string
	// Attempts is how many logins were tried; more than 1 only after
	// access-denied retries.
	Attempts int
	// Backoff is the total time spent waiting between those attempts.
	Backoff time.Duration
	// Hint names the likely causes and what to check; empty if the error
	// is not recognised.
	Hint string
	// Err is the last attempt's error, e.g. a *mysql.MySQLError.
	Err error
}

// Error reads "iamdb: connect to <endpoint> as "<user>": <cause>[ (N
// attempts over D)][; <hint>]".
func (e *ConnectError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "iamdb: connect to %s as %q: %v", e.Endpoint, e.User, e.Err)
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (%d attempts over %s)", e.Attempts, e.Backoff.Round(time.Millisecond))
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Unwrap returns the last attempt's error.
func (e *ConnectError) Unwrap() error { return e.Err }

// mysqlErrorNumber returns the MySQL error number err wraps, or 0.
func mysqlErrorNumber(err error) uint16 {
	if me, ok := errors.AsType[*mysql.MySQLError](err); ok {
		return me.Number
	}
	return 0
}

// isAccessDenied reports whether err is a login refused with error 1045,
// the only login error worth retrying: it is what IAM propagation delays
// look like.
func isAccessDenied(err error) bool {
	return mysqlErrorNumber(err) == ErrNumAccessDenied
}

// hint explains err for the operator, naming the settings to check, or
// returns "" if err is not recognised.
func (c *Connector) hint(err error) string {
	switch mysqlErrorNumber(err) {
	case ErrNumAccessDenied:
		return fmt.Sprintf("the database refused the IAM token. Likely causes: "+
			"an IAM policy or database user created moments ago has not taken effect yet (this can take a minute or more after a deployment); "+
			"the role lacks rds-db:connect on arn:<partition>:rds-db:%s:<account>:dbuser:<cluster resource id>/%s; "+
			"the user %q does not exist (not created, or dropped) or is not IDENTIFIED WITH AWSAuthenticationPlugin; "+
			"or the token was signed for another endpoint or region than the server's (signed for %s in %s)",
			c.cfg.Region, c.cfg.User, c.cfg.User, c.src.endpoint, c.cfg.Region)
	case ErrNumDBAccessDenied:
		return fmt.Sprintf("the login worked but user %q holds no privilege on database %q: check the grants and the database name (not retried)",
			c.cfg.User, c.cfg.Database)
	case ErrNumPluginNotLoaded:
		return "IAM database authentication is turned off on the cluster; turn it on (not retried: waiting cannot fix it)"
	case ErrNumSecureTransportRequired:
		return "the server requires TLS and this connection was not encrypted (not retried)"
	}
	var dnsErr *net.DNSError
	switch {
	case IsCertificateError(err):
		return fmt.Sprintf("the server certificate did not verify for %q: Host must be the cluster endpoint name the certificate is issued for, "+
			"and the CA bundle must include its issuer (not retried)", c.cfg.Host)
	case errors.Is(err, mysql.ErrNoTLS):
		return "the server does not offer TLS, so the token cannot be sent safely (not retried)"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("host %q does not resolve: check the endpoint name, and that the cluster exists", c.cfg.Host)
	case errors.Is(err, ErrConnectionLost):
		return "the server closed the connection during the login, as a failover or restart does; nothing was run on it, so retrying is safe"
	case errors.Is(err, errAttemptTimeout):
		return "nothing answered in time: check that the database's security group admits this function on the port, " +
			"that the subnets route to the cluster, and that the cluster is available"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing accepts connections at that address: the cluster may be restarting or failing over, or the port is wrong"
	}
	return ""
}

// IsCertificateError reports whether err is a server certificate that did
// not verify: an unknown CA, another host name, an expired or otherwise
// invalid certificate.
func IsCertificateError(err error) bool {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
	)
	return errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify)
}
