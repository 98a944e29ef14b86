package stacks

import (
	"errors"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ClusterProps configures Cluster. Its zero value (with Network set) is the
// app's default cluster: deletion protection on, backups kept 7 days, a
// snapshot on removal, the IAM authentication error log exported; every
// empty field takes DefaultConfig's value (the key table's default of the
// context key that sets it in the app). IAM authentication, encrypted
// storage and server-side required TLS are not props: they are always on.
// NewCluster checks every field with the rules of that context key and
// names the field, not the key, when one is refused.
type ClusterProps struct {
	// Network is the VPC and the subnets the cluster lives in. Required.
	Network *Network
	// EngineVersion is the Aurora MySQL 3 version "3.MM.P", at or above
	// MinEngineVersion. Default: "" means DefaultConfig's.
	EngineVersion string
	// Writer is WriterServerlessV2 or WriterProvisioned. Default: "" means
	// DefaultConfig's (WriterServerlessV2).
	Writer string
	// InstanceClass is a provisioned writer's (and its readers') class,
	// one with IAM authentication. Default: "" means DefaultConfig's;
	// unused with a Serverless v2 writer.
	InstanceClass string
	// MinCapacity and MaxCapacity bound a Serverless v2 writer in ACUs;
	// MinCapacity 0 lets an idle writer pause (AutoPauseSeconds). They are
	// pointers, as CDK's ServerlessV2MinCapacity, because 0 is a capacity.
	// Default: nil means DefaultConfig's (a writer that never pauses);
	// unused with a provisioned writer.
	MinCapacity, MaxCapacity *float64
	// DisableDeletionProtection lets the cluster be deleted (a throwaway
	// stack, with RemovalPolicy "destroy"). Default: false, the cluster is
	// protected.
	DisableDeletionProtection bool
	// BackupRetentionDays keeps automated backups (point-in-time restore),
	// 1 to 35 days; Aurora cannot turn them off. Default: 0 means
	// DefaultConfig's (7).
	BackupRetentionDays int
	// RemovalPolicy is "snapshot", "retain" or "destroy": what deleting
	// the stack does to the cluster. Default: "" means DefaultConfig's
	// ("snapshot").
	RemovalPolicy string
	// AutoPauseSeconds is the idle time before a Serverless v2 writer with
	// MinCapacity 0 pauses, MinAutoPauseSeconds to MaxAutoPauseSeconds.
	// Default: 0 means MinAutoPauseSeconds; unused unless MinCapacity is 0.
	AutoPauseSeconds int
	// DisableIamAuthLogExport keeps the iam-db-auth-error log (why IAM
	// logins fail) out of CloudWatch Logs, for a region or version that
	// refuses the export. Default: false, the log is exported and kept
	// LogRetentionDays.
	DisableIamAuthLogExport bool
	// LogRetentionDays is that log's retention, one of CloudWatch's.
	// Default: 0 means DefaultConfig's (365).
	LogRetentionDays int
	// Readers is the number of reader instances, of the writer's kind,
	// 0-MaxReaders. Default: 0, the writer only.
	Readers int
}

// Cluster is an Aurora MySQL cluster that only IAM-authenticated or
// master-password users over TLS can reach.
type Cluster struct {
	constructs.Construct
	DB            awsrds.DatabaseCluster
	SecurityGroup awsec2.SecurityGroup
	Port          float64
	readers       int
	// writer is the writer's kind and maxConnections its max_connections
	// (AuroraMaxConnections), for Monitoring's defaults.
	writer         string
	maxConnections int
	// exportsAuthLog: the iam-db-auth-error log goes to CloudWatch Logs.
	exportsAuthLog bool
}

// DatabasePort is the MySQL port the cluster listens on.
const DatabasePort = 3306

// MasterUserName is the cluster's master user, used only by the user provider.
const MasterUserName = "admin"

// NewCluster creates the cluster with IAM authentication on, storage
// encrypted, TLS required by the server, and generated master credentials
// in Secrets Manager (used only by the user provider).
func NewCluster(scope constructs.Construct, id string, props ClusterProps) (*Cluster, error) {
	props = props.withDefaults()
	if err := props.validate(id); err != nil {
		return nil, err
	}
	maxConns, _, err := AuroraMaxConnections(Config{Writer: props.Writer, InstanceClass: props.InstanceClass, MaxCapacity: *props.MaxCapacity})
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", id, err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	cl := &Cluster{Construct: c, Port: DatabasePort, readers: props.Readers,
		writer: props.Writer, maxConnections: maxConns, exportsAuthLog: !props.DisableIamAuthLogExport}

	engine, params := engineWithTLSRequired(c, props.EngineVersion)
	cl.SecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Network.Vpc,
		Description:      jsii.String("Aurora cluster: MySQL from the rdsiam functions only"),
		AllowAllOutbound: jsii.Bool(false),
	})

	writer := writerInstance(props)
	logs := newAuthLogExport(c, props)
	cl.DB = awsrds.NewDatabaseCluster(c, jsii.String("Database"), &awsrds.DatabaseClusterProps{
		ServerlessV2AutoPauseDuration: autoPauseDuration(props),
		CloudwatchLogsExports:         logs.exports,
		CloudwatchLogsRetention:       logs.retention,
		CloudwatchLogsRetentionRole:   logs.role,
		Engine:                        engine,
		Writer:                        writer.instance,
		Readers:                       clusterReaders(props),
		ServerlessV2MinCapacity:       writer.minCapacity,
		ServerlessV2MaxCapacity:       writer.maxCapacity,
		// RDS keeps the master password in Secrets Manager and rotates it
		// itself (every 7 days); nothing but the user provider ever reads it.
		ManageMasterUserPassword: jsii.Bool(true),
		Credentials:              awsrds.Credentials_FromUsername(jsii.String(MasterUserName), nil),
		IamAuthentication:        jsii.Bool(true),
		StorageEncrypted:         jsii.Bool(true),
		ParameterGroup:           params,
		Port:                     jsii.Number(DatabasePort),
		Vpc:                      props.Network.Vpc,
		VpcSubnets:               props.Network.Subnets,
		SecurityGroups:           &[]awsec2.ISecurityGroup{cl.SecurityGroup},
		DeletionProtection:       jsii.Bool(!props.DisableDeletionProtection),
		Backup:                   &awsrds.BackupProps{Retention: awscdk.Duration_Days(jsii.Number(float64(props.BackupRetentionDays)))},
		RemovalPolicy:            removalPolicies[props.RemovalPolicy],
		CopyTagsToSnapshot:       jsii.Bool(true),
	})
	suppressClusterFindings(cl.DB, !props.DisableDeletionProtection)
	return cl, nil
}

