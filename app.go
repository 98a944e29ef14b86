// Command rdsiam is the CDK app: it reads the configuration from CDK
// context, builds the Lambda binaries and synthesizes the stack.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/internal/jsiinode"
	"github.com/rdsiam/rdsiam/internal/modroot"
	"github.com/rdsiam/rdsiam/stacks"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rdsiam:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := modroot.Find(".")
	if err != nil {
		return err
	}
	if err := jsiinode.Use(root); err != nil {
		return err
	}
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	if err := stacks.CheckContextKeys(app); err != nil {
		return err
	}
	cfg, err := stacks.ConfigFromContext(func(key string) any {
		return app.Node().TryGetContext(jsii.String(key))
	})
	if err != nil {
		return err
	}
	bins, err := stacks.BuildGoLambdas(root, stacks.LambdaPackages)
	if err != nil {
		return err
	}
	if _, err := stacks.NewRdsIamStack(app, cfg.StackName, stacks.RdsIamStackProps{
		Config:   cfg,
		Binaries: bins,
	}); err != nil {
		return err
	}
	if cfg.Nag {
		stacks.ApplyNag(app)
	}
	app.Synth(nil)
	return nil
}
