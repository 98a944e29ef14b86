package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// Config is everything a deployment of rdsiam can vary. It is read from CDK
// context (defaults in cdk.json, overrides with `cdk synth -c key=value`) by
// ConfigFromContext and checked by Validate before any construct is built, so
// a bad value fails the synth with a message that names the key.
//
// Each field is one context key of the key table (configkeys.go), which
// holds its name, default and allowed values; docs/configuration.md shows
// that table. The comments here say only what a field is for.
type Config struct {
	// StackName is the CloudFormation stack name.
	StackName string
	// DatabaseName is the schema the user custom resource creates and
	// grants on.
	DatabaseName string
	// UserName is the IAM-authenticated database user.
	UserName string
	// Grants are the database-level privileges the user gets on
	// DatabaseName; empty only with TableGrants.
	Grants []string
	// TableGrants are the user's privileges on single tables of
	// DatabaseName (DatabaseUserProps.TableGrants).
	TableGrants []TableGrant
	// Engine must be "aurora-mysql": the only engine this app provisions.
	Engine string
	// EngineVersion is the Aurora MySQL 3 version, "3.MM.P", at or above
	// MinEngineVersion.
	EngineVersion string
	// Writer is WriterServerlessV2 or WriterProvisioned.
	Writer string
	// InstanceClass is the writer's class when Writer is provisioned.
	InstanceClass string
	// MinCapacity and MaxCapacity bound Serverless v2 scaling in ACUs.
	MinCapacity, MaxCapacity float64
	// VpcID selects an existing VPC instead of creating one ("" creates a
	// new one). With it, SubnetIDs and AvailabilityZones are required, in
	// the same order, at least two of each.
	VpcID             string
	SubnetIDs         []string
	AvailabilityZones []string
	// SecretsManagerEndpoint creates the interface endpoint the user custom
	// resource needs in isolated subnets; switch it off only when the
	// existing VPC already has one.
	SecretsManagerEndpoint bool
	// DeletionProtection guards the cluster.
	DeletionProtection bool
	// BackupRetentionDays is the automated backups' retention.
	BackupRetentionDays int
	// RemovalPolicy for the cluster: "snapshot", "retain" or "destroy"
	// (throwaway stacks only).
	RemovalPolicy string
	// RetainUser keeps the database user when the stack or the construct is
	// deleted (false: the user is dropped).
	RetainUser bool
	// ExistingUser is what the user custom resource does when the account
	// already exists and this stack did not create it: "refuse" (the
	// deployment fails naming the account), "adopt" (take it over and keep
	// it when the stack is deleted) or "adopt-and-drop"; see
	// userprops.ExistingUserValues.
	ExistingUser string
	// FunctionMemoryMB and FunctionTimeoutSeconds size the query function.
	FunctionMemoryMB       int
	FunctionTimeoutSeconds int
	// FunctionReservedConcurrency caps concurrent containers of the query
	// function, and so the fleet's connections and new-login rate. It is
	// required: 0 (the account's pool) is refused by the connection budget.
	FunctionReservedConcurrency int
	// MaxConnections is each container's pool size (DB_MAX_CONNS).
	MaxConnections int
	// MaxNewConnectionsPerSecond rate-limits each container's new IAM
	// logins (DB_MAX_NEW_CONNS_PER_SECOND): Aurora throttles IAM
	// authentication at about iamdb.MaxNewConnsPerSecondLimit a second.
	MaxNewConnectionsPerSecond int
	// AccessDeniedRetrySeconds is how long a login refused with 1045 is
	// retried (IAM propagation after a deploy), always within the
	// invocation's deadline (DB_ACCESS_DENIED_RETRY_SECONDS).
	AccessDeniedRetrySeconds int
	// ReadTimeoutSeconds is how long a database connection may stay silent
	// while the function waits for a reply before it is treated as lost
	// (a read then runs once more on a new connection); less than
	// FunctionTimeoutSeconds (DB_READ_TIMEOUT_SECONDS). It bounds silence,
	// not a statement's run time: raise it for statements that compute
	// longer than that before their first row.
	ReadTimeoutSeconds int
	// Nag applies the cdk-nag AwsSolutions and Serverless packs at synth
	// (the tests always apply them).
	Nag bool

	// Operations (stacks/operations.go, stacks/budget.go,
	// stacks/monitoring.go).

	// ConnectionHeadroom is kept free of max_connections for people and
	// maintenance in the connection budget.
	ConnectionHeadroom int
	// DialTimeoutSeconds bounds one login attempt of the query function
	// (DB_DIAL_TIMEOUT_SECONDS); at least ResumeSeconds with minCapacity 0.
	DialTimeoutSeconds int
	// AutoPauseSeconds is how long a writer with minCapacity 0 stays idle
	// before it pauses.
	AutoPauseSeconds int
	// IamAuthLogExport exports the cluster's iam-db-auth-error log to
	// CloudWatch Logs, kept LogRetentionDays.
	IamAuthLogExport bool
	LogRetentionDays int
	// Alarms creates the CloudWatch alarms; AlarmTopicArn, an existing SNS
	// topic, is notified of them ("": none).
	Alarms        bool
	AlarmTopicArn string
	// Dashboard creates the CloudWatch dashboard.
	Dashboard bool
	// HumanUsers are database users for people (see HumanUser), each with
	// an IAM managed policy to attach to SSO roles; the default is one
	// read-only user (DefaultHumanUsers).
	HumanUsers []HumanUser
	// CloudShellAccess adds a security group the cluster admits on 3306 for
	// a CloudShell VPC environment, and outputs it with the subnet ids.
	CloudShellAccess bool
	// SSMBastion adds an SSM-managed bastion (no SSH, no public IP) with the
	// SSM interface endpoints, for port forwarding to the cluster.
	SSMBastion bool
	// Proxy puts an RDS Proxy with end-to-end IAM authentication in front
	// of the writer; the query function connects to it (see scale.go).
	Proxy bool
	// Readers is the number of reader instances of the writer's kind; with
	// any, the query function sends its reads to the reader endpoint.
	Readers int
}

