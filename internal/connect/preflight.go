package connect

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

// preflightTimeout bounds the login check: dial, TLS, login.
const preflightTimeout = 20 * time.Second

// preflight logs in once with iamdb, the connector the functions use, over
// the same path the client will take, so the four usual failures are
// explained here rather than by the client's terse error.
func preflight(ctx context.Context, o Options, t target, tlsCfg *tls.Config, dial func(context.Context) (net.Conn, error)) error {
	db, err := iamdb.Open(iamdb.Config{
		Host: t.host, Port: t.port, User: t.user, Database: t.database, Region: t.region,
		Credentials: o.Credentials, TLS: tlsCfg, Now: o.Now,
		MaxOpenConns: 1, MaxIdleConns: 1,
		DialTimeout:          preflightTimeout,
		AccessDeniedRetryFor: iamdb.NoAccessDeniedRetry,
		Dial:                 func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
	})
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	err = db.PingContext(ctx)
	if err == nil {
		return nil
	}
	return explain(err, t)
}

// explain wraps a failed login in the sentinel that names its cause.
func explain(err error, t target) error {
	switch {
	case errors.Is(err, ErrTunnelNotUp):
		return err
	case errors.Is(err, ErrTLSNotVerifiable) || iamdb.IsCertificateError(err) || errors.Is(err, mysql.ErrNoTLS):
		return fmt.Errorf("%w for %s: the certificate must be issued for that name by a CA in the RDS bundle (or --ca). "+
			"Through a tunnel, check it leads to this cluster; the name checked is the endpoint's, not the tunnel's: %w", ErrTLSNotVerifiable, t.host, err)
	case mysqlErrorNumber(err) == iamdb.ErrNumAccessDenied:
		return fmt.Errorf("%w as %q: your AWS identity may not log in as this user. Attach the stack's managed policy for %s "+
			"(output HumanUser<N>Policy, rds-db:connect on dbuser:<cluster resource id>/%s) to your role or SSO permission set, "+
			"then allow a minute: %w", ErrNotAllowed, t.user, t.user, t.user, err)
	}
	return fmt.Errorf("connect: log in to %s:%d as %q: %w", t.host, t.port, t.user, err)
}

// mysqlErrorNumber is the MySQL error number err wraps, or 0.
func mysqlErrorNumber(err error) uint16 {
	if me, ok := errors.AsType[*mysql.MySQLError](err); ok {
		return me.Number
	}
	return 0
}
