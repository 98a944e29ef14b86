package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/rdsiam/rdsiam/lambda/sqlident"
	"github.com/rdsiam/rdsiam/lambda/userprops"
)

// Config is everything a deployment of rdsiam can vary. It is read from CDK
// context (defaults in cdk.json, overrides with `cdk synth -c key=value`) by
// ConfigFromContext and checked by Validate before any construct is built, so
// a bad value fails the synth with a message that names the key.
type Config struct {
	// StackName is the CloudFormation stack name. Context key "stackName",
	// default "RdsIam".
	StackName string
	// DatabaseName is the schema the bootstrap creates and grants on.
	// Context key "databaseName", default "appdb".
	DatabaseName string
	// UserName is the IAM-authenticated database user. Context key
	// "userName", default "app_user".
	UserName string
	// Grants are the database-level privileges the user gets on
	// DatabaseName. Context key "grants", default ["SELECT","INSERT"].
	Grants []string
	// Engine must be "aurora-mysql": the only engine this app provisions.
	Engine string
	// EngineVersion is the Aurora MySQL 3 version, "3.MM.P" (default
	// "3.08.2"); versions below MinEngineVersion are rejected.
	EngineVersion string
	// Writer is "serverless-v2" (default) or "provisioned".
	Writer string
	// InstanceClass is the writer's class when Writer is "provisioned",
	// default "db.r6g.large".
	InstanceClass string
	// MinCapacity and MaxCapacity bound Serverless v2 scaling in ACUs
	// (defaults 0.5 and 2).
	MinCapacity, MaxCapacity float64
	// VpcID selects an existing VPC instead of creating one (default ""
	// creates a new one). With it, SubnetIDs and AvailabilityZones are
	// required, in the same order, at least two of each.
	VpcID             string
	SubnetIDs         []string
	AvailabilityZones []string
	// SecretsManagerEndpoint creates the interface endpoint the bootstrap
	// needs in isolated subnets. Default true; switch off only when the
	// existing VPC already has one.
	SecretsManagerEndpoint bool
	// DeletionProtection guards the cluster (default true).
	DeletionProtection bool
	// BackupRetentionDays is 1-35 (default 7).
	BackupRetentionDays int
	// RemovalPolicy for the cluster: "snapshot" (default), "retain" or
	// "destroy" (throwaway stacks only).
	RemovalPolicy string
	// RetainUser keeps the database user when the stack or the construct is
	// deleted (default false: the user is dropped).
	RetainUser bool
	// ExistingUser is what the user custom resource does when the account
	// already exists and this stack did not create it: "refuse" (default:
	// the deployment fails naming the account), "adopt" (take it over and
	// keep it when the stack is deleted) or "adopt-and-drop". Context key
	// "existingUser"; see userprops.ExistingUserValues.
	ExistingUser string
	// FunctionMemoryMB is the query function's memory, 128-10240 (default 256).
	FunctionMemoryMB int
	// FunctionTimeoutSeconds is the query function's timeout, 1-900 (default 15).
	FunctionTimeoutSeconds int
	// FunctionReservedConcurrency caps concurrent containers of the query
	// function, and so the fleet's connections and new-login rate
	// (default 0: no reservation, the account's pool).
	FunctionReservedConcurrency int
	// MaxConnections is each container's pool size, 1-100 (default 2;
	// DB_MAX_CONNS).
	MaxConnections int
	// MaxNewConnectionsPerSecond rate-limits each container's new IAM
	// logins, 1-200 (default 10; DB_MAX_NEW_CONNS_PER_SECOND). Aurora
	// throttles IAM authentication at about 200 new connections a second.
	MaxNewConnectionsPerSecond int
	// AccessDeniedRetrySeconds is how long a login refused with 1045 is
	// retried (IAM propagation after a deploy), 0-300 (default 30, always
	// within the invocation's deadline; DB_ACCESS_DENIED_RETRY_SECONDS).
	AccessDeniedRetrySeconds int
	// ReadTimeoutSeconds is how long a database connection may stay silent
	// while the function waits for a reply before it is treated as lost
	// (a read then runs once more on a new connection), 1-900 and less than
	// FunctionTimeoutSeconds (default 5; DB_READ_TIMEOUT_SECONDS). It
	// bounds silence, not a statement's run time: raise it for statements
	// that compute longer than that before their first row.
	ReadTimeoutSeconds int
	// Nag applies the cdk-nag AwsSolutions and Serverless packs at synth
	// (default false; the tests always apply them).
	Nag bool

	// Operations (stacks/operations.go, stacks/budget.go,
	// stacks/monitoring.go).

	// ConnectionHeadroom is kept free of max_connections for people and
	// maintenance in the connection budget, 0-16000 (default 10).
	ConnectionHeadroom int
	// DialTimeoutSeconds bounds one login attempt of the query function,
	// 1-60 (default 5; DB_DIAL_TIMEOUT_SECONDS); at least ResumeSeconds
	// with minCapacity 0.
	DialTimeoutSeconds int
	// AutoPauseSeconds is how long a writer with minCapacity 0 stays idle
	// before it pauses, 300-86400 (default 300).
	AutoPauseSeconds int
	// IamAuthLogExport exports the cluster's iam-db-auth-error log to
	// CloudWatch Logs (default true).
	IamAuthLogExport bool
	// LogRetentionDays is that log's retention (default 365).
	LogRetentionDays int
	// Alarms creates the CloudWatch alarms (default true); AlarmTopicArn,
	// an existing SNS topic, is notified of them (default "": none).
	Alarms        bool
	AlarmTopicArn string
	// Dashboard creates the CloudWatch dashboard (default true).
	Dashboard bool
	// HumanUsers are database users for people (see HumanUser), each with
	// an IAM managed policy to attach to SSO roles. Context key
	// "humanUsers", default one read-only user, people_ro (SELECT, SHOW VIEW).
	HumanUsers []HumanUser
	// CloudShellAccess adds a security group the cluster admits on 3306 for
	// a CloudShell VPC environment, and outputs it with the subnet ids.
	// Context key "cloudShellAccess", default false.
	CloudShellAccess bool
	// SSMBastion adds an SSM-managed bastion (no SSH, no public IP) with the
	// SSM interface endpoints, for port forwarding to the cluster. Context
	// key "ssmBastion", default false.
	SSMBastion bool
	// Proxy puts an RDS Proxy with end-to-end IAM authentication in front
	// of the writer; the query function connects to it (default false).
	// Context key "proxy"; see scale.go.
	Proxy bool
	// Readers is the number of reader instances, 0-15, of the writer's
	// kind (default 0); with any, the query function sends its reads to the
	// reader endpoint. Context key "readers".
	Readers int
}

