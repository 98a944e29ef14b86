// Package mariadb is the real-engine lane of the local Aurora stand-in: it
// runs MariaDB 10.11 from Debian (mariadb-server) on 127.0.0.1 with an
// AWSAuthenticationPlugin, so the production user SQL
// (IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS', REQUIRE SSL, GRANT,
// REVOKE) runs unchanged on a server whose privilege semantics are MySQL's:
// the `_` and `%` wildcards in database grants, case-sensitive database
// names, roles, SHOW GRANTS, max_connections. For tests, benchmarks and
// local runs only; never linked into a Lambda.
//
// Start gives each server a throw-away data directory (a copy of a
// template that mariadb-install-db makes once per MariaDB version under
// .build/mariadb), a certificate from internal/localpki,
// require_secure_transport=ON, a master user with a random password (every
// privilege, WITH GRANT OPTION), and no anonymous accounts. Close stops it
// and removes everything; a server whose test process dies is killed with
// it (Pdeathsig). Tests call RequireInstalled: without MariaDB they skip
// with one line, unless CI=true, where they fail.
//
// # The plugin
//
// plugin/aws_auth.c is a server authentication plugin named
// AWSAuthenticationPlugin whose client plugin is mysql_clear_password, built
// by `make mariadb-plugin` (gcc and Debian's libmariadbd-dev headers) into
// .build/mariadb/plugin and loaded with --plugin-dir/--plugin-load-add;
// Start runs make itself, so a changed .c is rebuilt before use. The C only
// carries bytes: for each IAM login it asks the Go verifier in the process
// that started the server, over a Unix socket, first whether the connection
// is TLS (before the client is asked for the token), then whether the token
// is good. The verifier is auroralocal.TokenVerifier — the stand-in's own
// SigV4 check and the stack-policy Authorize — so both engines accept and
// refuse the same tokens. Why a socket and not a Go c-shared library: see
// verifier.go. Each decision is recorded in an auroralocal.AuthLog
// (AuthEvents, LastAuthError) with a reason that auroralocal.ReasonCode maps
// to an iam-db-auth-error style code (InvalidToken, ExpiredToken,
// NotAuthorized, NotTLS).
//
// MariaDB 10.11's plugin API does not tell a plugin whether the connection
// is encrypted, so the verifier reads performance_schema.threads'
// CONNECTION_TYPE for the plugin's connection id (performance_schema is on
// for this reason).
//
// # Differences from Aurora MySQL 3 (MySQL 8.0)
//
//	                            Aurora MySQL 3                      this lane (MariaDB 10.11)
//	VERSION()                   8.0.x                               10.11.x-MariaDB-...
//	plain TCP, secure transport error 3159 before authentication    the plugin refuses: 1045 (password
//	                                                                users also get 1045, after auth)
//	REVOKE ALL PRIVILEGES,      keeps granted roles (documented)    drops role grants, keeps the
//	  GRANT OPTION                                                  DEFAULT ROLE (re-granting revives it);
//	                                                                REVOKE of a role not held: error 1962
//	SHOW GRANTS                 grants only (plugin, REQUIRE in     also GRANT USAGE ... IDENTIFIED VIA
//	                            SHOW CREATE USER)                   AWSAuthenticationPlugin USING 'RDS' REQUIRE SSL
//	master user                 rds_superuser_role, no SUPER        ALL PRIVILEGES ON *.* WITH GRANT OPTION
//	roles, partial revokes      MySQL 8.0 roles, mandatory_roles    MariaDB roles (one active role; no
//	                                                                mandatory roles, no partial revokes)
//	TLS                         RDS CA chain, OpenSSL names         a localpki CA (ECDSA P-256)
//	IAM auth off                1524 Plugin is not loaded           the same, by UNINSTALL SONAME
//	auth log                    iam-db-auth-error (CloudWatch)      AuthEvents: IAM logins only; password
//	                                                                logins and 1524 are not recorded
//
// The lane checks tokens with the same verifier as the stand-in, so the
// token corner cases listed in package auroralocal apply here too.
package mariadb
