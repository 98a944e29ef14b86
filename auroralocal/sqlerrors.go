package auroralocal

import (
	"errors"

	"github.com/dolthub/vitess/go/mysql"
)

// MySQL error numbers this server sends itself (the rest come from GMS).
const (
	// ErrNumAccessDenied is ER_ACCESS_DENIED_ERROR, SQLSTATE 28000: every
	// refused login except the two below.
	ErrNumAccessDenied = 1045
	// ErrNumPluginNotLoaded is ER_PLUGIN_IS_NOT_LOADED: IAM user login while
	// IAM database authentication is disabled.
	ErrNumPluginNotLoaded = 1524
	// ErrNumSecureTransportRequired is ER_SECURE_TRANSPORT_REQUIRED: any
	// login over plain TCP while RequireSecureTransport is on.
	ErrNumSecureTransportRequired = 3159
	// ErrNumSpecificAccessDenied is ER_SPECIFIC_ACCESS_DENIED_ERROR: ALTER
	// USER ... REQUIRE without the CREATE USER privilege.
	ErrNumSpecificAccessDenied = 1227
	// ErrNumCannotUser is ER_CANNOT_USER: ALTER USER ... REQUIRE for a
	// missing account without IF EXISTS.
	ErrNumCannotUser = 1396
	// ErrNumRevokeGrants is ER_REVOKE_GRANTS: REVOKE ALL for a missing account.
	ErrNumRevokeGrants = 1269
	// ErrNumNotSupportedYet is ER_NOT_SUPPORTED_YET: REQUIRE X509, CIPHER,
	// ISSUER and SUBJECT, which this stand-in does not implement.
	ErrNumNotSupportedYet = 1235
	// ErrNumUnknown is ER_UNKNOWN_ERROR: an internal engine failure (panic)
	// turned into an error instead of a dropped connection.
	ErrNumUnknown = 1105
	// ErrNumParse is ER_PARSE_ERROR for a malformed ALTER USER ... REQUIRE.
	ErrNumParse = 1064
)

// errAccessDenied is what MySQL and Aurora send for any failed login; the
// real reason is only recorded server-side.
func errAccessDenied(user, clientHost string, usedPassword bool) error {
	yes := "NO"
	if usedPassword {
		yes = "YES"
	}
	return mysql.NewSQLError(ErrNumAccessDenied, mysql.SSAccessDeniedError,
		"Access denied for user '%s'@'%s' (using password: %s)", user, clientHost, yes)
}

// errPluginNotLoaded is Aurora's answer to an IAM user when IAM database
// authentication is not enabled on the cluster.
func errPluginNotLoaded() error {
	return mysql.NewSQLError(ErrNumPluginNotLoaded, mysql.SSUnknownSQLState,
		"Plugin '%s' is not loaded", IAMPluginName)
}

// errSecureTransportRequired is MySQL's refusal of a plain-TCP login under
// require_secure_transport=ON.
func errSecureTransportRequired() error {
	return mysql.NewSQLError(ErrNumSecureTransportRequired, mysql.SSUnknownSQLState,
		"Connections using insecure transport are prohibited while --require_secure_transport=ON.")
}

// Login refusal reasons recorded in AuthEvent.Err (wrapped with detail).
// Sigv4 token refusals wrap the sigv4.Err* sentinels instead.
var (
	// ErrUnknownAccount: no account matches the user name and client host.
	ErrUnknownAccount = errors.New("no such account")
	// ErrWrongPassword: mysql_native_password / caching_sha2 check failed.
	ErrWrongPassword = errors.New("wrong password")
	// ErrInsecureTransport: plain TCP while RequireSecureTransport is on.
	ErrInsecureTransport = errors.New("insecure transport refused (require_secure_transport)")
	// ErrSSLRequired: the account has REQUIRE SSL and the connection is plain TCP.
	ErrSSLRequired = errors.New("account requires SSL")
	// ErrIAMWithoutTLS: an IAM user connected over plain TCP; the token was
	// never requested.
	ErrIAMWithoutTLS = errors.New("IAM authentication requires TLS; cleartext token not requested")
	// ErrIAMDisabled: IAM database authentication is off (error 1524).
	ErrIAMDisabled = errors.New("IAM database authentication is disabled")
	// ErrInjectedRefusal: refused by RefuseLogins / RefuseLoginsUntil.
	ErrInjectedRefusal = errors.New("login refused by fault injection")
	// ErrNotAuthorized: the principal's Authorize denied rds-db:connect (or is nil).
	ErrNotAuthorized = errors.New("principal not authorized for rds-db:connect")
	// ErrAuthorizeFailed: the principal's Authorize returned an error or panicked.
	ErrAuthorizeFailed = errors.New("authorization could not be evaluated")
	// ErrAuthInternal: an internal failure (e.g. a recovered panic) during login.
	ErrAuthInternal = errors.New("internal error during authentication")
)

// sqlStateSyntaxOrAccess is SQLSTATE 42000 (syntax error or access rule
// violation), used by ER_PARSE_ERROR and ER_SPECIFIC_ACCESS_DENIED_ERROR.
const sqlStateSyntaxOrAccess = "42000"