// MinEngineVersion is the oldest Aurora MySQL version the app accepts:
// Aurora MySQL 2 (MySQL 5.7) is past end of standard support, and 3.04 is the
// first long-term-support release of version 3.
const MinEngineVersion = "3.04.0"

// DefaultConfig returns the configuration used when no context overrides it.
// cdk.json carries the same values so they are visible to users.
func DefaultConfig() Config {
	return Config{
		StackName:                  "RdsIam",
		DatabaseName:               "appdb",
		UserName:                   "app_user",
		Grants:                     []string{"SELECT", "INSERT"},
		Engine:                     "aurora-mysql",
		EngineVersion:              "3.08.2",
		Writer:                     WriterServerlessV2,
		InstanceClass:              "db.r6g.large",
		MinCapacity:                0.5,
		MaxCapacity:                2,
		SecretsManagerEndpoint:     true,
		DeletionProtection:         true,
		BackupRetentionDays:        7,
		RemovalPolicy:              "snapshot",
		ExistingUser:               userprops.ExistingUserRefuse,
		FunctionMemoryMB:           256,
		FunctionTimeoutSeconds:     15,
		MaxConnections:             2,
		MaxNewConnectionsPerSecond: 10,
		AccessDeniedRetrySeconds:   30,
		ReadTimeoutSeconds:         5,
		// Required (see validateOperations): 20 containers x 2
		// connections + 1 + 10 fits the 90 of the default 2 ACU.
		FunctionReservedConcurrency: 20,
		ConnectionHeadroom:          10,
		DialTimeoutSeconds:          5,
		AutoPauseSeconds:            300,
		IamAuthLogExport:            true,
		LogRetentionDays:            365,
		Alarms:                      true,
		Dashboard:                   true,
		HumanUsers:                  DefaultHumanUsers(),
	}
}

