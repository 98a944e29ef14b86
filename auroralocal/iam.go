package auroralocal

import (
	"fmt"
	"net"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
)

// ConnectAction is the IAM action checked for every IAM database login.
const ConnectAction = "rds-db:connect"

// iamMethod is mysql_clear_password for AWSAuthenticationPlugin users: the
// "password" is an RDS IAM token, verified with sigv4.Verify and then
// authorized with the signing principal's Authorize.
type iamMethod struct {
	s *Server
}

// Name implements mysql.AuthMethod.
func (m *iamMethod) Name() mysql.AuthMethodDescription { return mysql.MysqlClearPassword }

// AllowClearTextWithoutTLS implements mysql.AuthMethod. vitess consults it
// only when switching methods; HandleUser and HandleAuthPluginData check TLS
// themselves so no path accepts a token over plain TCP.
func (m *iamMethod) AllowClearTextWithoutTLS() bool { return false }

// AuthPluginData implements mysql.AuthMethod: cleartext needs no salt.
func (m *iamMethod) AuthPluginData() ([]byte, error) { return nil, nil }

// HandleUser implements mysql.AuthMethod: only IAM users, only over TLS,
// only while IAM auth is enabled. Everything else is refused by the native
// method without ever asking for a cleartext password.
func (m *iamMethod) HandleUser(conn *mysql.Conn, user string) bool {
	if !conn.TLSEnabled() || !m.s.iamEnabled.Load() {
		return false
	}
	acct, found := m.s.lookupAccount(user, conn.RemoteAddr())
	return found && acct.Plugin == IAMPluginName
}

// HandleAuthPluginData implements mysql.AuthMethod.
func (m *iamMethod) HandleAuthPluginData(conn *mysql.Conn, user string, _, clientData []byte, remote net.Addr) (getter mysql.Getter, err error) {
	att := m.s.newAttempt(conn, user, string(mysql.MysqlClearPassword), remote)
	token := string(clientData)
	if n := len(token); n > 0 && token[n-1] == 0 { // NUL-terminated on the wire
		token = token[:n-1]
	}
	usedPassword := token != ""
	defer att.recoverPanic(&getter, &err, usedPassword)
	denied := func(reason error) error {
		return att.refuse(errAccessDenied(user, att.clientHost, usedPassword), reason)
	}
	if err := m.s.admit(att); err != nil {
		return nil, err
	}

	if !att.tls {
		return nil, denied(ErrIAMWithoutTLS)
	}
	if !m.s.iamEnabled.Load() {
		return nil, att.refuse(errPluginNotLoaded(), ErrIAMDisabled)
	}
	acct, found := m.s.lookupAccount(user, remote)
	if !found {
		return nil, denied(fmt.Errorf("%w: '%s' from %s", ErrUnknownAccount, user, att.clientHost))
	}
	if acct.Plugin != IAMPluginName {
		return nil, denied(fmt.Errorf("%w: account uses plugin %q, client sent a cleartext password", ErrWrongPassword, acct.Plugin))
	}
	now := m.s.Now()
	if refuse, why := m.s.faults.take(now); refuse {
		return nil, denied(fmt.Errorf("%w: %s", ErrInjectedRefusal, why))
	}
	if err := m.s.limits.throttle(token, now); err != nil {
		return nil, denied(err)
	}

	// Through a door (proxy, reader endpoint) the token is signed for the
	// door's endpoint and authorized against the door's resource ARN.
	d := m.s.doorOf(remote)
	endpoint, resource := m.s.Endpoint(), m.s.DBUserARN(user)
	att.event.Endpoint = m.s.Host()
	if d != nil {
		endpoint, resource = d.endpoint(), d.dbUserARN(user)
		att.event.Endpoint = d.host
	}
	principal, err := m.s.verifier.VerifyFor(token, user, endpoint, resource, now)
	att.event.Principal = principal
	if err != nil {
		return nil, denied(err)
	}
	if err := d.checkBackend(user); err != nil {
		return nil, denied(err)
	}
	m.s.limits.accepted(token, now)
	att.succeed(principal)
	return sql.MysqlConnectionUser{User: acct.User, Host: acct.Host}, nil
}

// DBUserARN returns the rds-db resource ARN a login as user is authorized
// against: arn:aws:rds-db:<region>:<account>:dbuser:<cluster resource id>/<user>.
func (s *Server) DBUserARN(user string) string { return s.verifier.DBUserARN(user) }
