package stacks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	usersql "github.com/rdsiam/rdsiam/bootstrap-sql"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
	"github.com/rdsiam/rdsiam/lambda/sqlident"
	"github.com/rdsiam/rdsiam/lambda/userprops"
)

// UserProviderProps configures UserProvider. Every field names a CDK
// interface, so the cluster, its secret and its network can be created in
// the same app or imported by attributes (awsrds.DatabaseCluster_FromDatabaseClusterAttributes,
// awssecretsmanager.Secret_FromSecretCompleteArn, awsec2.Vpc_FromVpcAttributes)
// without any lookup at synth time.
type UserProviderProps struct {
	// Cluster is the Aurora MySQL cluster whose users this provider
	// manages. An imported cluster needs ClusterResourceIdentifier (for
	// GrantConnect), ClusterEndpointAddress (where the handler logs in),
	// Port and SecurityGroups (what the handler's rules open) among its
	// attributes. Required.
	Cluster awsrds.IDatabaseCluster
	// AdminSecret holds the credentials the handler logs in with to
	// create, alter and drop users: a JSON secret with "username" and
	// "password", as RDS's managed master secret
	// (DatabaseCluster.Secret()) or a secret of an admin user with
	// CREATE USER and GRANT OPTION. Only the handler's role may read it.
	// Required.
	AdminSecret awssecretsmanager.ISecret
	// Vpc is where the handler runs; it must be the cluster's VPC or one
	// routed to it. Required.
	Vpc awsec2.IVpc
	// VpcSubnets picks the handler's subnets. Default: nil, CDK's default
	// selection (the VPC's private subnets with egress, else its isolated
	// ones).
	VpcSubnets *awsec2.SubnetSelection
	// Port is the MySQL port of the cluster. Default: 0, the cluster's
	// endpoint port (Cluster.ClusterEndpoint().Port()): the Port attribute
	// of an imported cluster, or a CloudFormation reference to the
	// endpoint's port for one created in the same stack. Set it when the
	// port is known, to keep the rules and properties literal.
	Port float64
	// SecretsManager is what guards the handler's way to Secrets Manager
	// (an interface endpoint's IConnectable): HTTPS (443) is opened from
	// the handler to it, and only to it. Default: nil, the handler may
	// reach HTTPS on any IPv4 address (a NAT gateway or an endpoint open to
	// the VPC), and nothing else but the cluster.
	SecretsManager awsec2.IConnectable
	// Binary is the built custom-resource handler (lambda/cmd/dbuser).
	// Required: build it with BuildGoLambdas in this repository, or with
	// BuildModuleLambdas from a module that imports this one.
	Binary GoBinary
}

// UserProvider runs the database-user custom resources of one cluster: a Go
// handler in the VPC that logs in with the admin secret over verified TLS,
// behind CDK's Provider framework. Create one per cluster and share it
// between every DatabaseUser of that cluster.
type UserProvider struct {
	constructs.Construct
	Cluster awsrds.IDatabaseCluster
	// Handler is the custom resource's function (its role is
	// Handler.Role(), its security group in Handler.Connections()).
	Handler  awslambda.Function
	Provider customresources.Provider
	secret   awssecretsmanager.ISecret
	// port is the cluster's port, a number or a token.
	port *float64
	// users maps each user name (lower case) on this cluster to the path of
	// the DatabaseUser that manages it.
	users map[string]string
}

// userProviderTimeout bounds one event. The handler waits at most three
// minutes for the database and answers before this, so a stack never waits
// for CloudFormation's one-hour custom-resource limit.
const userProviderTimeoutMinutes = 5

