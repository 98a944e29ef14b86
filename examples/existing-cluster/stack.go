package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/rdsiam/rdsiam/stacks"
)

// Existing is what the platform team already runs, as the attributes its
// own stacks export: nothing here is looked up at synth time, so synth
// needs no AWS credentials.
type Existing struct {
	VpcID             string
	AvailabilityZones []string
	// PrivateSubnetIDs and their route tables, in AvailabilityZones' order.
	PrivateSubnetIDs, RouteTableIDs []string
	ClusterIdentifier               string
	// ClusterResourceID is the DBClusterResourceId (cluster-…), the id in
	// rds-db:connect ARNs.
	ClusterResourceID string
	ClusterEndpoint   string
	Port              float64
	// ClusterSecurityGroupID guards the cluster; the provider and the
	// functions get ingress rules on it.
	ClusterSecurityGroupID string
	// AdminSecretArn is the full ARN (with its random suffix) of a secret
	// holding {"username","password"} of an admin user.
	AdminSecretArn string
}

// Sample is a made-up estate in eu-west-1.
var Sample = Existing{
	VpcID:                  "vpc-0a1b2c3d4e5f60718",
	AvailabilityZones:      []string{"eu-west-1a", "eu-west-1b"},
	PrivateSubnetIDs:       []string{"subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"},
	RouteTableIDs:          []string{"rtb-0a1b2c3d4e5f60001", "rtb-0a1b2c3d4e5f60002"},
	ClusterIdentifier:      "orders",
	ClusterResourceID:      "cluster-ORDERS7EXAMPLE0123456789",
	ClusterEndpoint:        "orders.cluster-c0a1b2c3d4e5.eu-west-1.rds.amazonaws.com",
	Port:                   3306,
	ClusterSecurityGroupID: "sg-0a1b2c3d4e5f60718",
	AdminSecretArn:         "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-admin-AbCdEf",
}

// NewStack adds two database users to an existing cluster, each with its
// own grants, and a function for each that may log in as its user only.
func NewStack(scope constructs.Construct, id string, e Existing, bins map[string]stacks.GoBinary) (awscdk.Stack, error) {
	stack := awscdk.NewStack(scope, jsii.String(id), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")},
	})
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId:                      jsii.String(e.VpcID),
		AvailabilityZones:          jsii.Strings(e.AvailabilityZones...),
		PrivateSubnetIds:           jsii.Strings(e.PrivateSubnetIDs...),
		PrivateSubnetRouteTableIds: jsii.Strings(e.RouteTableIDs...),
	})
	clusterSG := awsec2.SecurityGroup_FromSecurityGroupId(stack, jsii.String("ClusterSecurityGroup"), jsii.String(e.ClusterSecurityGroupID), nil)
	cluster := awsrds.DatabaseCluster_FromDatabaseClusterAttributes(stack, jsii.String("Cluster"), &awsrds.DatabaseClusterAttributes{
		ClusterIdentifier:         jsii.String(e.ClusterIdentifier),
		ClusterResourceIdentifier: jsii.String(e.ClusterResourceID),
		ClusterEndpointAddress:    jsii.String(e.ClusterEndpoint),
		Port:                      jsii.Number(e.Port),
		SecurityGroups:            &[]awsec2.ISecurityGroup{clusterSG},
	})
	admin := awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("AdminSecret"), jsii.String(e.AdminSecretArn))

	users, err := stacks.NewUserProvider(stack, "DatabaseUsers", stacks.UserProviderProps{
		Cluster:     cluster,
		AdminSecret: admin,
		Vpc:         vpc,
		Binary:      bins["dbuser"],
	})
	if err != nil {
		return nil, err
	}
	// The functions run the sample query binary, whose actions use the
	// sample table: a resource of its own, which both functions wait for.
	table, err := stacks.NewSampleTable(stack, "ItemsTable", stacks.SampleTableProps{Provider: users, DatabaseName: "orders"})
	if err != nil {
		return nil, err
	}
	for _, u := range []struct {
		id, user string
		grants   []string
		tables   []stacks.TableGrant
	}{
		// Database-level: every table of orders, now and later.
		{id: "Orders", user: "orders_api", grants: []string{"SELECT", "INSERT", "UPDATE"}},
		// Table-level: reads items and nothing else in orders.
		{id: "Reports", user: "reports_ro", tables: []stacks.TableGrant{{Table: "items", Privileges: stacks.ReadOnlyGrants()}}},
	} {
		dbUser, err := stacks.NewDatabaseUser(stack, u.id+"User", stacks.DatabaseUserProps{
			Provider: users, UserName: u.user, DatabaseName: "orders", Grants: u.grants, TableGrants: u.tables,
		})
		if err != nil {
			return nil, err
		}
		// MySQL grants on a table only once it exists.
		dbUser.Node().AddDependency(table.Construct)
		fn := newFunction(stack, u.id+"Function", vpc, bins["query"], dbUser.Environment())
		dbUser.GrantConnect(fn)
		fn.Connections().AllowTo(cluster, awsec2.Port_Tcp(cluster.ClusterEndpoint().Port()), jsii.String(fmt.Sprintf("MySQL from the %s function", u.id)))
		fn.Node().AddDependency(dbUser.Construct, table.Construct)
	}
	return stack, nil
}

// newFunction is a VPC function running the query binary, with its own log
// group and a role holding inline policies only (CDK's default role would
// attach AWS managed policies that allow writing to every log group).
func newFunction(scope constructs.Construct, id string, vpc awsec2.IVpc, bin stacks.GoBinary, env map[string]*string) awslambda.Function {
	logs := awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_ONE_YEAR, RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(scope, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"Runtime": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
			Statements: &[]awsiam.PolicyStatement{
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions: jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"), Resources: jsii.Strings(*logs.LogGroupArn()),
				}),
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions: jsii.Strings("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
						"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"),
					Resources: jsii.Strings("*"),
				}),
			},
		})},
	})
	suppress(role, "AwsSolutions-IAM5", "Resource::*", "The ENI calls Lambda makes for a VPC function cannot be scoped to resources (AWS's AWSLambdaVPCAccessExecutionRole uses * too).")
	suppress(role, "Serverless-LambdaStarPermissions", "", "The ENI calls Lambda makes for a VPC function cannot be scoped to resources (AWS's AWSLambdaVPCAccessExecutionRole uses * too).")
	fn := awslambda.NewFunction(scope, jsii.String(id), &awslambda.FunctionProps{
		Runtime:          awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:     awslambda.Architecture_ARM_64(),
		Handler:          jsii.String("bootstrap"),
		Code:             awslambda.Code_FromAsset(jsii.String(bin.Dir), nil),
		MemorySize:       jsii.Number(256),
		Timeout:          awscdk.Duration_Seconds(jsii.Number(15)),
		Role:             role,
		LogGroup:         logs,
		Environment:      &env,
		Vpc:              vpc,
		AllowAllOutbound: jsii.Bool(false),
	})
	suppress(fn, "Serverless-LambdaDLQ", "", "Invoked synchronously by its callers, who get the error; a dead-letter queue only serves asynchronous invocations.")
	suppress(fn, "Serverless-LambdaTracing", "", "The example adds no X-Ray endpoint to the existing VPC; the functions log structured JSON with request ids instead.")
	return fn
}

// suppress records one accepted cdk-nag finding on exactly c.
func suppress(c constructs.IConstruct, rule, appliesTo, reason string) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if appliesTo != "" {
		s.AppliesTo = &[]any{appliesTo}
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(false))
}
