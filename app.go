// Command rdsiam is the CDK app: it reads the configuration from CDK
// context, builds the Lambda binaries and synthesizes the stack.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/internal/jsiinode"
	"github.com/rdsiam/rdsiam/internal/lambdabuild"
	"github.com/rdsiam/rdsiam/internal/modroot"
	"github.com/rdsiam/rdsiam/internal/progress"
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
	pr := progress.Stderr()

	// The Lambda builds (or the check that they are up to date) run while
	// jsii starts Node and loads the CDK.
	type built struct {
		bins map[string]stacks.GoBinary
		err  error
	}
	builds := make(chan built, 1)
	lambdas := pr.Start("Lambda builds (linux/arm64)", "")
	go func() {
		bins, err := stacks.BuildGoLambdas(root, stacks.LambdaPackages())
		if err == nil {
			lambdas.Done(lambdabuild.Summary(bins))
		}
		builds <- built{bins, err}
	}()

	start := pr.Start("jsii start (Node, aws-cdk-lib)", "")
	app := awscdk.NewApp(nil)
	start.Done("")
	if err := stacks.CheckContextKeys(app); err != nil {
		return err
	}
	cfg, err := stacks.ConfigFromContext(func(key string) any {
		return app.Node().TryGetContext(jsii.String(key))
	})
	if err != nil {
		return err
	}
	b := <-builds
	if b.err != nil {
		return b.err
	}
	bins := b.bins
	synth := pr.Start("constructs and template", "")
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
	synth.Done("")
	return nil
}