// Writer kinds.
const (
	WriterServerlessV2 = "serverless-v2"
	WriterProvisioned  = "provisioned"
)

// ConfigError is a configuration value that cannot be used. Its message
// names the context key, the value given and what is allowed.
type ConfigError struct {
	Key     string
	Value   any
	Allowed string
	// Reason is the rule the value broke, when it says more than Allowed.
	Reason string
}

func (e *ConfigError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("context key %q: invalid value %s: %s; allowed: %s", e.Key, formatValue(e.Value), e.Reason, e.Allowed)
	}
	return fmt.Sprintf("context key %q: invalid value %s; allowed: %s", e.Key, formatValue(e.Value), e.Allowed)
}

// identError turns a sqlident validation error into a ConfigError for key.
func identError(key string, value any, err error) error {
	var ie *sqlident.InvalidError
	if errors.As(err, &ie) {
		reason := ie.Reason
		if !reflect.DeepEqual(value, ie.Value) {
			reason = fmt.Sprintf("%s %q %s", ie.What, ie.Value, ie.Reason)
		}
		return &ConfigError{Key: key, Value: value, Reason: reason, Allowed: strings.TrimPrefix(ie.Allowed, "allowed: ")}
	}
	return &ConfigError{Key: key, Value: value, Allowed: err.Error()}
}

func formatValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// ContextKeys lists every key ConfigFromContext reads, so unknown keys with
// a typo can be reported instead of silently ignored.
var ContextKeys = []string{
	"stackName", "databaseName", "userName", "grants", "engine", "engineVersion",
	"writer", "instanceClass", "minCapacity", "maxCapacity", "vpcId", "subnetIds",
	"availabilityZones", "secretsManagerEndpoint", "deletionProtection",
	"backupRetentionDays", "removalPolicy", "retainUser", "existingUser", "functionMemoryMb",
	"functionTimeoutSeconds", "functionReservedConcurrency", "maxConnections",
	"maxNewConnectionsPerSecond", "accessDeniedRetrySeconds", "readTimeoutSeconds", "nag",
	"connectionHeadroom", "dialTimeoutSeconds", "autoPauseSeconds", "iamAuthLogExport",
	"logRetentionDays", "alarms", "alarmTopicArn", "dashboard",
	"humanUsers", "cloudShellAccess", "ssmBastion",
	"proxy", "readers",
}

