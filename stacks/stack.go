// Package stacks holds the rdsiam constructs - network, Aurora cluster,
// database-user provider, query function - and the stack that wires them.
package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/internal/stackoutputs"
)

// RdsIamStackProps configures NewRdsIamStack.
type RdsIamStackProps struct {
	// StackProps are the stack's own. Default: Description is rdsiam's.
	awscdk.StackProps
	// Config is the deployment's configuration, validated here. Required:
	// a zero Config is refused; start from DefaultConfig() or
	// ConfigFromContext.
	Config Config
	// Binaries are the built Lambda binaries by LambdaPackages name.
	// Required, every one of them.
	Binaries map[string]GoBinary
}

// RdsIamStack is the default deployment: one cluster, one IAM-authenticated
// user, one query function.
type RdsIamStack struct {
	awscdk.Stack
	Network *Network
	Cluster *Cluster
	Users   *UserProvider
	User    *DatabaseUser
	// Table is the sample app's table, which Function's actions use.
	Table    *SampleTable
	Function *QueryFunction
	// Monitoring is nil when alarms and dashboard are both off.
	Monitoring *Monitoring
	// People are the human users (Config.HumanUsers), in order.
	People []*PersonUser
	// Access is how people reach the cluster (Config.CloudShellAccess,
	// Config.SSMBastion).
	Access *PeopleAccess
	// Proxy is the RDS Proxy in front of the writer; nil unless
	// Config.Proxy.
	Proxy *Proxy
}

// NewRdsIamStack validates cfg and builds the stack.
func NewRdsIamStack(scope constructs.Construct, id string, props RdsIamStackProps) (*RdsIamStack, error) {
	cfg := props.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for name := range LambdaPackages() {
		if _, ok := props.Binaries[name]; !ok {
			return nil, fmt.Errorf("stack %s: no built binary for lambda %q", id, name)
		}
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("rdsiam: Aurora MySQL with IAM database authentication and a Go query function")
	}
	s := &RdsIamStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp)}

	var err error
	s.Network, err = NewNetwork(s.Stack, "Network", NetworkProps{
		VpcID:                    cfg.VpcID,
		SubnetIDs:                cfg.SubnetIDs,
		AvailabilityZones:        cfg.AvailabilityZones,
		NoSecretsManagerEndpoint: !cfg.SecretsManagerEndpoint,
	})
	if err != nil {
		return nil, err
	}
	s.Cluster, err = NewCluster(s.Stack, "Cluster", ClusterProps{
		Network:                   s.Network,
		EngineVersion:             cfg.EngineVersion,
		Writer:                    cfg.Writer,
		InstanceClass:             cfg.InstanceClass,
		MinCapacity:               &cfg.MinCapacity,
		MaxCapacity:               &cfg.MaxCapacity,
		DisableDeletionProtection: !cfg.DeletionProtection,
		BackupRetentionDays:       cfg.BackupRetentionDays,
		RemovalPolicy:             cfg.RemovalPolicy,
		AutoPauseSeconds:          cfg.AutoPauseSeconds,
		DisableIamAuthLogExport:   !cfg.IamAuthLogExport,
		LogRetentionDays:          cfg.LogRetentionDays,
		Readers:                   cfg.Readers,
	})
	if err != nil {
		return nil, err
	}
	s.Users, err = NewUserProvider(s.Stack, "DatabaseUsers", UserProviderProps{
		Cluster:        s.Cluster.DB,
		AdminSecret:    s.Cluster.DB.Secret(),
		Vpc:            s.Network.Vpc,
		VpcSubnets:     s.Network.Subnets,
		Port:           s.Cluster.Port,
		SecretsManager: s.Network.secretsManager(),
		Binary:         props.Binaries["dbuser"],
	})
	if err != nil {
		return nil, err
	}
	s.User, err = NewDatabaseUser(s.Stack, "AppUser", DatabaseUserProps{
		Provider:       s.Users,
		UserName:       cfg.UserName,
		DatabaseName:   cfg.DatabaseName,
		Grants:         cfg.Grants,
		TableGrants:    cfg.TableGrants,
		RetainOnDelete: cfg.RetainUser,
		ExistingUser:   cfg.ExistingUser,
	})
	if err != nil {
		return nil, err
	}
	// The sample app's own table, which the query function's actions read
	// and write; no user creates it.
	if s.Table, err = NewSampleTable(s.Stack, "SampleTable", SampleTableProps{Provider: s.Users, DatabaseName: cfg.DatabaseName}); err != nil {
		return nil, err
	}
	// MySQL grants on a table only once it exists: with table grants the
	// user waits for the app's one table. Only then, so the default
	// template is unchanged; any other table must exist before the deploy.
	if len(cfg.TableGrants) > 0 {
		s.User.Node().AddDependency(s.Table.Construct)
	}
	if cfg.Proxy {
		pct, err := cfg.ProxyMaxConnectionsPercent()
		if err != nil {
			return nil, err
		}
		if s.Proxy, err = NewProxy(s.Stack, "Proxy", ProxyProps{
			Cluster: s.Cluster.DB, Vpc: s.Network.Vpc, VpcSubnets: s.Network.Subnets, MaxConnectionsPercent: pct,
		}); err != nil {
			return nil, err
		}
		s.Proxy.AllowUser(s.User)
	}
	var proxy ConnectableProxy
	if s.Proxy != nil {
		proxy = s.Proxy.DB
	}
	s.Function, err = NewQueryFunction(s.Stack, "Query", QueryFunctionProps{
		Vpc:            s.Network.Vpc,
		VpcSubnets:     s.Network.Subnets,
		User:           s.User,
		Binary:         props.Binaries["query"],
		MemoryMB:       cfg.FunctionMemoryMB,
		TimeoutSeconds: cfg.FunctionTimeoutSeconds,

		ReservedConcurrency:        &cfg.FunctionReservedConcurrency,
		MaxConnections:             cfg.MaxConnections,
		MaxNewConnectionsPerSecond: cfg.MaxNewConnectionsPerSecond,
		AccessDeniedRetrySeconds:   &cfg.AccessDeniedRetrySeconds,
		ReadTimeoutSeconds:         cfg.ReadTimeoutSeconds,
		DialTimeoutSeconds:         cfg.DialTimeoutSeconds,
		Proxy:                      proxy,
		ReadFromReaders:            cfg.Readers > 0,
	})
	if err != nil {
		return nil, err
	}
	if s.Proxy != nil {
		// The proxy's role and its grants on the cluster too, not only
		// the proxy: its logins to the cluster need them.
		s.Function.Function.Node().AddDependency(s.Proxy.Construct)
	}
	s.Function.Function.Node().AddDependency(s.Table.Construct)
	if err := s.addMonitoring(cfg); err != nil {
		return nil, err
	}
	if err := s.addPeople(cfg); err != nil {
		return nil, err
	}
	s.addOutputs()
	s.addPeopleOutputs()
	return s, nil
}