// engineWithTLSRequired is the Aurora MySQL engine of version "3.MM.P"
// and a parameter group for it that sets require_secure_transport: the
// server itself refuses plain TCP, so TLS does not depend on every client
// getting its settings right.
func engineWithTLSRequired(scope constructs.Construct, engineVersion string) (awsrds.IClusterEngine, awsrds.ParameterGroup) {
	version := awsrds.AuroraMysqlEngineVersion_Of(jsii.String("8.0.mysql_aurora."+engineVersion), jsii.String("8.0"))
	engine := awsrds.DatabaseClusterEngine_AuroraMysql(&awsrds.AuroraMysqlClusterEngineProps{Version: version})
	params := awsrds.NewParameterGroup(scope, jsii.String("Parameters"), &awsrds.ParameterGroupProps{
		Engine:      engine,
		Description: jsii.String("rdsiam: TLS required"),
		Parameters: &map[string]*string{
			"require_secure_transport": jsii.String("ON"),
		},
	})
	return engine, params
}

// writerSpec is the cluster's writer and its Serverless v2 capacity range
// (nil for a provisioned writer).
type writerSpec struct {
	instance                 awsrds.IClusterInstance
	minCapacity, maxCapacity *float64
}

// writerInstance describes the writer of props.Writer's kind
// (ClusterProps.validate admits only the two).
func writerInstance(props ClusterProps) writerSpec {
	if props.Writer == WriterProvisioned {
		return writerSpec{instance: awsrds.ClusterInstance_Provisioned(jsii.String("Writer"), &awsrds.ProvisionedClusterInstanceProps{
			InstanceType:            awsec2.NewInstanceType(jsii.String(props.InstanceClass[len("db."):])),
			CaCertificate:           awsrds.CaCertificate_RDS_CA_RSA2048_G1(),
			PubliclyAccessible:      jsii.Bool(false),
			AutoMinorVersionUpgrade: jsii.Bool(true),
		})}
	}
	return writerSpec{
		instance: awsrds.ClusterInstance_ServerlessV2(jsii.String("Writer"), &awsrds.ServerlessV2ClusterInstanceProps{
			CaCertificate:           awsrds.CaCertificate_RDS_CA_RSA2048_G1(),
			PubliclyAccessible:      jsii.Bool(false),
			AutoMinorVersionUpgrade: jsii.Bool(true),
		}),
		minCapacity: props.MinCapacity,
		maxCapacity: props.MaxCapacity,
	}
}

// clusterReaders describes props.Readers readers of the writer's kind; nil
// for none.
func clusterReaders(props ClusterProps) *[]awsrds.IClusterInstance {
	if props.Readers == 0 {
		return nil
	}
	r := readerInstances(props)
	return &r
}

// autoPauseDuration is the idle time before a Serverless v2 writer with
// MinCapacity 0 pauses; nil when the writer cannot pause.
func autoPauseDuration(props ClusterProps) awscdk.Duration {
	if props.Writer != WriterServerlessV2 || *props.MinCapacity != 0 {
		return nil
	}
	seconds := props.AutoPauseSeconds
	if seconds == 0 {
		seconds = MinAutoPauseSeconds
	}
	return awscdk.Duration_Seconds(jsii.Number(float64(seconds)))
}

