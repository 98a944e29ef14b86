package auroralocal

import (
	"fmt"
	"net"

	"github.com/dolthub/vitess/go/mysql"
)

// authServer replaces GMS's own mysql.AuthServer so every auth method sees
// the *mysql.Conn (TLS state, remote address). vitess picks the first method
// whose Name matches what the client asked for and whose HandleUser accepts
// the user; failing that, it switches the client to the first method whose
// HandleUser accepts. The methods are arranged so that:
//
//   - password users authenticate with GMS's mysql_native_password or
//     caching_sha2_password checks, after this server's transport checks;
//   - IAM users over TLS with IAM enabled are switched to
//     mysql_clear_password and verified as RDS IAM tokens;
//   - IAM users over plain TCP, or while IAM is disabled, and unknown
//     accounts are claimed by the native method and refused without any
//     auth switch, so a client is never asked for a cleartext password over
//     an unencrypted connection.
type authServer struct {
	s       *Server
	methods []mysql.AuthMethod
}

var _ mysql.AuthServer = (*authServer)(nil)

// newAuthServer wraps GMS's native and caching_sha2 methods and adds the IAM
// method.
func newAuthServer(s *Server) (*authServer, error) {
	var native, caching mysql.AuthMethod
	for _, m := range s.mysqlDb.AuthMethods() {
		switch m.Name() {
		case mysql.MysqlNativePassword:
			native = m
		case mysql.CachingSha2Password:
			caching = m
		}
	}
	if native == nil || caching == nil {
		return nil, fmt.Errorf("auroralocal: GMS did not provide mysql_native_password and caching_sha2_password auth methods")
	}
	a := &authServer{s: s}
	a.methods = []mysql.AuthMethod{
		&passwordMethod{s: s, gms: native},
		&passwordMethod{s: s, gms: caching},
		&iamMethod{s: s},
	}
	return a, nil
}

// AuthMethods implements mysql.AuthServer.
func (a *authServer) AuthMethods() []mysql.AuthMethod { return a.methods }

// DefaultAuthMethodDescription implements mysql.AuthServer: the initial
// handshake offers mysql_native_password, as Aurora MySQL 3 does by default.
func (a *authServer) DefaultAuthMethodDescription() mysql.AuthMethodDescription {
	return mysql.MysqlNativePassword
}

// passwordMethod wraps one of GMS's password auth methods with this
// server's transport and account checks.
type passwordMethod struct {
	s   *Server
	gms mysql.AuthMethod
}

func (m *passwordMethod) isNative() bool { return m.gms.Name() == mysql.MysqlNativePassword }

// Name implements mysql.AuthMethod.
func (m *passwordMethod) Name() mysql.AuthMethodDescription { return m.gms.Name() }

// AllowClearTextWithoutTLS implements mysql.AuthMethod; neither wrapped
// method sends a cleartext password.
func (m *passwordMethod) AllowClearTextWithoutTLS() bool { return m.gms.AllowClearTextWithoutTLS() }

// AuthPluginData implements mysql.AuthMethod (the scramble salt).
func (m *passwordMethod) AuthPluginData() ([]byte, error) { return m.gms.AuthPluginData() }

// HandleUser implements mysql.AuthMethod. The native method also claims
// every user no other method may handle on this connection, so that they
// get a proper MySQL refusal (1045/1524/3159) instead of vitess's generic
// handshake error, and never an auth switch to cleartext.
func (m *passwordMethod) HandleUser(conn *mysql.Conn, user string) bool {
	acct, found := m.s.lookupAccount(user, conn.RemoteAddr())
	if !m.isNative() {
		return found && acct.Plugin == string(mysql.CachingSha2Password) && m.gms.HandleUser(conn, user)
	}
	switch {
	case !found:
		return true
	case acct.Plugin == IAMPluginName:
		return !conn.TLSEnabled() || !m.s.iamEnabled.Load()
	case acct.Plugin == string(mysql.CachingSha2Password):
		return !conn.TLSEnabled() // GMS supports caching_sha2 only over TLS
	default:
		return true // native users, and unknown plugins (refused below)
	}
}

// HandleAuthPluginData implements mysql.AuthMethod.
func (m *passwordMethod) HandleAuthPluginData(conn *mysql.Conn, user string, serverData, clientData []byte, remote net.Addr) (getter mysql.Getter, err error) {
	att := m.s.newAttempt(conn, user, string(m.Name()), remote)
	usedPassword := len(clientData) > 0 && !(len(clientData) == 1 && clientData[0] == 0)
	defer att.recoverPanic(&getter, &err, usedPassword)
	if err := m.s.admit(att); err != nil {
		return nil, err
	}

	if !att.tls && *m.s.opts.RequireSecureTransport {
		return nil, att.refuse(errSecureTransportRequired(), ErrInsecureTransport)
	}
	acct, found := m.s.lookupAccount(user, remote)
	if !found {
		return nil, att.refuse(errAccessDenied(user, att.clientHost, usedPassword),
			fmt.Errorf("%w: '%s' from %s", ErrUnknownAccount, user, att.clientHost))
	}
	if acct.Plugin == IAMPluginName {
		if !m.s.iamEnabled.Load() {
			return nil, att.refuse(errPluginNotLoaded(), ErrIAMDisabled)
		}
		if !att.tls {
			return nil, att.refuse(errAccessDenied(user, att.clientHost, usedPassword), ErrIAMWithoutTLS)
		}
		return nil, att.refuse(errAccessDenied(user, att.clientHost, usedPassword),
			fmt.Errorf("%w: IAM user offered %s instead of mysql_clear_password", ErrWrongPassword, m.Name()))
	}
	if acct.Plugin != string(m.Name()) {
		return nil, att.refuse(errAccessDenied(user, att.clientHost, usedPassword),
			fmt.Errorf("%w: account uses plugin %q, client authenticated with %s", ErrWrongPassword, acct.Plugin, m.Name()))
	}
	if acct.RequireSSL && !att.tls {
		return nil, att.refuse(errAccessDenied(user, att.clientHost, usedPassword), ErrSSLRequired)
	}
	getter, gmsErr := m.gms.HandleAuthPluginData(conn, user, serverData, clientData, remote)
	if gmsErr != nil {
		// GMS's message names only the user; keep it as detail.
		return nil, att.refuse(errAccessDenied(user, att.clientHost, usedPassword),
			fmt.Errorf("%w: %v", ErrWrongPassword, gmsErr))
	}
	att.succeed("")
	return getter, nil
}