// ConfigFromContext builds a Config from CDK context. get returns the raw
// context value for a key, or nil when it is not set; values from cdk.json
// arrive as JSON types and values from `-c key=value` as strings, and both
// are accepted. The result is validated.
func ConfigFromContext(get func(key string) any) (Config, error) {
	c := DefaultConfig()
	r := contextReader{get: get}
	r.str("stackName", &c.StackName)
	r.str("databaseName", &c.DatabaseName)
	r.str("userName", &c.UserName)
	r.list("grants", &c.Grants)
	r.str("engine", &c.Engine)
	r.str("engineVersion", &c.EngineVersion)
	r.str("writer", &c.Writer)
	r.str("instanceClass", &c.InstanceClass)
	r.float("minCapacity", &c.MinCapacity)
	r.float("maxCapacity", &c.MaxCapacity)
	r.str("vpcId", &c.VpcID)
	r.list("subnetIds", &c.SubnetIDs)
	r.list("availabilityZones", &c.AvailabilityZones)
	r.boolean("secretsManagerEndpoint", &c.SecretsManagerEndpoint)
	r.boolean("deletionProtection", &c.DeletionProtection)
	r.integer("backupRetentionDays", &c.BackupRetentionDays)
	r.str("removalPolicy", &c.RemovalPolicy)
	r.boolean("retainUser", &c.RetainUser)
	r.str("existingUser", &c.ExistingUser)
	r.integer("functionMemoryMb", &c.FunctionMemoryMB)
	r.integer("functionTimeoutSeconds", &c.FunctionTimeoutSeconds)
	r.integer("functionReservedConcurrency", &c.FunctionReservedConcurrency)
	r.integer("maxConnections", &c.MaxConnections)
	r.integer("maxNewConnectionsPerSecond", &c.MaxNewConnectionsPerSecond)
	r.integer("accessDeniedRetrySeconds", &c.AccessDeniedRetrySeconds)
	r.integer("readTimeoutSeconds", &c.ReadTimeoutSeconds)
	r.boolean("nag", &c.Nag)
	r.integer("connectionHeadroom", &c.ConnectionHeadroom)
	r.integer("dialTimeoutSeconds", &c.DialTimeoutSeconds)
	r.integer("autoPauseSeconds", &c.AutoPauseSeconds)
	r.boolean("iamAuthLogExport", &c.IamAuthLogExport)
	r.integer("logRetentionDays", &c.LogRetentionDays)
	r.boolean("alarms", &c.Alarms)
	r.str("alarmTopicArn", &c.AlarmTopicArn)
	r.boolean("dashboard", &c.Dashboard)
	r.humanUsers("humanUsers", &c.HumanUsers)
	r.boolean("cloudShellAccess", &c.CloudShellAccess)
	r.boolean("ssmBastion", &c.SSMBastion)
	r.boolean("proxy", &c.Proxy)
	r.integer("readers", &c.Readers)
	if r.err != nil {
		return Config{}, r.err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

var (
	stackNamePattern     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	engineVersionPattern = regexp.MustCompile(`^3\.(\d{2})\.(\d+)$`)
	instanceClassPattern = regexp.MustCompile(`^db\.([a-z][a-z0-9-]*)\.([a-z0-9]+)$`)
	vpcIDPattern         = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	subnetIDPattern      = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	azPattern            = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d[a-z]$`)
)

// iamUnsupportedClasses are writer classes that cannot use IAM database
// authentication (per the Aurora user guide: db.t2.small and db.t3.small),
// plus the micro and small burstable sizes Aurora MySQL 3 does not offer at all.
var iamUnsupportedClasses = map[string]string{
	"db.t2.small": "IAM database authentication is not supported on this class",
	"db.t3.small": "IAM database authentication is not supported on this class",
}

// Validate checks every field and returns the first problem as a
// *ConfigError naming the context key.
func (c Config) Validate() error {
	if !stackNamePattern.MatchString(c.StackName) {
		return &ConfigError{Key: "stackName", Value: c.StackName, Allowed: "1-128 characters: letters, digits and hyphens, starting with a letter"}
	}
	if err := sqlident.ValidateDatabaseName(c.DatabaseName); err != nil {
		return identError("databaseName", c.DatabaseName, err)
	}
	if err := sqlident.ValidateUserName(c.UserName); err != nil {
		return identError("userName", c.UserName, err)
	}
	if _, err := sqlident.NormalizePrivileges(c.Grants); err != nil {
		return identError("grants", c.Grants, err)
	}
	if c.Engine != "aurora-mysql" {
		return &ConfigError{Key: "engine", Value: c.Engine, Allowed: `"aurora-mysql" (IAM-authenticated users here are created with Aurora MySQL's AWSAuthenticationPlugin)`}
	}
	if err := validateEngineVersion(c.EngineVersion); err != nil {
		return err
	}
	switch c.Writer {
	case WriterServerlessV2:
		if (c.MinCapacity < 0.5 && c.MinCapacity != 0) || c.MinCapacity > 256 || c.MinCapacity*2 != float64(int(c.MinCapacity*2)) {
			return &ConfigError{Key: "minCapacity", Value: c.MinCapacity, Allowed: "0.5 to 256 ACUs in steps of 0.5, or 0 (auto-pause, engineVersion 3.08.0 or later)"}
		}
		if c.MaxCapacity < c.MinCapacity || c.MaxCapacity < 1 || c.MaxCapacity > 256 || c.MaxCapacity*2 != float64(int(c.MaxCapacity*2)) {
			return &ConfigError{Key: "maxCapacity", Value: c.MaxCapacity, Allowed: fmt.Sprintf("1 to 256 ACUs in steps of 0.5, at least minCapacity (%g)", c.MinCapacity)}
		}
	case WriterProvisioned:
		if err := validateInstanceClass(c.InstanceClass); err != nil {
			return err
		}
	default:
		return &ConfigError{Key: "writer", Value: c.Writer, Allowed: fmt.Sprintf("%q or %q", WriterServerlessV2, WriterProvisioned)}
	}
	if err := c.meaninglessKeys(); err != nil {
		return err
	}
	if err := c.validateVpc(); err != nil {
		return err
	}
	if c.BackupRetentionDays < 1 || c.BackupRetentionDays > 35 {
		return &ConfigError{Key: "backupRetentionDays", Value: c.BackupRetentionDays, Allowed: "1 to 35 days"}
	}
	if !slices.Contains([]string{"snapshot", "retain", "destroy"}, c.RemovalPolicy) {
		return &ConfigError{Key: "removalPolicy", Value: c.RemovalPolicy, Allowed: `"snapshot", "retain" or "destroy"`}
	}
	if !slices.Contains(userprops.ExistingUserValues(), c.ExistingUser) {
		return &ConfigError{Key: "existingUser", Value: c.ExistingUser, Allowed: strings.Join(userprops.ExistingUserValues(), ", ")}
	}
	if c.FunctionMemoryMB < 128 || c.FunctionMemoryMB > 10240 {
		return &ConfigError{Key: "functionMemoryMb", Value: c.FunctionMemoryMB, Allowed: "128 to 10240 MB"}
	}
	if c.FunctionTimeoutSeconds < 1 || c.FunctionTimeoutSeconds > 900 {
		return &ConfigError{Key: "functionTimeoutSeconds", Value: c.FunctionTimeoutSeconds, Allowed: "1 to 900 seconds"}
	}
	if c.FunctionReservedConcurrency < 0 || c.FunctionReservedConcurrency > 1000 {
		return &ConfigError{Key: "functionReservedConcurrency", Value: c.FunctionReservedConcurrency, Allowed: "1 to 1000 (required: it bounds the fleet's connections)"}
	}
	if c.MaxConnections < 1 || c.MaxConnections > 100 {
		return &ConfigError{Key: "maxConnections", Value: c.MaxConnections, Allowed: "1 to 100 connections per container"}
	}
	if c.MaxNewConnectionsPerSecond < 1 || c.MaxNewConnectionsPerSecond > 200 {
		return &ConfigError{Key: "maxNewConnectionsPerSecond", Value: c.MaxNewConnectionsPerSecond, Allowed: "1 to 200 per container (Aurora throttles IAM logins at about 200 a second)"}
	}
	if c.AccessDeniedRetrySeconds < 0 || c.AccessDeniedRetrySeconds > 300 {
		return &ConfigError{Key: "accessDeniedRetrySeconds", Value: c.AccessDeniedRetrySeconds, Allowed: "0 (no retry) to 300 seconds"}
	}
	if c.ReadTimeoutSeconds < 1 || c.ReadTimeoutSeconds > 900 || c.ReadTimeoutSeconds >= c.FunctionTimeoutSeconds {
		return &ConfigError{Key: "readTimeoutSeconds", Value: c.ReadTimeoutSeconds,
			Allowed: fmt.Sprintf("1 to %d seconds: less than functionTimeoutSeconds (%d), so the function can notice a silent connection before Lambda ends it",
				min(900, c.FunctionTimeoutSeconds-1), c.FunctionTimeoutSeconds)}
	}
	if err := c.validateOperations(); err != nil {
		return err
	}
	if err := c.validateHumanUsers(); err != nil {
		return err
	}
	return c.validateScale()
}

func validateEngineVersion(v string) error {
	allowed := fmt.Sprintf(`an Aurora MySQL 3 version "3.MM.P" at or above %s (for example "3.08.2")`, MinEngineVersion)
	m := engineVersionPattern.FindStringSubmatch(v)
	if m == nil {
		return &ConfigError{Key: "engineVersion", Value: v, Allowed: allowed}
	}
	minor, _ := strconv.Atoi(m[1])
	if minor < 4 {
		return &ConfigError{Key: "engineVersion", Value: v, Allowed: allowed}
	}
	return nil
}

// FullEngineVersion is the engine version string CloudFormation expects,
// e.g. "8.0.mysql_aurora.3.08.2".
func (c Config) FullEngineVersion() string {
	return "8.0.mysql_aurora." + c.EngineVersion
}

func validateInstanceClass(class string) error {
	allowed := `an Aurora MySQL instance class "db.<family>.<size>" that supports IAM authentication (for example db.r6g.large, db.r7g.xlarge, db.t4g.medium); not db.t2.small or db.t3.small, not micro or small sizes`
	m := instanceClassPattern.FindStringSubmatch(class)
	if m == nil {
		return &ConfigError{Key: "instanceClass", Value: class, Allowed: allowed}
	}
	if reason, bad := iamUnsupportedClasses[class]; bad {
		return &ConfigError{Key: "instanceClass", Value: class, Reason: reason, Allowed: allowed}
	}
	if m[2] == "micro" || m[2] == "small" || m[1] == "t2" || m[1] == "serverless" {
		return &ConfigError{Key: "instanceClass", Value: class, Allowed: allowed}
	}
	return nil
}

func (c Config) validateVpc() error {
	if c.VpcID == "" {
		if len(c.SubnetIDs) > 0 {
			return &ConfigError{Key: "subnetIds", Value: c.SubnetIDs, Allowed: "empty unless vpcId names an existing VPC"}
		}
		if len(c.AvailabilityZones) > 0 {
			return &ConfigError{Key: "availabilityZones", Value: c.AvailabilityZones, Allowed: "empty unless vpcId names an existing VPC"}
		}
		if !c.SecretsManagerEndpoint {
			return &ConfigError{Key: "secretsManagerEndpoint", Value: c.SecretsManagerEndpoint, Allowed: "true when the stack creates its own VPC (its isolated subnets have no other route to Secrets Manager)"}
		}
		return nil
	}
	if !vpcIDPattern.MatchString(c.VpcID) {
		return &ConfigError{Key: "vpcId", Value: c.VpcID, Allowed: `"" (create a VPC) or a VPC id like "vpc-0123456789abcdef0"`}
	}
	if len(c.SubnetIDs) < 2 {
		return &ConfigError{Key: "subnetIds", Value: c.SubnetIDs, Allowed: "at least two subnet ids (in two availability zones) when vpcId is set"}
	}
	for _, s := range c.SubnetIDs {
		if !subnetIDPattern.MatchString(s) {
			return &ConfigError{Key: "subnetIds", Value: s, Allowed: `subnet ids like "subnet-0123456789abcdef0"`}
		}
	}
	if len(c.AvailabilityZones) != len(c.SubnetIDs) {
		return &ConfigError{Key: "availabilityZones", Value: c.AvailabilityZones, Allowed: fmt.Sprintf("one availability zone per subnet id, in the same order (%d)", len(c.SubnetIDs))}
	}
	for _, az := range c.AvailabilityZones {
		if !azPattern.MatchString(az) {
			return &ConfigError{Key: "availabilityZones", Value: az, Allowed: `availability zone names like "eu-west-1a"`}
		}
	}
	return nil
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