// suppressClusterFindings records, on the cluster, why cdk-nag's findings
// that the configuration keeps on purpose are accepted.
func suppressClusterFindings(db awsrds.DatabaseCluster, deletionProtection bool) {
	if !deletionProtection {
		suppress(db, nagRule{ID: "AwsSolutions-RDS10",
			Reason: "deletionProtection=false was set explicitly in context (the default is true), for a throwaway stack that must be deletable in one step."})
	}
	suppress(db,
		nagRule{ID: "AwsSolutions-RDS11",
			Reason: "The standard MySQL port is kept on purpose: a non-standard port hides nothing from a scanner inside the VPC, and the cluster is reachable only from the two function security groups in isolated subnets."},
		nagRule{ID: "AwsSolutions-RDS14",
			Reason: "Recovery is by automated backups with point-in-time restore (backupRetentionDays, default 7). Backtrack rewinds the whole cluster in place, must be chosen at creation and costs per change record; it is not enabled by default."})
}

// removalPolicies are the RemovalPolicy values removalPolicyRule allows.
var removalPolicies = map[string]awscdk.RemovalPolicy{
	"snapshot": awscdk.RemovalPolicy_SNAPSHOT,
	"retain":   awscdk.RemovalPolicy_RETAIN,
	"destroy":  awscdk.RemovalPolicy_DESTROY,
}

// withDefaults fills the empty fields with DefaultConfig's values.
func (props ClusterProps) withDefaults() ClusterProps {
	d := DefaultConfig()
	orDefault(&props.EngineVersion, d.EngineVersion)
	orDefault(&props.Writer, d.Writer)
	orDefault(&props.InstanceClass, d.InstanceClass)
	orDefault(&props.MinCapacity, &d.MinCapacity)
	orDefault(&props.MaxCapacity, &d.MaxCapacity)
	orDefault(&props.BackupRetentionDays, d.BackupRetentionDays)
	orDefault(&props.RemovalPolicy, d.RemovalPolicy)
	orDefault(&props.LogRetentionDays, d.LogRetentionDays)
	return props
}

// orDefault sets *field to def when it holds its type's zero value (a
// props field left empty).
func orDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// validate checks every field NewCluster relies on (after withDefaults),
// with the same rules as the context keys that set them in the app, and
// names the field.
func (props ClusterProps) validate(id string) error {
	var errs propChecks
	if props.Network == nil {
		errs = append(errs, errors.New("ClusterProps.Network is required"))
	}
	checkProp(&errs, "ClusterProps.EngineVersion", props.EngineVersion, engineVersionRule)
	checkProp(&errs, "ClusterProps.Writer", props.Writer, writerRule)
	switch props.Writer {
	case WriterProvisioned:
		checkProp(&errs, "ClusterProps.InstanceClass", props.InstanceClass, instanceClassRule)
	case WriterServerlessV2:
		minACU, maxACU := *props.MinCapacity, *props.MaxCapacity
		checkProp(&errs, "ClusterProps.MinCapacity", minACU, minCapacityRule)
		checkProp(&errs, "ClusterProps.MaxCapacity", maxACU, maxCapacityRule)
		if maxACU < minACU {
			errs = append(errs, &PropsError{Field: "ClusterProps.MaxCapacity", Value: maxACU,
				Reason: fmt.Sprintf("below MinCapacity (%g)", minACU), Allowed: maxCapacityRule.allowed})
		}
		if minACU == 0 && props.AutoPauseSeconds != 0 {
			checkProp(&errs, "ClusterProps.AutoPauseSeconds", props.AutoPauseSeconds, autoPauseRange.rule())
		}
	}
	checkProp(&errs, "ClusterProps.BackupRetentionDays", props.BackupRetentionDays, backupRetentionRange.rule())
	checkProp(&errs, "ClusterProps.RemovalPolicy", props.RemovalPolicy, removalPolicyRule)
	checkProp(&errs, "ClusterProps.Readers", props.Readers, readersRange.rule())
	if !props.DisableIamAuthLogExport {
		checkProp(&errs, "ClusterProps.LogRetentionDays", props.LogRetentionDays, logRetentionRule)
	}
	return errs.err("cluster " + id)
}

// AuthLogGroupName is the name of the log group Aurora exports the
// iam-db-auth-error log to, /aws/rds/cluster/<cluster id>/iam-db-auth-error;
// nil when the log is not exported (ClusterProps.DisableIamAuthLogExport).
func (cl *Cluster) AuthLogGroupName() *string {
	if !cl.exportsAuthLog {
		return nil
	}
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("/aws/rds/cluster/"), cl.DB.ClusterIdentifier(), jsii.String("/" + IamAuthErrorLog),
	})
}

// AllowFrom opens the database port to peer, and only to it.
func (cl *Cluster) AllowFrom(peer awsec2.ISecurityGroup, description string) {
	cl.SecurityGroup.AddIngressRule(peer, awsec2.Port_Tcp(jsii.Number(cl.Port)), jsii.String(description), nil)
	peer.AddEgressRule(cl.SecurityGroup, awsec2.Port_Tcp(jsii.Number(cl.Port)), jsii.String(description), nil)
}
