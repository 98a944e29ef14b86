package stacks

import (
	"fmt"
	"slices"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/sqlident"
	"github.com/rdsiam/rdsiam/lambda/userprops"
)

// The key table is the one place a context key is described: its name, the
// Config field it sets, its default, the rule its value follows and what it
// is for. DefaultConfig, ConfigFromContext, Validate's per-key checks,
// CheckKeys (unknown keys and typo suggestions) and the configuration table
// of docs/configuration.md (`make docs`) all come from it; a test fails when
// cdk.json or that table drifts from it. Rules between keys (readTimeoutSeconds
// below functionTimeoutSeconds, the connection budget, ...) stay in Validate.
//
// A new key is one row here, a Config field, and its default in cdk.json.

// configKey is one row of the key table.
type configKey struct {
	name string
	// allowed says which values are allowed; help what the key sets.
	allowed, help string
	// field returns a pointer to the Config field: *string, *[]string,
	// *bool, *float64, *int, *[]HumanUser or *[]TableGrant (ConfigFromContext reads the
	// context value by that type).
	field      func(*Config) any
	value      func(*Config) any
	setDefault func(*Config)
	check      func(*Config) *problem
}

// newKey makes the row for a key of type T.
func newKey[T any](name string, field func(*Config) *T, def T, r rule[T], help string) configKey {
	return configKey{
		name: name, allowed: r.allowed, help: help,
		field:      func(c *Config) any { return field(c) },
		value:      func(c *Config) any { return *field(c) },
		setDefault: func(c *Config) { *field(c) = cloneValue(def) },
		check:      func(c *Config) *problem { return r.apply(*field(c)) },
	}
}

// cloneValue copies the slices of a default, so no two Configs share one.
func cloneValue[T any](v T) T {
	switch x := any(v).(type) {
	case []string:
		return any(slices.Clone(x)).(T)
	case []HumanUser:
		out := make([]HumanUser, len(x))
		for i, u := range x {
			out[i] = HumanUser{Name: u.Name, Grants: slices.Clone(u.Grants)}
		}
		return any(out).(T)
	case []TableGrant:
		out := make([]TableGrant, len(x))
		for i, g := range x {
			out[i] = TableGrant{Table: g.Table, Privileges: slices.Clone(g.Privileges)}
		}
		return any(out).(T)
	}
	return v
}

var anyBool = rule[bool]{allowed: "true or false"}

