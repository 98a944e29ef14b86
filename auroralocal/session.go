package auroralocal

import (
	"context"
	"crypto/tls"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
)

// buildSession is the GMS session builder. It differs from GMS's default in
// two ways that make the session look like Aurora's:
//
//   - the client address is the matched account host (e.g. "%"), so
//     CURRENT_USER() returns "app_user@%" and privilege lookups use the
//     exact account that authenticated;
//   - the session status variables Ssl_cipher and Ssl_version carry this
//     connection's negotiated TLS cipher suite and version ("" on plain
//     TCP), so SHOW SESSION STATUS LIKE 'Ssl_cipher' answers per
//     connection.
func (s *Server) buildSession(ctx context.Context, conn *mysql.Conn, addr string) (sql.Session, error) {
	var user, host string
	if u, ok := conn.UserData.(sql.MysqlConnectionUser); ok {
		user, host = u.User, u.Host
	}
	client := sql.Client{Address: host, User: user, Capabilities: conn.Capabilities}
	sess := memory.NewSession(sql.NewBaseSessionWithClientServer(addr, client, conn.ConnectionID), s.provider)

	cipher, version := tlsState(conn)
	sqlCtx := sql.NewContext(ctx, sql.WithSession(sess))
	// Both variables exist in GMS's registry; failure would only leave them
	// at their default "", which is still a valid answer on plain TCP.
	_ = sess.SetStatusVariable(sqlCtx, "Ssl_cipher", cipher)
	_ = sess.SetStatusVariable(sqlCtx, "Ssl_version", version)
	s.initSessionVariables(sqlCtx, sess)
	return sess, nil
}

// tlsState returns the negotiated cipher suite name (Go/IANA spelling) and
// TLS version name of conn, or "", "" on plain TCP.
func tlsState(conn *mysql.Conn) (cipher, version string) {
	tc, ok := conn.Conn.(*tls.Conn)
	if !ok {
		return "", ""
	}
	st := tc.ConnectionState()
	return tls.CipherSuiteName(st.CipherSuite), tlsVersionName(st.Version)
}

// tlsVersionName spells versions as MySQL's Ssl_version does.
func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	default:
		return tls.VersionName(v)
	}
}
