package stacks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"rdsiam/lambda/sqlident"
	"rdsiam/lambda/userprops"
)

// UserProviderProps configures UserProvider.
type UserProviderProps struct {
	Cluster *Cluster
	Network *Network
	// Binary is the built custom-resource handler (lambda/cmd/dbuser).
	Binary GoBinary
}

// UserProvider runs the database-user custom resources of one cluster: a Go
// handler in the VPC that logs in with the master secret over verified TLS,
// behind CDK's Provider framework. Create one per cluster and share it
// between every DatabaseUser of that cluster.
type UserProvider struct {
	constructs.Construct
	Cluster  *Cluster
	Handler  *goFunction
	Provider customresources.Provider
	// users maps each user name (lower case) on this cluster to the path of
	// the DatabaseUser that manages it.
	users map[string]string
}

// userProviderTimeout bounds one event. The handler waits at most three
// minutes for the database and answers before this, so a stack never waits
// for CloudFormation's one-hour custom-resource limit.
const userProviderTimeoutMinutes = 5

// NewUserProvider creates the handler function and the provider.
func NewUserProvider(scope constructs.Construct, id string, props UserProviderProps) *UserProvider {
	c := constructs.NewConstruct(scope, jsii.String(id))
	p := &UserProvider{Construct: c, Cluster: props.Cluster, users: map[string]string{}}
	p.Handler = newGoFunction(c, "Handler", goFunctionProps{
		Binary:      props.Binary,
		Description: "rdsiam database-user bootstrap",
		Network:     props.Network,
		MemoryMB:    256,
		Timeout:     awscdk.Duration_Minutes(jsii.Number(userProviderTimeoutMinutes)),
	})
	props.Cluster.DB.Secret().GrantRead(p.Handler.Role, nil)
	props.Cluster.AllowFrom(p.Handler.SecurityGroup, "MySQL from the database-user bootstrap")
	props.Network.AllowEndpointFrom(p.Handler.SecurityGroup, "Secrets Manager from the database-user bootstrap")

	frameworkLogs := awslogs.NewLogGroup(c, jsii.String("FrameworkLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	frameworkRole := newLambdaRole(c, "FrameworkRole", frameworkLogs, false)
	p.Provider = customresources.NewProvider(c, jsii.String("Provider"), &customresources.ProviderProps{
		OnEventHandler:       p.Handler.Function,
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
	return p
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
	// INSERT. Required, at least one; ALL and GRANT OPTION are refused.
	Grants []string
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
// token signed by a principal that GrantConnect was called for.
type DatabaseUser struct {
	constructs.Construct
	UserName     string
	DatabaseName string
	// Grants are the normalized privileges (upper case, sorted).
	Grants   []string
	Resource awscdk.CustomResource
	cluster  *Cluster
}

// NewDatabaseUser validates the props and adds the custom resource that
// creates, updates and drops the user. Identifiers and privileges are
// checked against sqlident's allow-lists here, at synth time, and again by
// the handler.
func NewDatabaseUser(scope constructs.Construct, id string, props DatabaseUserProps) (*DatabaseUser, error) {
	if props.Provider == nil {
		return nil, fmt.Errorf("database user %s: Provider is required (create one with NewUserProvider)", id)
	}
	if err := sqlident.ValidateUserName(props.UserName); err != nil {
		return nil, fmt.Errorf("database user %s: %w", id, err)
	}
	if err := sqlident.ValidateDatabaseName(props.DatabaseName); err != nil {
		return nil, fmt.Errorf("database user %s: %w", id, err)
	}
	grants, err := sqlident.NormalizePrivileges(props.Grants)
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
	cluster := props.Provider.Cluster
	u := &DatabaseUser{Construct: c, UserName: props.UserName, DatabaseName: props.DatabaseName, Grants: grants, cluster: cluster}
	u.Resource = awscdk.NewCustomResource(c, jsii.String("Resource"), &awscdk.CustomResourceProps{
		ServiceToken: props.Provider.Provider.ServiceToken(),
		ResourceType: jsii.String("Custom::DatabaseUser"),
		Properties: &map[string]any{
			userprops.SecretArn:      cluster.DB.Secret().SecretArn(),
			userprops.Endpoint:       cluster.DB.ClusterEndpoint().Hostname(),
			userprops.Port:           strconv.Itoa(DatabasePort),
			userprops.UserName:       props.UserName,
			userprops.DatabaseName:   props.DatabaseName,
			userprops.Privileges:     grants,
			userprops.RetainOnDelete: strconv.FormatBool(props.RetainOnDelete),
			userprops.ExistingUser:   existing,
		},
	})
	// The endpoint attribute exists before the writer instance does; wait
	// for the whole cluster so the first login finds a server.
	u.Resource.Node().AddDependency(cluster.DB)
	return u, nil
}

// GrantConnect allows grantee to log in as this user: rds-db:connect on
// arn:<partition>:rds-db:<region>:<account>:dbuser:<cluster resource id>/<user>,
// built from the cluster's DBClusterResourceId attribute.
func (u *DatabaseUser) GrantConnect(grantee awsiam.IGrantable) awsiam.Grant {
	return u.cluster.DB.GrantConnect(grantee, jsii.String(u.UserName))
}