var configKeys = []configKey{
	newKey("stackName", func(c *Config) *string { return &c.StackName }, "RdsIam",
		matching(stackNamePattern, false, "1-128 characters: letters, digits and hyphens, starting with a letter"),
		"the CloudFormation stack name"),
	newKey("databaseName", func(c *Config) *string { return &c.DatabaseName }, "appdb",
		identRule("`^[A-Za-z][A-Za-z0-9_]{0,63}$`, not a MySQL reserved word, not a system schema (`mysql`, `sys`, …)", sqlident.ValidateDatabaseName),
		"the schema the user custom resource creates and grants on"),
	newKey("userName", func(c *Config) *string { return &c.UserName }, "app_user",
		identRule("`^[A-Za-z][A-Za-z0-9_]{0,31}$`, not a reserved account (`root`, `rdsadmin`, …)", sqlident.ValidateUserName),
		"the IAM-authenticated database user the query function logs in as"),
	newKey("grants", func(c *Config) *[]string { return &c.Grants }, []string{"SELECT", "INSERT"}, grantsRule,
		"the user's privileges on `databaseName`"),
	newKey("tableGrants", func(c *Config) *[]TableGrant { return &c.TableGrants }, []TableGrant{}, tableGrantsRule,
		"the user's privileges on single tables of `databaseName`, in addition to `grants` ([table-level grants](database-users.md#table-level-grants)); "+
			"the user is created after the sample table `items`, but any other table must already exist: MySQL grants only on an existing table"),
	newKey("engine", func(c *Config) *string { return &c.Engine }, "aurora-mysql", oneOf("aurora-mysql"),
		"the only engine: IAM-authenticated users are created with Aurora MySQL's AWSAuthenticationPlugin"),
	newKey("engineVersion", func(c *Config) *string { return &c.EngineVersion }, "3.08.2", engineVersionRule,
		"the Aurora MySQL 3 version"),
	newKey("writer", func(c *Config) *string { return &c.Writer }, WriterServerlessV2, writerRule,
		"the writer instance's kind"),
	newKey("instanceClass", func(c *Config) *string { return &c.InstanceClass }, "db.r6g.large", instanceClassRule,
		"the writer's class with `writer=provisioned` (unused, and refused if changed, with serverless-v2)"),
	newKey("minCapacity", func(c *Config) *float64 { return &c.MinCapacity }, 0.5, minCapacityRule,
		"Serverless v2 minimum ACUs; 0 pauses an idle writer — see [Scale to zero](operating.md#scale-to-zero)"),
	newKey("maxCapacity", func(c *Config) *float64 { return &c.MaxCapacity }, 2, maxCapacityRule,
		"Serverless v2 maximum ACUs; sets max_connections, so the [connection budget](operating.md#connection-budget)"),
	newKey("vpcId", func(c *Config) *string { return &c.VpcID }, "", vpcIDRule,
		"an existing VPC to use instead of a new one"),
	newKey("subnetIds", func(c *Config) *[]string { return &c.SubnetIDs }, []string{}, subnetIDsRule,
		"with `vpcId`: its isolated or private subnets"),
	newKey("availabilityZones", func(c *Config) *[]string { return &c.AvailabilityZones }, []string{}, availabilityZonesRule,
		"with `vpcId`: the subnets' zones"),
	newKey("secretsManagerEndpoint", func(c *Config) *bool { return &c.SecretsManagerEndpoint }, true, anyBool,
		"creates the Secrets Manager interface endpoint the user custom resource needs; `false` only with `vpcId`, when the VPC already has one"),
	newKey("deletionProtection", func(c *Config) *bool { return &c.DeletionProtection }, true, anyBool,
		"guards the cluster against deletion"),
	newKey("backupRetentionDays", func(c *Config) *int { return &c.BackupRetentionDays }, 7, backupRetentionRange.rule(),
		"automated backups (point-in-time restore)"),
	newKey("removalPolicy", func(c *Config) *string { return &c.RemovalPolicy }, "snapshot", removalPolicyRule,
		"what deleting the stack does to the cluster; `destroy` for throwaway stacks"),
	newKey("retainUser", func(c *Config) *bool { return &c.RetainUser }, false, anyBool,
		"`true` keeps the database user when the stack is deleted"),
	newKey("existingUser", func(c *Config) *string { return &c.ExistingUser }, userprops.ExistingUserRefuse, existingUserRule,
		"what happens when the account already exists and this stack did not create it ([database users](database-users.md))"),
	newKey("functionMemoryMb", func(c *Config) *int { return &c.FunctionMemoryMB }, 256, functionMemoryRange.rule(),
		"the query function's memory"),
	newKey("functionTimeoutSeconds", func(c *Config) *int { return &c.FunctionTimeoutSeconds }, 15, functionTimeoutRange.rule(),
		"the query function's timeout"),
	// 20 containers x 2 connections + 1 + 10 fits the 90 of the default 2 ACU.
	newKey("functionReservedConcurrency", func(c *Config) *int { return &c.FunctionReservedConcurrency }, 20,
		rule[int]{allowed: reservedConcurrencyRange.String(), check: func(v int) *problem {
			if v == 0 {
				return nil // refused by validateOperations, with the budget's figures
			}
			return reservedConcurrencyRange.check(v)
		}},
		"caps the query function's containers, so its connections and new-login rate; checked against max_connections ([sizing](operating.md#connection-budget))"),
	newKey("maxConnections", func(c *Config) *int { return &c.MaxConnections }, iamdb.DefaultMaxOpenConns, maxConnectionsRange.rule(),
		"each container's pool size (`DB_MAX_CONNS`)"),
	newKey("maxNewConnectionsPerSecond", func(c *Config) *int { return &c.MaxNewConnectionsPerSecond }, iamdb.DefaultMaxNewConnsPerSecond, newConnsRange.rule(),
		"rate limit on each container's new IAM logins (`DB_MAX_NEW_CONNS_PER_SECOND`)"),
	newKey("accessDeniedRetrySeconds", func(c *Config) *int { return &c.AccessDeniedRetrySeconds }, seconds(iamdb.DefaultAccessDeniedRetryFor), accessDeniedRetryRange.rule(),
		"how long a login refused with 1045 is retried with jittered backoff (IAM propagation after a deploy), never past the invocation's deadline (`DB_ACCESS_DENIED_RETRY_SECONDS`)"),
	newKey("readTimeoutSeconds", func(c *Config) *int { return &c.ReadTimeoutSeconds }, seconds(iamdb.DefaultReadTimeout), readTimeoutRange.rule(),
		"below `functionTimeoutSeconds`: how long a connection may stay silent while a reply is due before it is closed as lost (a read then runs once more on a new connection, a write reports its outcome unknown); bounds silence, not a statement's run time (`DB_READ_TIMEOUT_SECONDS`)"),
	newKey("nag", func(c *Config) *bool { return &c.Nag }, false, anyBool,
		"`true` applies the cdk-nag AwsSolutions and Serverless packs at synth (the tests always do)"),
	newKey("connectionHeadroom", func(c *Config) *int { return &c.ConnectionHeadroom }, 10, headroomRange.rule(),
		"kept free of the connection budget for people, the master user and maintenance"),
	newKey("dialTimeoutSeconds", func(c *Config) *int { return &c.DialTimeoutSeconds }, seconds(iamdb.DefaultDialTimeout), dialTimeoutRange.rule(),
		fmt.Sprintf("one login attempt: TCP, TLS, login (`DB_DIAL_TIMEOUT_SECONDS`); at least %d with `minCapacity` 0", ResumeSeconds)),
	newKey("autoPauseSeconds", func(c *Config) *int { return &c.AutoPauseSeconds }, MinAutoPauseSeconds, autoPauseRange.rule(),
		"idle time before a writer with `minCapacity` 0 pauses"),
	newKey("iamAuthLogExport", func(c *Config) *bool { return &c.IamAuthLogExport }, true, anyBool,
		"exports the cluster's `iam-db-auth-error` log to CloudWatch Logs"),
	newKey("logRetentionDays", func(c *Config) *int { return &c.LogRetentionDays }, 365, logRetentionRule,
		"that log's retention"),
	newKey("alarms", func(c *Config) *bool { return &c.Alarms }, true, anyBool,
		"creates the alarms of [Operating rdsiam](operating.md#operating-rdsiam)"),
	newKey("alarmTopicArn", func(c *Config) *string { return &c.AlarmTopicArn }, "", alarmTopicArnRule,
		"an existing SNS topic told of every alarm and recovery; needs `alarms`"),
	newKey("dashboard", func(c *Config) *bool { return &c.Dashboard }, true, anyBool,
		"creates the CloudWatch dashboard `<stackName>-rdsiam`"),
	newKey("humanUsers", func(c *Config) *[]HumanUser { return &c.HumanUsers }, DefaultHumanUsers(),
		rule[[]HumanUser]{allowed: humanUsersAllowed},
		"database users for people, each with a connect policy to attach to SSO roles ([Connecting as a person](people.md#connecting-as-a-person))"),
	newKey("cloudShellAccess", func(c *Config) *bool { return &c.CloudShellAccess }, false, anyBool,
		"`true` adds a security group (3306 to the cluster) for a CloudShell VPC environment"),
	newKey("ssmBastion", func(c *Config) *bool { return &c.SSMBastion }, false, anyBool,
		"`true` adds an SSM-managed bastion (no SSH, no public IP) and the SSM endpoints, for `rdsiam connect --ssm`"),
	newKey("proxy", func(c *Config) *bool { return &c.Proxy }, false, anyBool,
		"`true` puts an RDS Proxy with IAM authentication end to end in front of the writer; the query function connects to it ([Scaling out](scaling.md#scaling-out-rds-proxy-and-readers))"),
	newKey("readers", func(c *Config) *int { return &c.Readers }, 0, readersRange.rule(),
		"reader instances of the writer's kind; with any, the query function's reads go to the reader endpoint (`DB_READER_ENDPOINT`)"),
}

