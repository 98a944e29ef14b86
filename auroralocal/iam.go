package auroralocal

import (
	"fmt"
	"net"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"rdsiam/auroralocal/sigv4"
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

	// Through a door (proxy, reader endpoint) the token is signed for the
	// door's endpoint and authorized against the door's resource ARN.
	d := m.s.doorOf(remote)
	endpoint, resource := m.s.Endpoint(), m.s.dbUserARN(user)
	att.event.Endpoint = m.s.Host()
	if d != nil {
		endpoint, resource = d.endpoint(), d.dbUserARN(user)
		att.event.Endpoint = d.host
	}
	claims, err := sigv4.Verify(token, sigv4.Expect{
		Endpoint: endpoint,
		User:     user,
		Region:   m.s.opts.Region,
	}, now, m.s.lookupKey)
	if err != nil {
		return nil, denied(err)
	}
	p := m.s.principals[claims.AccessKeyID]
	att.event.Principal = p.ARN

	allowed, err := authorize(p, ConnectAction, resource)
	if err != nil {
		return nil, denied(fmt.Errorf("%w: %s on %s for %s: %v", ErrAuthorizeFailed, ConnectAction, resource, p.ARN, err))
	}
	if !allowed {
		return nil, denied(fmt.Errorf("%w: %s denied %s on %s", ErrNotAuthorized, p.ARN, ConnectAction, resource))
	}
	if err := d.checkBackend(user); err != nil {
		return nil, denied(err)
	}
	att.succeed(p.ARN)
	return sql.MysqlConnectionUser{User: acct.User, Host: acct.Host}, nil
}

// lookupKey is the sigv4 key lookup over the configured principals.
func (s *Server) lookupKey(accessKeyID string) (sigv4.Credential, bool) {
	p, ok := s.principals[accessKeyID]
	if !ok {
		return sigv4.Credential{}, false
	}
	return sigv4.Credential{SecretAccessKey: p.SecretAccessKey, SessionToken: p.SessionToken}, true
}

// DBUserARN returns the rds-db resource ARN a login as user is authorized
// against: arn:aws:rds-db:<region>:<account>:dbuser:<cluster resource id>/<user>.
func (s *Server) DBUserARN(user string) string { return s.dbUserARN(user) }

func (s *Server) dbUserARN(user string) string {
	return fmt.Sprintf("arn:%s:rds-db:%s:%s:dbuser:%s/%s", Partition, s.opts.Region, s.opts.Account, s.opts.ClusterResourceID, user)
}

// authorize calls p.Authorize, treating nil as deny-all and a panic as an
// evaluation error.
func authorize(p Principal, action, resource string) (allowed bool, err error) {
	if p.Authorize == nil {
		return false, nil
	}
	defer func() {
		if r := recover(); r != nil {
			allowed, err = false, fmt.Errorf("Authorize panicked: %v", r)
		}
	}()
	return p.Authorize(action, resource)
}
