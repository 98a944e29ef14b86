package auroralocal

import (
	"crypto/x509"
	"database/sql"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/lambda/rdstls"
)

// OpenDB opens a pool that logs in to a local engine at addr (127.0.0.1:port)
// as user with password — a token for IAM users — as a standard client
// would: over TLS, verifying the certificate for host against ca, or over
// plain TCP when ca is nil. Cleartext passwords are allowed so tokens can be
// sent; an engine must refuse them on plain TCP. The caller closes the pool.
func OpenDB(addr, host string, ca *x509.CertPool, user, password string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = user, password, "tcp", addr
	cfg.AllowCleartextPasswords = true
	cfg.Timeout = 10 * time.Second
	if ca != nil {
		tc, err := rdstls.Config(host, ca)
		if err != nil {
			return nil, err
		}
		cfg.TLS = tc
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}
