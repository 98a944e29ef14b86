package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ClusterProps configures Cluster. Validate with Config.Validate first; the
// construct checks again the fields it depends on.
type ClusterProps struct {
	Network *Network
	// EngineVersion is "3.MM.P" (see Config.EngineVersion).
	EngineVersion string
	// Writer is WriterServerlessV2 or WriterProvisioned.
	Writer                   string
	InstanceClass            string
	MinCapacity, MaxCapacity float64
	DeletionProtection       bool
	BackupRetentionDays      int
	// RemovalPolicy is "snapshot", "retain" or "destroy".
	RemovalPolicy string
	// AutoPauseSeconds is the idle time before a Serverless v2 writer with
	// MinCapacity 0 pauses, 300-86400. Default: 0 means 300; unused
	// unless MinCapacity is 0.
	AutoPauseSeconds int
	// IamAuthLogExport exports the iam-db-auth-error log to CloudWatch
	// Logs, kept LogRetentionDays (one of CloudWatch's retentions).
	// Default: false (no export); the app's Config turns it on.
	IamAuthLogExport bool
	LogRetentionDays int
	// Readers is the number of reader instances, of the writer's kind,
	// 0-MaxReaders. Default 0: the writer only.
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
}

// DatabasePort is the MySQL port the cluster listens on.
const DatabasePort = 3306

// MasterUserName is the cluster's master user, used only by the bootstrap.
const MasterUserName = "admin"

// NewCluster creates the cluster with IAM authentication on, storage
// encrypted, TLS required by the server, and generated master credentials
// in Secrets Manager (used only by the bootstrap).
func NewCluster(scope constructs.Construct, id string, props ClusterProps) (*Cluster, error) {
	if err := validateEngineVersion(props.EngineVersion); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	cl := &Cluster{Construct: c, Port: DatabasePort, readers: props.Readers}

	engine, params := engineWithTLSRequired(c, props.EngineVersion)
	cl.SecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Network.Vpc,
		Description:      jsii.String("Aurora cluster: MySQL from the rdsiam functions only"),
		AllowAllOutbound: jsii.Bool(false),
	})

	writer, err := writerInstance(props)
	if err != nil {
		return nil, err
	}
	removal, err := removalPolicy(props.RemovalPolicy)
	if err != nil {
		return nil, err
	}
	readers, err := clusterReaders(props)
	if err != nil {
		return nil, err
	}
	autoPause, err := autoPauseDuration(props)
	if err != nil {
		return nil, err
	}
	logs, err := newAuthLogExport(c, props)
	if err != nil {
		return nil, err
	}
	cl.DB = awsrds.NewDatabaseCluster(c, jsii.String("Database"), &awsrds.DatabaseClusterProps{
		ServerlessV2AutoPauseDuration: autoPause,
		CloudwatchLogsExports:         logs.exports,
		CloudwatchLogsRetention:       logs.retention,
		CloudwatchLogsRetentionRole:   logs.role,
		Engine:                        engine,
		Writer:                        writer.instance,
		Readers:                       readers,
		ServerlessV2MinCapacity:       writer.minCapacity,
		ServerlessV2MaxCapacity:       writer.maxCapacity,
		// RDS keeps the master password in Secrets Manager and rotates it
		// itself (every 7 days); nothing but the bootstrap ever reads it.
		ManageMasterUserPassword: jsii.Bool(true),
		Credentials:              awsrds.Credentials_FromUsername(jsii.String(MasterUserName), nil),
		IamAuthentication:        jsii.Bool(true),
		StorageEncrypted:         jsii.Bool(true),
		ParameterGroup:           params,
		Port:                     jsii.Number(DatabasePort),
		Vpc:                      props.Network.Vpc,
		VpcSubnets:               props.Network.Subnets,
		SecurityGroups:           &[]awsec2.ISecurityGroup{cl.SecurityGroup},
		DeletionProtection:       jsii.Bool(props.DeletionProtection),
		Backup:                   &awsrds.BackupProps{Retention: awscdk.Duration_Days(jsii.Number(float64(props.BackupRetentionDays)))},
		RemovalPolicy:            removal,
		CopyTagsToSnapshot:       jsii.Bool(true),
	})
	suppressClusterFindings(cl.DB, props.DeletionProtection)
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

