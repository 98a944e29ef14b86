package fromstack

import (
	"crypto/x509"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/auroralocal/mariadb"
	"github.com/rdsiam/rdsiam/internal/standin"
)

// Engine names for Options.Engine.
const (
	// EngineStandIn is auroralocal, the in-process go-mysql-server stand-in
	// (the default: no installation needed, fault injection available).
	EngineStandIn = "auroralocal"
	// EngineMariaDB is the real-engine lane: MariaDB 10.11 with the
	// AWSAuthenticationPlugin of auroralocal/mariadb.
	EngineMariaDB = "mariadb"
)

// Engines lists every engine a stack can be "deployed" on, the default
// first (a new slice each call).
func Engines() []string { return []string{EngineStandIn, EngineMariaDB} }

// Engine is a running server that plays an Aurora MySQL 3 cluster's IAM
// login: both engines verify tokens with auroralocal.TokenVerifier and the
// stack's policies, and record each decision in an auroralocal.AuthLog.
type Engine interface {
	// Name is EngineStandIn or EngineMariaDB.
	Name() string
	// Addr is 127.0.0.1:port to dial; Host the name tokens are signed for
	// and the certificate is valid for; Endpoint is Host:Port.
	Addr() string
	Host() string
	Port() int
	Endpoint() string
	Region() string
	MasterUser() string
	// MasterPassword is the master's password. Never log it.
	MasterPassword() string
	// CAPool trusts only the server's throw-away CA; WriteCA writes it (PEM)
	// for standard clients.
	CAPool() *x509.CertPool
	WriteCA(path string) error
	// AuthEvents are the IAM login decisions (and, on the stand-in, the
	// password logins too), oldest first; LastAuthError the last refusal's
	// reason (auroralocal.ReasonCode gives its code).
	AuthEvents() []auroralocal.AuthEvent
	LastAuthError() error
	// AdvanceClock moves the clock tokens are checked against.
	AdvanceClock(d time.Duration)
	// SetIAMAuth turns IAM database authentication off (IAM users get
	// error 1524) or on.
	SetIAMAuth(enabled bool) error
	// Users lists the accounts (not roles; not an engine's internal
	// accounts); Grants lists one account's privileges, one line per
	// privilege and scope ("SELECT ON appdb.*"). MariaDB answers from SQL
	// as the master (mysql.user, SHOW GRANTS); the stand-in from its own
	// tables, because GMS's SHOW GRANTS and mysql.user do not show the
	// REQUIRE SSL it emulates.
	Users() ([]auroralocal.User, error)
	Grants(user, host string) ([]string, error)
	// Close stops the server and discards its data.
	Close() error
}

// standIn adapts *auroralocal.Server to Engine.
type standIn struct{ *auroralocal.Server }

func (standIn) Name() string { return EngineStandIn }

func (s standIn) SetIAMAuth(enabled bool) error {
	s.Server.SetIAMAuth(enabled)
	return nil
}

var (
	_ Engine = standIn{}
	_ Engine = (*mariadb.Server)(nil)
)

// startEngine starts the named engine with opts.
func startEngine(name string, opts auroralocal.Options, dir string) (Engine, error) {
	switch name {
	case "", EngineStandIn:
		srv, err := auroralocal.Start(opts)
		if err != nil {
			return nil, err
		}
		return standIn{srv}, nil
	case EngineMariaDB:
		srv, err := mariadb.Start(mariadb.Options{Options: opts, Dir: dir})
		if err != nil {
			return nil, err
		}
		return srv, nil
	default:
		return nil, fmt.Errorf("fromstack: Options.Engine %q is not an engine; want one of %s", name, strings.Join(Engines(), ", "))
	}
}

// MasterDB opens a pool logged in as the master over TLS, verifying the
// engine's certificate, as an operator would. The caller closes it.
func (l *Local) MasterDB() (*sql.DB, error) {
	return standin.MasterDB(l.Server)
}

// OpenDB opens a pool that logs in as user with a fixed password (or
// token), as a standard client would: over TLS trusting the engine's CA, or
// over plain TCP. Cleartext passwords are allowed so tokens can be sent;
// the engine must refuse that on plain TCP. The caller closes it.
func (l *Local) OpenDB(user, password string, useTLS bool) (*sql.DB, error) {
	var ca *x509.CertPool
	if useTLS {
		ca = l.Server.CAPool()
	}
	return auroralocal.OpenDB(l.Server.Addr(), l.Server.Host(), ca, user, password)
}

// UserSummary describes one account as the demo prints it.
func (l *Local) UserSummary(name string) (string, error) {
	users, err := l.Server.Users()
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(users, func(u auroralocal.User) bool { return u.Name == name })
	if i < 0 {
		return "", fmt.Errorf("fromstack: no account named %q", name)
	}
	u := users[i]
	grants, err := l.Server.Grants(u.Name, u.Host)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("user '%s'@'%s' plugin %s, require SSL %v, grants %s",
		u.Name, u.Host, u.Plugin, u.RequireSSL, strings.Join(grants, ", ")), nil
}
