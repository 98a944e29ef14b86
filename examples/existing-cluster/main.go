// Command existing-cluster is a CDK app in a module of its own that uses
// rdsiam as a library: it imports an existing Aurora MySQL cluster, its
// admin secret and its VPC by attributes, and adds two passwordless
// database users with different grants, one for each of two functions:
// orders_api on the whole database, reports_ro read-only on one table
// (a table-level grant), and the sample table both functions query.
//
//	cdk synth                 # or: go run . with CDK_OUTDIR set
//	cdk synth -c nag=true     # with the cdk-nag AwsSolutions and Serverless packs
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/stacks"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "existing-cluster:", err)
		os.Exit(1)
	}
}

func run() error {
	// The Lambda commands are built from this module's graph (the go.mod
	// records them with go get -tool), into ./.build/rdsiam-lambda.
	bins, err := stacks.BuildModuleLambdas(".", stacks.LambdaImportPaths())
	if err != nil {
		return err
	}
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	if _, err := NewStack(app, "ExistingCluster", Sample, bins); err != nil {
		return err
	}
	if app.Node().TryGetContext(jsii.String("nag")) == "true" {
		stacks.ApplyNag(app)
	}
	app.Synth(nil)
	return nil
}