func (s *RdsIamStack) addOutputs() {
	out := func(id string, value *string, description string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{
			Value: value, Description: jsii.String(description),
		})
	}
	out(stackoutputs.ClusterEndpoint, s.Cluster.DB.ClusterEndpoint().Hostname(), "Writer endpoint of the Aurora cluster")
	out("ClusterResourceId", s.Cluster.DB.ClusterResourceIdentifier(), "Cluster resource id (the id in rds-db:connect ARNs)")
	if s.Proxy != nil {
		out("ProxyEndpoint", s.Proxy.Endpoint(), "RDS Proxy endpoint the query function connects to (IAM end to end)")
	}
	if s.Cluster.readers > 0 {
		out("ReaderEndpoint", s.Cluster.DB.ClusterReadEndpoint().Hostname(), "Reader endpoint of the Aurora cluster (the query function's reads)")
	}
	out("FunctionName", s.Function.Function.FunctionName(), "Query function")
	out("InvokeCommand", awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("aws lambda invoke --cli-binary-format raw-in-base64-out --function-name "),
		s.Function.Function.FunctionName(),
		jsii.String(` --payload '{"action":"whoami"}' /dev/stdout`),
	}), "Ask the function who it is logged in as")
}

// addMonitoring adds the alarms and the dashboard the configuration asks
// for, sized from the cluster (MonitoringProps' defaults).
func (s *RdsIamStack) addMonitoring(cfg Config) error {
	if !cfg.Alarms && !cfg.Dashboard {
		return nil
	}
	var err error
	s.Monitoring, err = NewMonitoring(s.Stack, "Monitoring", MonitoringProps{
		Cluster:       s.Cluster,
		Function:      s.Function,
		NoAlarms:      !cfg.Alarms,
		AlarmTopicArn: cfg.AlarmTopicArn,
		NoDashboard:   !cfg.Dashboard,
	})
	return err
}
