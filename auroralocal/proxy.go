package auroralocal

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Defaults for ProxyOptions.
const (
	DefaultProxyHost       = "proxy.localhost"
	DefaultProxyResourceID = "prx-0123456789abcdef0"
)

// ErrProxyRoleNotAuthorized is the reason kept for a login through the
// proxy whose client token was fine but whose proxy role may not log in to
// the cluster as the user (RDS Proxy's end-to-end IAM: the proxy signs its
// own token for the database with its role).
var ErrProxyRoleNotAuthorized = errors.New("proxy role not authorized for rds-db:connect on the cluster")

// ProxyOptions makes the stand-in play an RDS Proxy with end-to-end IAM
// authentication in front of the writer (Options.Proxy).
//
// A client reaches it with Server.Dial at ProxyHost():Port(). Its token must
// be signed for that endpoint, and its principal must be allowed
// rds-db:connect on arn:aws:rds-db:<region>:<account>:dbuser:<ResourceID>/<user>;
// a policy naming only the cluster's ARN is refused here, as a policy naming
// only the proxy's is refused at the cluster endpoint. The proxy's own role
// (Role) must then be allowed rds-db:connect on the cluster's ARN for the
// user. Every refusal is MySQL error 1045, as RDS Proxy gives.
type ProxyOptions struct {
	// Host is the proxy endpoint's host name. Default DefaultProxyHost.
	Host string
	// ResourceID is the proxy's resource id, the last part of its ARN
	// ("prx-" and 17 lower-case letters or digits on AWS). Default
	// DefaultProxyResourceID.
	ResourceID string
	// Role is the proxy's IAM role. Only ARN and Authorize are used: the
	// proxy's login to the database is checked, not signed. Required; a nil
	// Authorize denies every login, as a role without the grant does.
	Role Principal
}

var proxyIDPattern = regexp.MustCompile(`^prx-[a-z0-9]{1,63}$`)

func (p *ProxyOptions) normalize(clusterHost string) error {
	if p.Host == "" {
		p.Host = DefaultProxyHost
	}
	if !hostPattern.MatchString(p.Host) || p.Host == clusterHost {
		return fmt.Errorf("auroralocal: Options.Proxy.Host %q must be a host name other than the cluster endpoint %q", p.Host, clusterHost)
	}
	if p.ResourceID == "" {
		p.ResourceID = DefaultProxyResourceID
	}
	if !proxyIDPattern.MatchString(p.ResourceID) {
		return fmt.Errorf("auroralocal: Options.Proxy.ResourceID %q is not a proxy resource id like %q", p.ResourceID, DefaultProxyResourceID)
	}
	if !strings.HasPrefix(p.Role.ARN, "arn:") {
		return fmt.Errorf("auroralocal: Options.Proxy.Role.ARN %q does not start with \"arn:\"", p.Role.ARN)
	}
	return nil
}

// ProxyHost returns the proxy endpoint's host name ("" without a proxy).
func (s *Server) ProxyHost() string { return s.proxy.hostName() }

// ProxyEndpoint returns "ProxyHost():Port()": what tokens for the proxy
// are signed for ("" without a proxy).
func (s *Server) ProxyEndpoint() string { return s.proxy.endpointName() }

// ProxyDBUserARN returns the ARN a login as user through the proxy is
// authorized against ("" without a proxy).
func (s *Server) ProxyDBUserARN(user string) string {
	if s.proxy == nil {
		return ""
	}
	return s.proxy.dbUserARN(user)
}

// checkBackend is the proxy's own login to the cluster as user: its role
// must be allowed rds-db:connect on the cluster's ARN. It returns nil for a
// door without a backend role (the reader) or the reason to refuse.
func (d *door) checkBackend(user string) error {
	if d == nil || d.backend == nil {
		return nil
	}
	resource := d.s.DBUserARN(user)
	ok, err := authorize(*d.backend, ConnectAction, resource)
	if err != nil {
		return fmt.Errorf("%w: %s on %s for %s: %v", ErrAuthorizeFailed, ConnectAction, resource, d.backend.ARN, err)
	}
	if !ok {
		return fmt.Errorf("%w: %s denied %s on %s", ErrProxyRoleNotAuthorized, d.backend.ARN, ConnectAction, resource)
	}
	return nil
}