// NewUserProvider creates the handler function and the provider, and opens
// the cluster's port (and Secrets Manager's) to the handler.
func NewUserProvider(scope constructs.Construct, id string, props UserProviderProps) (*UserProvider, error) {
	var missing []string
	if props.Cluster == nil {
		missing = append(missing, "Cluster")
	}
	if props.AdminSecret == nil {
		missing = append(missing, "AdminSecret")
	}
	if props.Vpc == nil {
		missing = append(missing, "Vpc")
	}
	if props.Binary.Dir == "" {
		missing = append(missing, "Binary")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("user provider %s: %s required (see UserProviderProps)", id, strings.Join(missing, ", "))
	}
	port := jsii.Number(props.Port)
	if props.Port == 0 {
		port = props.Cluster.ClusterEndpoint().Port()
	} else if props.Port < 1 || props.Port > 65535 || props.Port != float64(int(props.Port)) {
		return nil, fmt.Errorf("user provider %s: Port %v is not a TCP port (allowed: 1 to 65535, or 0 for the cluster's)", id, props.Port)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	p := &UserProvider{Construct: c, Cluster: props.Cluster, secret: props.AdminSecret, port: port, users: map[string]string{}}
	handler := newGoFunction(c, "Handler", goFunctionProps{
		Binary:      props.Binary,
		Description: "rdsiam database-user provider",
		// The first release's words: CloudFormation replaces a security
		// group whose description changes.
		SecurityGroupDescription: "rdsiam database-user bootstrap: no egress except the rules added for it",
		Vpc:                      props.Vpc,
		Subnets:                  props.VpcSubnets,
		MemoryMB:                 256,
		Timeout:                  awscdk.Duration_Minutes(jsii.Number(userProviderTimeoutMinutes)),
	})
	p.Handler = handler.Function
	props.AdminSecret.GrantRead(handler.Role, nil)
	conns := handler.Function.Connections()
	conns.AllowTo(props.Cluster, awsec2.Port_Tcp(port), jsii.String("MySQL from the database-user provider"))
	https := awsec2.Port_Tcp(jsii.Number(443))
	if props.SecretsManager != nil {
		conns.AllowTo(props.SecretsManager, https, jsii.String("Secrets Manager from the database-user provider"))
	} else {
		conns.AllowTo(awsec2.Peer_AnyIpv4(), https, jsii.String("Secrets Manager (HTTPS) from the database-user provider"))
	}

	frameworkLogs := awslogs.NewLogGroup(c, jsii.String("FrameworkLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	frameworkRole := newLambdaRole(c, "FrameworkRole", frameworkLogs, false)
	p.Provider = customresources.NewProvider(c, jsii.String("Provider"), &customresources.ProviderProps{
		OnEventHandler:       handler.Function,
		LogGroup:             frameworkLogs,
		FrameworkOnEventRole: frameworkRole,
	})
	suppress(p.Provider.Node().FindChild(jsii.String("framework-onEvent")),
		nagSynchronousOnly, nagNoTracing,
		nagRule{ID: "Serverless-LambdaDefaultMemorySize",
			Reason: "CDK's provider framework function; its memory is not configurable and it only relays events to the handler."})
	suppress(frameworkRole.Node().FindChild(jsii.String("DefaultPolicy")),
		nagRule{ID: "AwsSolutions-IAM5", AppliesToRegex: `^Resource::<[A-Za-z0-9]*Handler[0-9A-F]{8}\.Arn>:\*$`,
			Reason: "The provider framework invokes the handler by qualified ARN (function:version); CDK grants lambda:InvokeFunction on this one function's ARN and its :* qualifiers, nothing else."})
	return p, nil
}

// portString is the port as a custom-resource property: the number, or
// the token of the cluster's endpoint port.
func (p *UserProvider) portString() *string {
	if *awscdk.Token_IsUnresolved(p.port) {
		return awscdk.Token_AsString(p.port, nil)
	}
	return jsii.String(strconv.Itoa(int(*p.port)))
}

// DatabaseUserProps configures DatabaseUser.
type DatabaseUserProps struct {
	// Provider runs the custom resource; it fixes the cluster. Required.
	Provider *UserProvider
	// UserName is the MySQL user, created IDENTIFIED WITH
	// AWSAuthenticationPlugin at host '%' and REQUIRE SSL. Required.
	UserName string
	// DatabaseName is created if missing; the grants apply to it. Required.
	DatabaseName string
	// Grants are database-level privileges on DatabaseName, e.g. SELECT,
	// INSERT (GRANT ... ON db.*). ALL and GRANT OPTION are refused.
	// Default: none; then TableGrants must name at least one table.
	Grants []string
	// TableGrants are table-level privileges on single tables of
	// DatabaseName (GRANT ... ON db.table), for a user that may touch only
	// some tables, e.g. {Table: "items", Privileges: ReadOnlyGrants()}.
	// They add to Grants; a table is named alone (items, not db.items),
	// once. Allowed per table: sqlident.AllowedTablePrivileges (ALTER,
	// CREATE, CREATE VIEW, DELETE, DROP, INDEX, INSERT, REFERENCES, SELECT,
	// SHOW VIEW, TRIGGER, UPDATE); GRANT OPTION and ALL are refused. MySQL
	// grants on a table only once it exists (unless CREATE is granted), so
	// create the table first: make this user depend on what creates it, or
	// the deployment fails naming the missing table. Default: none.
	TableGrants []TableGrant
	// RetainOnDelete keeps the user in the database when this resource is
	// deleted. Default false: the user is dropped.
	RetainOnDelete bool
	// ExistingUser is what to do when the account already exists and this
	// resource did not create it: userprops.ExistingUserRefuse,
	// ExistingUserAdopt (take it over, keep it on delete) or
	// ExistingUserAdoptAndDrop. Default "" = refuse: the deployment fails
	// naming the account, and nothing in it changes.
	ExistingUser string
}

// DatabaseUser is a passwordless database user: it logs in only with an IAM
// token signed by a principal that GrantConnect was called for. Where CDK
// wants a construct, pass u.Construct, not u (jsii refuses the Go struct
// that embeds it): fn.Node().AddDependency(u.Construct) keeps a function's
// first invocations after the user exists.
type DatabaseUser struct {
	constructs.Construct
	UserName     string
	DatabaseName string
	// Grants are the normalized privileges (upper case, sorted).
	Grants []string
	// TableGrants are the normalized table grants (sorted by table).
	TableGrants []TableGrant
	Resource    awscdk.CustomResource
	cluster     awsrds.IDatabaseCluster
	provider    *UserProvider
}

// NewDatabaseUser validates the props and adds the custom resource that
// creates, updates and drops the user. Identifiers and privileges are
// checked against sqlident's allow-lists here, at synth time, and again by
// the handler.
func NewDatabaseUser(scope constructs.Construct, id string, props DatabaseUserProps) (*DatabaseUser, error) {
	if props.Provider == nil {
		return nil, fmt.Errorf("database user %s: Provider is required (create one with NewUserProvider)", id)
	}
	// The handler's own rules (usersql.Spec), so synth refuses exactly
	// what the deployment would.
	spec, err := usersql.Spec{User: props.UserName, Database: props.DatabaseName,
		Privileges: props.Grants, Tables: props.TableGrants}.Normalize()
	if err != nil {
		return nil, fmt.Errorf("database user %s: %w", id, err)
	}
	existing := props.ExistingUser
	if existing == "" {
		existing = userprops.ExistingUserRefuse
	}
	if !slices.Contains(userprops.ExistingUserValues(), existing) {
		return nil, fmt.Errorf("database user %s: ExistingUser %q is not allowed (allowed: %s)",
			id, props.ExistingUser, strings.Join(userprops.ExistingUserValues(), ", "))
	}
	// Two resources managing one account would revoke each other's grants,
	// and deleting either would drop the account under the other. MySQL
	// user names are case-sensitive; look-alikes are refused all the same.
	key := strings.ToLower(props.UserName)
	if other, taken := props.Provider.users[key]; taken {
		return nil, fmt.Errorf("database user %s: user name %q on this cluster is already managed by %s; "+
			"give each DatabaseUser its own user name, and call GrantConnect on the one user for every function that shares it",
			id, props.UserName, other)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	props.Provider.users[key] = *c.Node().Path()
	p := props.Provider
	cluster := p.Cluster
	u := &DatabaseUser{Construct: c, UserName: props.UserName, DatabaseName: props.DatabaseName,
		Grants: spec.Privileges, TableGrants: spec.Tables, cluster: cluster, provider: p}
	properties := map[string]any{
		userprops.SecretArn:      p.secret.SecretArn(),
		userprops.Endpoint:       cluster.ClusterEndpoint().Hostname(),
		userprops.Port:           p.portString(),
		userprops.UserName:       props.UserName,
		userprops.DatabaseName:   props.DatabaseName,
		userprops.RetainOnDelete: strconv.FormatBool(props.RetainOnDelete),
		userprops.ExistingUser:   existing,
	}
	// Each written only when given, so a user without table grants has the
	// same properties as before TableGrants existed.
	if len(spec.Privileges) > 0 {
		properties[userprops.Privileges] = spec.Privileges
	}
	if len(spec.Tables) > 0 {
		properties[userprops.TableGrants] = tableGrantProperties(spec.Tables)
	}
	u.Resource = awscdk.NewCustomResource(c, jsii.String("Resource"), &awscdk.CustomResourceProps{
		ServiceToken: p.Provider.ServiceToken(),
		ResourceType: jsii.String(userprops.UserResourceType),
		Properties:   &properties,
	})
	// The endpoint attribute exists before the writer instance does; wait
	// for the whole cluster so the first login finds a server.
	u.Resource.Node().AddDependency(cluster)
	return u, nil
}

// TableGrant is one entry of DatabaseUserProps.TableGrants: Privileges on
// the table Table of the user's database.
type TableGrant = sqlident.TableGrant

// tableGrantProperties writes table grants as the handler reads them.
func tableGrantProperties(grants []TableGrant) []map[string]any {
	out := make([]map[string]any, len(grants))
	for i, g := range grants {
		out[i] = map[string]any{userprops.TableGrantTable: g.Table, userprops.TableGrantPrivileges: g.Privileges}
	}
	return out
}

// GrantConnect allows grantee to log in as this user: rds-db:connect on
// arn:<partition>:rds-db:<region>:<account>:dbuser:<cluster resource id>/<user>,
// built from the cluster's DBClusterResourceId attribute.
func (u *DatabaseUser) GrantConnect(grantee awsiam.IGrantable) awsiam.Grant {
	return u.cluster.GrantConnect(grantee, jsii.String(u.UserName))
}

// ReadOnlyGrants is the read-only preset for DatabaseUserProps.Grants:
// SELECT and SHOW VIEW on the user's database. Both are table-level
// privileges too, so it serves as a TableGrant's Privileges as well. A new slice on every call,
// so a caller's append never changes another's.
func ReadOnlyGrants() []string { return []string{"SELECT", "SHOW VIEW"} }

// Environment is what a function needs to log in as u, under the names
// queryfn.ConfigFromEnv reads: DB_ENDPOINT (the cluster's writer endpoint),
// DB_PORT, DB_USER, DB_NAME and DB_REGION (the stack's). No secret: the
// function signs its token with its own role, once GrantConnect allowed it.
// A new map on every call; add the optional DB_* tuning variables to it.
func (u *DatabaseUser) Environment() map[string]*string {
	return map[string]*string{
		queryfn.EnvEndpoint: u.cluster.ClusterEndpoint().Hostname(),
		queryfn.EnvPort:     u.provider.portString(),
		queryfn.EnvUser:     jsii.String(u.UserName),
		queryfn.EnvDatabase: jsii.String(u.DatabaseName),
		queryfn.EnvRegion:   awscdk.Stack_Of(u.Construct).Region(),
	}
}