// ContextKeys returns every key ConfigFromContext reads, in the key table's
// order. The slice is the caller's.
func ContextKeys() []string {
	keys := make([]string, len(configKeys))
	for i, k := range configKeys {
		keys[i] = k.name
	}
	return keys
}

// DefaultConfig returns the configuration used when no context overrides it:
// the key table's defaults. cdk.json carries the same values so they are
// visible to users (a test keeps the two equal).
func DefaultConfig() Config {
	var c Config
	for _, k := range configKeys {
		k.setDefault(&c)
	}
	return c
}

// ConfigFromContext builds a Config from CDK context. get returns the raw
// context value for a key, or nil when it is not set; values from cdk.json
// arrive as JSON types and values from `-c key=value` as strings, and both
// are accepted. The result is validated.
func ConfigFromContext(get func(key string) any) (Config, error) {
	c := DefaultConfig()
	r := contextReader{get: get}
	for _, k := range configKeys {
		switch dst := k.field(&c).(type) {
		case *string:
			r.str(k.name, dst)
		case *[]string:
			r.list(k.name, dst)
		case *bool:
			r.boolean(k.name, dst)
		case *float64:
			r.float(k.name, dst)
		case *int:
			r.integer(k.name, dst)
		case *[]HumanUser:
			jsonArray(&r, k.name, dst, k.allowed)
		case *[]TableGrant:
			jsonArray(&r, k.name, dst, k.allowed)
		default:
			return Config{}, fmt.Errorf("context key %q: the key table has no reader for %T", k.name, dst)
		}
	}
	if r.err != nil {
		return Config{}, r.err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// checkKeys runs every key's own rule on c, in table order, and returns the
// first problem as a ConfigError naming the key.
func (c Config) checkKeys() error {
	for _, k := range configKeys {
		if p := k.check(&c); p != nil {
			return p.forKey(k.name, k.value(&c))
		}
	}
	return nil
}
