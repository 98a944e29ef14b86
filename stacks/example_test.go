package stacks_test

import (
	"log"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/stacks"
)

// A CDK app of your own adds passwordless users to a cluster it does not
// own: the cluster, its admin secret and its VPC are imported by
// attributes (no lookup, no AWS credentials at synth), and the handler is
// built from your module (record it with
// `go get -tool github.com/rdsiam/rdsiam/lambda/cmd/dbuser`). The complete
// app, with two functions, is examples/existing-cluster.
func ExampleNewUserProvider() {
	bins, err := stacks.BuildModuleLambdas(".", map[string]string{"dbuser": stacks.LambdaImportPaths()["dbuser"]})
	if err != nil {
		log.Fatal(err)
	}
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Orders"), nil)
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId:                      jsii.String("vpc-0a1b2c3d4e5f60718"),
		AvailabilityZones:          jsii.Strings("eu-west-1a", "eu-west-1b"),
		PrivateSubnetIds:           jsii.Strings("subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"),
		PrivateSubnetRouteTableIds: jsii.Strings("rtb-0a1b2c3d4e5f60001", "rtb-0a1b2c3d4e5f60002"),
	})
	cluster := awsrds.DatabaseCluster_FromDatabaseClusterAttributes(stack, jsii.String("Cluster"), &awsrds.DatabaseClusterAttributes{
		ClusterIdentifier:         jsii.String("orders"),
		ClusterResourceIdentifier: jsii.String("cluster-ORDERS7EXAMPLE0123456789"),
		ClusterEndpointAddress:    jsii.String("orders.cluster-c0a1b2c3d4e5.eu-west-1.rds.amazonaws.com"),
		Port:                      jsii.Number(3306),
		SecurityGroups: &[]awsec2.ISecurityGroup{
			awsec2.SecurityGroup_FromSecurityGroupId(stack, jsii.String("ClusterSG"), jsii.String("sg-0a1b2c3d4e5f60718"), nil),
		},
	})
	admin := awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("Admin"),
		jsii.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-admin-AbCdEf"))

	// One provider per cluster.
	users, err := stacks.NewUserProvider(stack, "DatabaseUsers", stacks.UserProviderProps{
		Cluster: cluster, AdminSecret: admin, Vpc: vpc, Binary: bins["dbuser"],
	})
	if err != nil {
		log.Fatal(err)
	}
	// Any number of users on it, each with its own grants.
	reports, err := stacks.NewDatabaseUser(stack, "ReportsUser", stacks.DatabaseUserProps{
		Provider: users, UserName: "reports_ro", DatabaseName: "orders", Grants: stacks.ReadOnlyGrants(),
	})
	if err != nil {
		log.Fatal(err)
	}
	// Any IGrantable may log in as it: a function, or a role people assume.
	analysts := awsiam.NewRole(stack, jsii.String("Analysts"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewAccountRootPrincipal(),
	})
	reports.GrantConnect(analysts) // rds-db:connect on .../dbuser:cluster-ORDERS7EXAMPLE0123456789/reports_ro
	app.Synth(nil)
}

// A second user for a second function: its own user name and grants, and
// rds-db:connect for that user only. Environment gives the function the
// variables queryfn.ConfigFromEnv reads; the function must also be allowed
// through the cluster's security group. (Compiled, not run: stack, users,
// cluster and function stand for yours.)
func ExampleDatabaseUser_GrantConnect() {
	var (
		stack    awscdk.Stack
		users    *stacks.UserProvider // the cluster's provider
		cluster  awsrds.IDatabaseCluster
		function awslambda.Function // your function, in the cluster's VPC
	)
	writer, err := stacks.NewDatabaseUser(stack, "WriterUser", stacks.DatabaseUserProps{
		Provider: users, UserName: "orders_api", DatabaseName: "orders", Grants: []string{"SELECT", "INSERT", "UPDATE"},
	})
	if err != nil {
		log.Fatal(err)
	}
	writer.GrantConnect(function)
	for k, v := range writer.Environment() {
		function.AddEnvironment(jsii.String(k), v, nil)
	}
	function.Connections().AllowTo(cluster, awsec2.Port_Tcp(cluster.ClusterEndpoint().Port()), jsii.String("MySQL from the orders API"))
}

// The sample query function on a cluster you imported: it takes the VPC
// and the user, and finds the cluster (its writer endpoint, port and
// security groups) through the user's provider, so the provider of
// ExampleNewUserProvider serves here as is. Every field left out takes
// the app's default (DefaultConfig): reserved concurrency, pool size,
// login rate, access-denied retry, timeouts. ReadFromReaders needs the
// imported cluster's ReaderEndpointAddress attribute; without it the synth
// fails naming it. (Compiled, not run: stack, vpc and users stand for
// yours.)
func ExampleNewQueryFunction() {
	var (
		stack awscdk.Stack
		vpc   awsec2.IVpc          // the cluster's, e.g. from awsec2.Vpc_FromVpcAttributes
		users *stacks.UserProvider // on a cluster from awsrds.DatabaseCluster_FromDatabaseClusterAttributes
	)
	bins, err := stacks.BuildModuleLambdas(".", map[string]string{"query": stacks.LambdaImportPaths()["query"]})
	if err != nil {
		log.Fatal(err)
	}
	orders, err := stacks.NewDatabaseUser(stack, "OrdersUser", stacks.DatabaseUserProps{
		Provider: users, UserName: "orders_api", DatabaseName: "orders", Grants: []string{"SELECT", "INSERT"},
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = stacks.NewQueryFunction(stack, "Orders", stacks.QueryFunctionProps{
		Vpc: vpc, User: orders, Binary: bins["query"],
		// A pointer, because 0 is a choice (no reservation); nil is the
		// default.
		ReservedConcurrency: new(50),
	})
	if err != nil {
		log.Fatal(err)
	}
}

// Table-level grants: a user that may read two tables of the database and
// add rows to one of them, and nothing else in it (GRANT ... ON
// orders.items, orders.customers). Tables are named alone, in the user's
// database; a user can have both database-level Grants and TableGrants.
// MySQL grants on a table only once it exists, so the user depends on what
// creates its tables: here the sample app's items (customers stands for a
// table your own migration made before). (Compiled, not run: stack and
// users stand for yours.)
func ExampleDatabaseUserProps_tableGrants() {
	var (
		stack awscdk.Stack
		users *stacks.UserProvider // the cluster's provider
	)
	items, err := stacks.NewSampleTable(stack, "ItemsTable", stacks.SampleTableProps{Provider: users, DatabaseName: "orders"})
	if err != nil {
		log.Fatal(err)
	}
	clerk, err := stacks.NewDatabaseUser(stack, "ClerkUser", stacks.DatabaseUserProps{
		Provider: users, UserName: "clerk", DatabaseName: "orders",
		TableGrants: []stacks.TableGrant{
			{Table: "items", Privileges: []string{"SELECT", "INSERT"}},
			{Table: "customers", Privileges: stacks.ReadOnlyGrants()},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	clerk.Node().AddDependency(items.Construct)
}