// writerInstance describes the writer of props.Writer's kind.
func writerInstance(props ClusterProps) (writerSpec, error) {
	switch props.Writer {
	case WriterServerlessV2:
		return writerSpec{
			instance: awsrds.ClusterInstance_ServerlessV2(jsii.String("Writer"), &awsrds.ServerlessV2ClusterInstanceProps{
				CaCertificate:           awsrds.CaCertificate_RDS_CA_RSA2048_G1(),
				PubliclyAccessible:      jsii.Bool(false),
				AutoMinorVersionUpgrade: jsii.Bool(true),
			}),
			minCapacity: jsii.Number(props.MinCapacity),
			maxCapacity: jsii.Number(props.MaxCapacity),
		}, nil
	case WriterProvisioned:
		if err := validateInstanceClass(props.InstanceClass); err != nil {
			return writerSpec{}, err
		}
		return writerSpec{instance: awsrds.ClusterInstance_Provisioned(jsii.String("Writer"), &awsrds.ProvisionedClusterInstanceProps{
			InstanceType:            awsec2.NewInstanceType(jsii.String(props.InstanceClass[len("db."):])),
			CaCertificate:           awsrds.CaCertificate_RDS_CA_RSA2048_G1(),
			PubliclyAccessible:      jsii.Bool(false),
			AutoMinorVersionUpgrade: jsii.Bool(true),
		})}, nil
	}
	return writerSpec{}, &ConfigError{Key: "writer", Value: props.Writer, Allowed: fmt.Sprintf("%q or %q", WriterServerlessV2, WriterProvisioned)}
}

// clusterReaders describes props.Readers readers of the writer's kind; nil
// for none.
func clusterReaders(props ClusterProps) (*[]awsrds.IClusterInstance, error) {
	if props.Readers < 0 || props.Readers > MaxReaders {
		return nil, &ConfigError{Key: "readers", Value: props.Readers, Allowed: fmt.Sprintf("0 to %d", MaxReaders)}
	}
	if props.Readers == 0 {
		return nil, nil
	}
	r := readerInstances(props)
	return &r, nil
}

// autoPauseDuration is the idle time before a Serverless v2 writer with
// MinCapacity 0 pauses; nil when the writer cannot pause.
func autoPauseDuration(props ClusterProps) (awscdk.Duration, error) {
	if props.Writer != WriterServerlessV2 || props.MinCapacity != 0 {
		return nil, nil
	}
	seconds := props.AutoPauseSeconds
	if seconds == 0 {
		seconds = MinAutoPauseSeconds
	}
	if seconds < MinAutoPauseSeconds || seconds > MaxAutoPauseSeconds {
		return nil, &ConfigError{Key: "autoPauseSeconds", Value: seconds, Allowed: fmt.Sprintf("%d to %d seconds", MinAutoPauseSeconds, MaxAutoPauseSeconds)}
	}
	return awscdk.Duration_Seconds(jsii.Number(float64(seconds))), nil
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

func removalPolicy(s string) (awscdk.RemovalPolicy, error) {
	switch s {
	case "snapshot":
		return awscdk.RemovalPolicy_SNAPSHOT, nil
	case "retain":
		return awscdk.RemovalPolicy_RETAIN, nil
	case "destroy":
		return awscdk.RemovalPolicy_DESTROY, nil
	}
	return "", &ConfigError{Key: "removalPolicy", Value: s, Allowed: `"snapshot", "retain" or "destroy"`}
}

// AllowFrom opens the database port to peer, and only to it.
func (cl *Cluster) AllowFrom(peer awsec2.ISecurityGroup, description string) {
	cl.SecurityGroup.AddIngressRule(peer, awsec2.Port_Tcp(jsii.Number(cl.Port)), jsii.String(description), nil)
	peer.AddEgressRule(cl.SecurityGroup, awsec2.Port_Tcp(jsii.Number(cl.Port)), jsii.String(description), nil)
}
