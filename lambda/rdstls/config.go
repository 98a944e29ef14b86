package rdstls

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
)

// Config returns a client TLS configuration for an RDS or Aurora endpoint.
//
// serverName is the endpoint host name exactly as dialled, without a port
// (for example "mycluster.cluster-abc123.eu-west-1.rds.amazonaws.com"); the
// server certificate must be valid for it. roots are the trusted CAs; nil
// means [RootCAs], the embedded Amazon RDS bundle.
//
// The result always verifies the server (InsecureSkipVerify is never set) and
// requires TLS 1.2 or later: IAM tokens travel as cleartext passwords inside
// this TLS session, so older, broken protocol versions are refused. Each call
// returns a new *tls.Config the caller may modify. It returns an error if
// serverName is empty or malformed, or if roots is nil and the embedded bundle
// cannot be loaded.
func Config(serverName string, roots *x509.CertPool) (*tls.Config, error) {
	if err := checkServerName(serverName); err != nil {
		return nil, err
	}
	if roots == nil {
		var err error
		if roots, err = RootCAs(); err != nil {
			return nil, err
		}
	}
	return &tls.Config{
		ServerName: serverName,
		RootCAs:    roots,
		MinVersion: tls.VersionTLS12,
	}, nil
}

// checkServerName rejects values that would make every handshake fail with a
// confusing certificate error, such as "host:3306" or a URL.
func checkServerName(serverName string) error {
	switch {
	case serverName == "":
		return fmt.Errorf("rdstls: server name is empty; want the endpoint host name, e.g. %q", "db.cluster-abc.eu-west-1.rds.amazonaws.com")
	case strings.ContainsAny(serverName, "/@ \t\r\n"):
		return fmt.Errorf("rdstls: server name %q is not a host name: want only the host, without scheme, user, path or spaces", serverName)
	}
	if _, port, err := net.SplitHostPort(serverName); err == nil {
		return fmt.Errorf("rdstls: server name %q includes port %s; want only the host name", serverName, port)
	}
	return nil
}
