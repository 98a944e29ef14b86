package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

// MaxReaders is Aurora's limit of reader instances (Aurora Replicas) in one
// cluster.
const MaxReaders = 15

// validateScale checks how the proxy and readers keys combine with the rest
// of the configuration.
func (c Config) validateScale() error {
	// A proxy keeps connections to the writer open, so a Serverless v2
	// writer allowed to pause (minCapacity 0, Aurora MySQL 3.08+) never
	// would: the two settings contradict each other.
	if c.Proxy && c.Writer == WriterServerlessV2 && c.MinCapacity == 0 {
		return &ConfigError{Key: "proxy", Value: c.Proxy,
			Reason:  "an RDS Proxy holds connections to the writer, so a Serverless v2 writer with minCapacity 0 would never auto-pause",
			Allowed: "false with minCapacity 0, or minCapacity 0.5 or more with a proxy"}
	}
	return nil
}

// ProxyProps configures Proxy. The cluster may be created in this app or
// imported by attributes (it then needs its Engine and SecurityGroups
// attributes: the proxy's target and the rules to its port).
type ProxyProps struct {
	// Cluster is the target; the proxy fronts its writer. Required.
	Cluster awsrds.IDatabaseCluster
	// Vpc is where the proxy lives, the cluster's. Required.
	Vpc awsec2.IVpc
	// VpcSubnets picks the proxy's subnets. Default: nil, CDK's default
	// selection (the VPC's private subnets with egress, else its isolated
	// ones).
	VpcSubnets *awsec2.SubnetSelection
	// MaxConnectionsPercent caps the proxy's connections to the writer as
	// a share of its max_connections, 1-100. Default: 0 means the share
	// the app's default configuration leaves the proxy
	// (DefaultConfig().ProxyMaxConnectionsPercent(): max_connections less
	// the user provider's connection and connectionHeadroom), not RDS's
	// 100, which lets a busy proxy take every connection.
	MaxConnectionsPercent int
}

// defaultProxyMaxConnectionsPercent is ProxyProps.MaxConnectionsPercent's
// default.
func defaultProxyMaxConnectionsPercent() (int, error) {
	return DefaultConfig().ProxyMaxConnectionsPercent()
}

// Proxy is an RDS Proxy in front of a cluster's writer with IAM
// authentication end to end: clients log in to it with IAM tokens signed
// for its endpoint, and it logs in to the cluster with IAM tokens of its
// own role, so no Secrets Manager secret is on the user path. TLS is
// required from clients. It has its own security group, open only to the
// peers allowed to it (QueryFunctionProps.Proxy does that for the query
// function) and able to reach only the cluster's port.
type Proxy struct {
	constructs.Construct
	DB            awsrds.DatabaseProxy
	SecurityGroup awsec2.SecurityGroup
	// Role is the proxy's own role; AllowUser lets it log in to the cluster.
	Role awsiam.Role
}

// NewProxy creates the proxy, its security group and its role.
func NewProxy(scope constructs.Construct, id string, props ProxyProps) (*Proxy, error) {
	if props.Cluster == nil || props.Vpc == nil {
		return nil, fmt.Errorf("proxy %s: ProxyProps.Cluster and Vpc are required", id)
	}
	if props.MaxConnectionsPercent == 0 {
		pct, err := defaultProxyMaxConnectionsPercent()
		if err != nil {
			return nil, fmt.Errorf("proxy %s: ProxyProps.MaxConnectionsPercent's default: %w", id, err)
		}
		props.MaxConnectionsPercent = pct
	}
	var errs propChecks
	checkProp(&errs, "ProxyProps.MaxConnectionsPercent", props.MaxConnectionsPercent, intRange{min: 1, max: 100, unit: "percent", note: "0: the default configuration's share"}.rule())
	if err := errs.err("proxy " + id); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	p := &Proxy{Construct: c}
	p.SecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String("RDS Proxy: MySQL from the rdsiam query function, to the Aurora cluster only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	// Our own role rather than CDK's default, so that nothing but the
	// rds-db:connect grants AllowUser adds is on it (CDK would grant
	// secret reads when secrets are given; there are none).
	p.Role = awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("rds.amazonaws.com"), nil),
		Description: jsii.String("RDS Proxy: logs in to the Aurora cluster with IAM as the users it fronts"),
	})
	var err error
	p.DB, err = cdkCall("ProxyProps.Cluster as the proxy's target (an imported cluster needs its Engine attribute)", func() awsrds.DatabaseProxy {
		return newDatabaseProxy(c, p, props)
	})
	if err != nil {
		return nil, fmt.Errorf("proxy %s: %w", id, err)
	}
	// ProxyTarget_FromCluster has already opened the cluster's port to the
	// proxy's security group (ingress on the cluster's, egress on the
	// proxy's); a second pair of rules here would only duplicate them.
	return p, nil
}

