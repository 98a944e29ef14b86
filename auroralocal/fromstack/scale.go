package fromstack

import (
	"context"
	"fmt"
	"net"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/auroralocal/cfntemplate"
)

// The stand-in's names for the scale-out resources: the RDS Proxy's
// endpoint and resource id, and the cluster's reader endpoint.
const (
	LocalProxyHost       = auroralocal.DefaultProxyHost
	LocalProxyResourceID = auroralocal.DefaultProxyResourceID
	LocalReaderHost      = auroralocal.DefaultReaderHost
)

// ProxyID returns the logical id of the template's AWS::RDS::DBProxy and of
// its role, or "" when the stack has no proxy. More than one is an error.
func (s *Stack) ProxyID() (proxyID, roleID string, err error) {
	proxyID, err = s.Template.AtMostOne("AWS::RDS::DBProxy")
	if err != nil || proxyID == "" {
		return "", "", err
	}
	roleArn := s.Template.Resources[proxyID].Properties["RoleArn"]
	roleID, ok := s.Template.ArnOf(roleArn)
	if !ok {
		return "", "", fmt.Errorf("fromstack: proxy %s: RoleArn is not a role of this template: %v", proxyID, roleArn)
	}
	return proxyID, roleID, nil
}

// HasReaders reports whether the cluster has instances besides the writer.
func (s *Stack) HasReaders() bool {
	return len(s.Template.OfType("AWS::RDS::DBInstance")) > 1
}

// scaleAttrs gives the proxy's and reader endpoint's attributes the
// stand-in's values: the proxy ARN ends in LocalProxyResourceID, so an
// rds-db ARN built from it names the stand-in's proxy.
func (s *Stack) scaleAttrs(env *cfntemplate.Env, place Place) {
	if proxyID, _, err := s.ProxyID(); err == nil && proxyID != "" {
		env.Attrs[proxyID+".Endpoint"] = LocalProxyHost
		env.Attrs[proxyID+".DBProxyArn"] = fmt.Sprintf("arn:%s:rds:%s:%s:db-proxy:%s",
			place.Partition, place.Region, place.Account, LocalProxyResourceID)
	}
	if s.HasReaders() {
		env.Attrs[s.ClusterID+".ReadEndpoint.Address"] = LocalReaderHost
	}
}

// scaleOptions adds the proxy (its role authorized by the role's policies
// in the template) and the reader endpoint to the stand-in's options.
func (l *Local) scaleOptions(o *auroralocal.Options) error {
	proxyID, roleID, err := l.Stack.ProxyID()
	if err != nil {
		return err
	}
	if proxyID != "" {
		policies, err := l.Stack.RolePolicies(roleID, l.Env)
		if err != nil {
			return err
		}
		o.Proxy = &auroralocal.ProxyOptions{Host: LocalProxyHost, ResourceID: LocalProxyResourceID,
			Role: auroralocal.Principal{ARN: fmt.Sprintf("arn:%s:iam::%s:role/%s", auroralocal.Partition, o.Account, roleID),
				Authorize: policies.Authorize}}
	}
	if l.Stack.HasReaders() {
		o.Reader = &auroralocal.ReaderOptions{Host: LocalReaderHost}
	}
	return nil
}

// standInServer is the stand-in behind l, the only engine that plays the
// proxy and reader endpoints; ok is false for any other engine. Everything
// scale-out reaches the server through here, so this is the one place that
// knows which engine it is.
func (l *Local) standInServer() (srv *auroralocal.Server, ok bool) {
	s, ok := l.Server.(standIn)
	return s.Server, ok
}

// Dial connects to the local endpoint named by addr's host: the cluster's,
// LocalProxyHost or LocalReaderHost (see auroralocal.Server.Dial). Use it as
// iamdb.Config.Dial for a client configured from a scale-out stack's
// environment, whose proxy and reader host names do not resolve.
func (l *Local) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	srv, ok := l.standInServer()
	if !ok {
		return nil, fmt.Errorf("fromstack: Dial %q: only the stand-in plays the proxy and reader endpoints", addr)
	}
	return srv.Dial(ctx, network, addr)
}

// ProxyHost and ReaderHost are the local proxy's and reader endpoint's
// host names, "" when the stack (or the engine) has none.
func (l *Local) ProxyHost() string {
	if srv, ok := l.standInServer(); ok {
		return srv.ProxyHost()
	}
	return ""
}

func (l *Local) ReaderHost() string {
	if srv, ok := l.standInServer(); ok {
		return srv.ReaderHost()
	}
	return ""
}
