// Package stacks holds the rdsiam constructs - network, Aurora cluster,
// database-user bootstrap, query function - and the stack that wires them.
package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// RdsIamStackProps configures NewRdsIamStack.
type RdsIamStackProps struct {
	awscdk.StackProps
	Config Config
	// Binaries are the built Lambda binaries by LambdaPackages name.
	Binaries map[string]GoBinary
}

// RdsIamStack is the default deployment: one cluster, one IAM-authenticated
// user, one query function.
type RdsIamStack struct {
	awscdk.Stack
	Network  *Network
	Cluster  *Cluster
	Users    *UserProvider
	User     *DatabaseUser
	Function *QueryFunction
}

// NewRdsIamStack validates cfg and builds the stack.
func NewRdsIamStack(scope constructs.Construct, id string, props RdsIamStackProps) (*RdsIamStack, error) {
	cfg := props.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for name := range LambdaPackages {
		if _, ok := props.Binaries[name]; !ok {
			return nil, fmt.Errorf("stack %s: no built binary for lambda %q", id, name)
		}
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("rdsiam: Aurora MySQL with IAM database authentication and a Go query function")
	}
	s := &RdsIamStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp)}

	s.Network = NewNetwork(s.Stack, "Network", NetworkProps{
		VpcID:                  cfg.VpcID,
		SubnetIDs:              cfg.SubnetIDs,
		AvailabilityZones:      cfg.AvailabilityZones,
		SecretsManagerEndpoint: cfg.SecretsManagerEndpoint,
	})
	var err error
	s.Cluster, err = NewCluster(s.Stack, "Cluster", ClusterProps{
		Network:             s.Network,
		EngineVersion:       cfg.EngineVersion,
		Writer:              cfg.Writer,
		InstanceClass:       cfg.InstanceClass,
		MinCapacity:         cfg.MinCapacity,
		MaxCapacity:         cfg.MaxCapacity,
		DeletionProtection:  cfg.DeletionProtection,
		BackupRetentionDays: cfg.BackupRetentionDays,
		RemovalPolicy:       cfg.RemovalPolicy,
	})
	if err != nil {
		return nil, err
	}
	s.Users = NewUserProvider(s.Stack, "DatabaseUsers", UserProviderProps{
		Cluster: s.Cluster, Network: s.Network, Binary: props.Binaries["dbuser"],
	})
	s.User, err = NewDatabaseUser(s.Stack, "AppUser", DatabaseUserProps{
		Provider:       s.Users,
		UserName:       cfg.UserName,
		DatabaseName:   cfg.DatabaseName,
		Grants:         cfg.Grants,
		RetainOnDelete: cfg.RetainUser,
	})
	if err != nil {
		return nil, err
	}
	s.Function, err = NewQueryFunction(s.Stack, "Query", QueryFunctionProps{
		Network:        s.Network,
		User:           s.User,
		Binary:         props.Binaries["query"],
		MemoryMB:       cfg.FunctionMemoryMB,
		TimeoutSeconds: cfg.FunctionTimeoutSeconds,

		ReservedConcurrency:        cfg.FunctionReservedConcurrency,
		MaxConnections:             cfg.MaxConnections,
		MaxNewConnectionsPerSecond: cfg.MaxNewConnectionsPerSecond,
		AccessDeniedRetrySeconds:   cfg.AccessDeniedRetrySeconds,
		ReadTimeoutSeconds:         cfg.ReadTimeoutSeconds,
	})
	if err != nil {
		return nil, err
	}
	s.addOutputs()
	return s, nil
}

func (s *RdsIamStack) addOutputs() {
	out := func(id string, value *string, description string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{
			Value: value, Description: jsii.String(description),
		})
	}
	out("ClusterEndpoint", s.Cluster.DB.ClusterEndpoint().Hostname(), "Writer endpoint of the Aurora cluster")
	out("ClusterResourceId", s.Cluster.DB.ClusterResourceIdentifier(), "Cluster resource id (the id in rds-db:connect ARNs)")
	out("FunctionName", s.Function.Function.FunctionName(), "Query function")
	out("InvokeCommand", awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("aws lambda invoke --cli-binary-format raw-in-base64-out --function-name "),
		s.Function.Function.FunctionName(),
		jsii.String(` --payload '{"action":"whoami"}' /dev/stdout`),
	}), "Ask the function who it is logged in as")
}