// newDatabaseProxy is the proxy itself, in front of props.Cluster's writer,
// with p's security group and role.
func newDatabaseProxy(c constructs.Construct, p *Proxy, props ProxyProps) awsrds.DatabaseProxy {
	return awsrds.NewDatabaseProxy(c, jsii.String("Proxy"), &awsrds.DatabaseProxyProps{
		ProxyTarget: awsrds.ProxyTarget_FromCluster(props.Cluster),
		// A name unique in the account and region, as CDK's
		// DATABASE_PROXY_UNIQUE_RESOURCE_NAME flag would choose; without
		// it CDK names every proxy by its construct id.
		DbProxyName: awscdk.Names_UniqueResourceName(c, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(60)}),
		// IAM_AUTH: end-to-end IAM (client -> proxy -> database); CDK then
		// requires no secret and CloudFormation gets DefaultAuthScheme
		// IAM_AUTH and no Auth list.
		DefaultAuthScheme:     awsrds.DefaultAuthScheme_IAM_AUTH,
		RequireTLS:            jsii.Bool(true),
		MaxConnectionsPercent: jsii.Number(float64(props.MaxConnectionsPercent)),
		Vpc:                   props.Vpc,
		VpcSubnets:            props.VpcSubnets,
		SecurityGroups:        &[]awsec2.ISecurityGroup{p.SecurityGroup},
		Role:                  p.Role,
		// The connector sets time_zone on every new connection (iamdb).
		// RDS Proxy pins a client connection that changes a session
		// variable to one database connection for its whole life, which
		// would undo the pooling the proxy is for. So every database
		// connection of the proxy starts with the same setting, and SETs of
		// session variables do not pin. The query function sets no other
		// session variable; a function that does must not rely on it
		// surviving between transactions through this proxy.
		InitQuery:             jsii.String("SET time_zone = " + iamdb.SessionTimeZone),
		SessionPinningFilters: &[]awsrds.SessionPinningFilter{awsrds.SessionPinningFilter_EXCLUDE_VARIABLE_SETS()},
	})
}

// AllowUser lets the proxy's role log in to the cluster as user:
// rds-db:connect on the cluster's dbuser ARN for that user.
func (p *Proxy) AllowUser(u *DatabaseUser) {
	u.GrantConnect(p.Role)
}

// GrantConnect allows grantee to log in to the proxy as u: rds-db:connect
// on arn:<partition>:rds-db:<region>:<account>:dbuser:<proxy resource id>/<user>,
// where the resource id (prx-…) is the last part of the proxy's ARN. CDK's
// DatabaseProxy.grantConnect builds exactly this in the version pinned here
// (aws-cdk #12415 was its earlier, wrong form); the synth tests check the
// emitted ARN so a regression fails before a deploy.
func (p *Proxy) GrantConnect(grantee awsiam.IGrantable, u *DatabaseUser) awsiam.Grant {
	return p.DB.GrantConnect(grantee, jsii.String(u.UserName))
}

// Endpoint is the proxy's host name (no port; the port is DatabasePort).
func (p *Proxy) Endpoint() *string { return p.DB.Endpoint() }

// readerInstances returns n readers of the writer's kind: Serverless v2
// readers that scale with the writer (so one can take over after a
// failover at the writer's size), or provisioned readers of the writer's
// class.
func readerInstances(props ClusterProps) []awsrds.IClusterInstance {
	var readers []awsrds.IClusterInstance
	for i := 1; i <= props.Readers; i++ {
		id := jsii.String(fmt.Sprintf("Reader%d", i))
		if props.Writer == WriterProvisioned {
			readers = append(readers, awsrds.ClusterInstance_Provisioned(id, &awsrds.ProvisionedClusterInstanceProps{
				InstanceType:            awsec2.NewInstanceType(jsii.String(props.InstanceClass[len("db."):])),
				CaCertificate:           awsrds.CaCertificate_RDS_CA_RSA2048_G1(),
				PubliclyAccessible:      jsii.Bool(false),
				AutoMinorVersionUpgrade: jsii.Bool(true),
			}))
			continue
		}
		readers = append(readers, awsrds.ClusterInstance_ServerlessV2(id, &awsrds.ServerlessV2ClusterInstanceProps{
			ScaleWithWriter:         jsii.Bool(true),
			CaCertificate:           awsrds.CaCertificate_RDS_CA_RSA2048_G1(),
			PubliclyAccessible:      jsii.Bool(false),
			AutoMinorVersionUpgrade: jsii.Bool(true),
		}))
	}
	return readers
}
