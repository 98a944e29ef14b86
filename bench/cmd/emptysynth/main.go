// Command emptysynth is the synth baseline for the benchmarks: a Go CDK app
// that loads aws-cdk-lib through jsii, creates an App with one empty Stack
// and synthesizes it. It does the fixed work of every synth (start Node and
// the jsii kernel, load the CDK assembly, write a cloud assembly) and none of
// rdsiam's, so `bench` can say how much the real stack adds. Run it like the
// real app: as the CDK CLI's --app, or with CDK_OUTDIR set, with the same
// JSII_NODE.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/internal/jsiinode"
	"github.com/rdsiam/rdsiam/internal/modroot"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "emptysynth:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := modroot.Find(".")
	if err != nil {
		return err
	}
	// Same Node as the real app when JSII_NODE is unset.
	if err := jsiinode.Use(root); err != nil {
		return err
	}
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	awscdk.NewStack(app, jsii.String("Empty"), nil)
	app.Synth(nil)
	return nil
}
