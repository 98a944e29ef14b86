// Package auroralocal is a local stand-in for an Aurora MySQL 3 cluster with
// IAM database authentication, for tests, benchmarks and local runs only. It
// must never be linked into a Lambda binary.
//
// It runs go-mysql-server (GMS) with an in-memory database on 127.0.0.1 and
// answers the MySQL wire protocol the way Aurora does for the parts rdsiam
// relies on:
//
//   - TLS 1.2+ with a per-server throw-away CA (CAPool, CACertPEM, WriteCA)
//     and a certificate for localhost, 127.0.0.1 and Options.Endpoint.
//   - A master user (mysql_native_password) with every privilege, and
//     require_secure_transport (Options.RequireSecureTransport, default on:
//     plain-TCP logins get error 3159).
//   - The production user SQL, unmodified: CREATE USER ... IDENTIFIED
//     WITH AWSAuthenticationPlugin AS 'RDS', ALTER USER ... REQUIRE SSL,
//     GRANT/REVOKE, REVOKE ALL PRIVILEGES, GRANT OPTION, DROP USER, SHOW
//     GRANTS. Grants are enforced by GMS.
//   - IAM logins: an AWSAuthenticationPlugin user logs in only with
//     mysql_clear_password over TLS; the password must be an RDS IAM token
//     (feature/rds/auth.BuildAuthToken or `aws rds generate-db-auth-token`)
//     signed for Endpoint() in Options.Region by a configured Principal,
//     within its 15 minutes (server clock), and the principal's Authorize
//     must allow rds-db:connect on DBUserARN(user). Any failure is error
//     1045 to the client; the reason is kept server-side (LastAuthError,
//     AuthEvents), never the token. An IAM user on plain TCP is refused
//     before any cleartext password is requested. With IAM auth disabled
//     (Options.IAMAuthDisabled, SetIAMAuth) IAM users get error 1524.
//   - Session answers: CURRENT_USER() is user@account-host, VERSION() is
//     ServerVersion (8.0.39-auroralocal), SHOW SESSION STATUS LIKE
//     'Ssl_cipher' gives this connection's negotiated cipher.
//   - Scale-out endpoints (proxy.go, reader.go, doors.go): Options.Proxy adds
//     an RDS Proxy endpoint with end-to-end IAM (tokens signed for
//     ProxyEndpoint(), authorized on the proxy's dbuser:prx-…/user ARN, and
//     the proxy role's rds-db:connect on the cluster's ARN checked too);
//     Options.Reader adds a reader endpoint whose sessions get error 1290 for
//     every write. Clients reach them by host name through Server.Dial.
//   - Faults and measurements: DropConnections, StallConnections, RefuseLogins,
//     RefuseLoginsUntil, SetClock/AdvanceClock, Stop/Restart (same port, same
//     data), Stats.
//
// Typical use in a test:
//
//	srv, err := auroralocal.Start(auroralocal.Options{Principals: []auroralocal.Principal{{
//		ARN: "arn:aws:iam::123456789012:role/QueryRole", AccessKeyID: akid, SecretAccessKey: secret,
//		Authorize: policy.Authorize,
//	}}})
//	defer srv.Close()
//	// log in as srv.MasterUser()/srv.MasterPassword() over TLS (RootCAs: srv.CAPool()), then:
//	token, _ := auth.BuildAuthToken(ctx, srv.Endpoint(), srv.Region(), "app_user", creds)
//	// dial srv.Addr() with user app_user, password token, AllowCleartextPasswords
//	// and tls.Config{RootCAs: srv.CAPool(), ServerName: srv.Host()}.
//
// # Writer limits (limits.go)
//
// Off until a test turns them on: SetMaxConnections refuses connections
// beyond max_connections with 1040; ThrottleIAMLogins refuses IAM logins
// with tokens the server has not accepted before beyond a rate (server
// clock) with 1045, recording ErrThrottled (Aurora's ThrottlingException);
// Pause closes connections and makes the next login start a resume that
// every login waits for (Resume ends it at once). @@require_secure_transport
// reports Options.RequireSecureTransport for @@ and @@SESSION; @@GLOBAL is
// GMS's process-wide value. LimitStats counts all of it.
//
// # Differences from Aurora that remain
//
//   - Error texts: privilege failures carry Aurora's numbers (1142 for
//     table/command denials, 1044 for database denials, translated from
//     GMS's 1105) but GMS's wording, which lacks the command and table name.
//     Login refusals use MySQL's exact 1045/1524/3159 texts.
//   - The 1045 text names the client IP ('app_user'@'127.0.0.1'), never a
//     resolved host name.
//   - With require_secure_transport on, a plain-TCP IAM login gets 3159
//     (transport is checked first), as every other login does.
//   - Ssl_cipher uses Go's (IANA) cipher suite names, e.g.
//     TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, where Aurora reports OpenSSL
//     names such as ECDHE-RSA-AES128-GCM-SHA256 for TLS 1.2 (TLS 1.3 names
//     match). The certificate is ECDSA P-256 from a per-server CA, not the
//     RDS CA bundle.
//   - USER() equals CURRENT_USER() (user@account-host); MySQL's USER()
//     shows the client host.
//   - Only REQUIRE SSL and REQUIRE NONE are emulated (X509, CIPHER, ISSUER,
//     SUBJECT get error 1235). ALTER USER ... REQUIRE is recognized only as a
//     statement of its own (no comments inside, not combined with
//     IDENTIFIED ..., not as a prepared statement). The flag is stored in the
//     GMS user's User_attributes JSON under "auroralocal_require_ssl".
//   - GMS ignores ACCOUNT LOCK, password expiry, resource limits and roles
//     in CREATE USER; host matching is GMS's (exact host, then '%').
//   - Database-level grants: GMS takes the database name literally, where
//     MySQL reads `_` and `%` as wildcards. The stand-in unescapes `\_` and
//     `\%` (what rdsiam writes) before GMS runs a GRANT/REVOKE, re-escapes
//     the names in SHOW GRANTS output, and refuses an unescaped wildcard with
//     error 1235 instead of granting it literally. Database names compare
//     without regard to case, and @@lower_case_table_names says 1.
//   - Table-level grants are GMS's, with two corrections (tablegrants.go):
//     a GRANT on a missing table gets 1146 unless it grants CREATE, as in
//     MySQL, and revoking an account's last database-level privilege keeps
//     its table grants in that database (GMS alone drops them). Table names
//     compare without regard to case; REVOKE of a table privilege not held
//     succeeds (MySQL: 1147, which rdsiam tolerates).
//   - SET DEFAULT ROLE NONE is accepted and does nothing (GMS keeps no
//     default roles); other SET DEFAULT ROLE forms get 1235.
//   - mysql.user's ssl_type is 'ANY' for an account with REQUIRE SSL (the
//     stand-in wraps GMS's row conversion process-wide); other columns GMS
//     does not model keep their defaults.
//   - caching_sha2_password users can log in only over TLS (GMS's limit);
//     the initial handshake offers mysql_native_password.
//   - Token checks: the verifier allows 5 minutes of future skew on
//     X-Amz-Date and requires X-Amz-Expires in 1..900; it refuses duplicate
//     query parameters and any path other than "/". Real RDS may differ in
//     such corner cases. Authorization calls Principal.Authorize only; there
//     is no STS, no policy caching delay other than RefuseLogins, and no
//     CloudTrail.
//   - PeakNewConnectionsPerSecond and TLS use real time; the server clock
//     (SetClock/AdvanceClock) governs only token validity and
//     RefuseLoginsUntil.
//   - Process-wide side effects (GMS and vitess keep these in globals): the
//     first Start silences logrus and vitess's logging and sets the global
//     @@version to 8.0.39 for every GMS engine in the process.
//   - The proxy and reader endpoints are byte relays into the same server:
//     TLS runs end to end (RDS Proxy terminates it), there is no pooling,
//     multiplexing or pinning, password logins through them are not refused,
//     the reader has no replica lag, and the proxy role is checked on every
//     login (RDS Proxy logs in to the database only when it grows its pool).
//   - The data lives in memory only; Close discards it.
//
// # Two engines: this stand-in and MariaDB
//
// Package auroralocal/mariadb runs the same IAM login on a real MariaDB
// 10.11 server (an AWSAuthenticationPlugin whose decisions TokenVerifier
// makes), and auroralocal/fromstack runs a synthesized stack on either
// (fromstack.Engine); the e2e suite in test/ runs every test on both. Known
// differences of each engine from Aurora MySQL 3 (MySQL 8.0) that matter to
// rdsiam (details above and in package mariadb):
//
//	                               Aurora MySQL 3   stand-in (GMS)        MariaDB 10.11 lane
//	`_` / `%` in db grants         wildcards        literal               wildcards
//	database name comparison       lower_case_      case-insensitive      case-sensitive
//	                               table_names=0
//	own SHOW GRANTS                allowed          error 1044            allowed
//	@@require_secure_transport     as configured    0 (TLS enforced       1 (ON)
//	                                                anyway)
//	plain-TCP login (secure        3159             3159                  1045 (plugin refuses;
//	  transport on)                                                       password users after auth)
//	REVOKE ALL ..., GRANT OPTION   keeps roles      roles not modelled    drops role grants, keeps
//	                                                                      DEFAULT ROLE
//	max_connections                enforced         not enforced          enforced
//	VERSION()                      8.0.x            8.0.39-auroralocal    10.11.x-MariaDB
//	auth log                       iam-db-auth-     every login           IAM logins the plugin asks
//	                               error            (AuthEvents)          about (AuthEvents)
//	fault injection, Restart       n/a              yes                   no
//
// Reason codes: ReasonCode maps a recorded refusal to an iam-db-auth-error
// style code (InvalidToken, ExpiredToken, NotAuthorized, NotTLS, ...), the
// same on both engines.
package auroralocal