// Validate checks every field and returns the first problem as a
// *ConfigError naming the context key: first a key the writer or network
// choice makes meaningless (configcheck.go), then each key's own rule (the
// key table, configkeys.go), then the rules between keys.
func (c Config) Validate() error {
	if err := c.meaninglessKeys(); err != nil {
		return err
	}
	if err := c.checkKeys(); err != nil {
		return err
	}
	if err := c.validateUserGrants(); err != nil {
		return err
	}
	if c.Writer == WriterServerlessV2 && c.MaxCapacity < c.MinCapacity {
		return &ConfigError{Key: "maxCapacity", Value: c.MaxCapacity, Reason: fmt.Sprintf("below minCapacity (%g)", c.MinCapacity), Allowed: maxCapacityRule.allowed}
	}
	if c.VpcID != "" {
		if len(c.SubnetIDs) < 2 {
			return &ConfigError{Key: "subnetIds", Value: c.SubnetIDs, Allowed: "at least two subnet ids (in two availability zones) when vpcId is set"}
		}
		if len(c.AvailabilityZones) != len(c.SubnetIDs) {
			return &ConfigError{Key: "availabilityZones", Value: c.AvailabilityZones, Allowed: fmt.Sprintf("one availability zone per subnet id, in the same order (%d)", len(c.SubnetIDs))}
		}
	}
	if c.ReadTimeoutSeconds >= c.FunctionTimeoutSeconds {
		return &ConfigError{Key: "readTimeoutSeconds", Value: c.ReadTimeoutSeconds,
			Allowed: fmt.Sprintf("1 to %d seconds: less than functionTimeoutSeconds (%d), so the function can notice a silent connection before Lambda ends it",
				min(readTimeoutRange.max, c.FunctionTimeoutSeconds-1), c.FunctionTimeoutSeconds)}
	}
	if err := c.validateOperations(); err != nil {
		return err
	}
	if err := c.validateHumanUsers(); err != nil {
		return err
	}
	return c.validateScale()
}

// CheckContextKeys rejects context keys that look like ours but are not
// (a typo such as "userNmae" would otherwise be ignored silently), naming
// the closest known key (CheckKeys).
func CheckContextKeys(app awscdk.App) error {
	m, ok := app.Node().GetAllContext(nil).(map[string]any)
	if !ok {
		return nil
	}
	return CheckKeys(m)
}
