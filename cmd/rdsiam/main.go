// Command rdsiam is the person's side of rdsiam. Today it has one
// subcommand, connect:
//
//	rdsiam connect [flags] [-- client arguments]
//
// It reads the stack's outputs (cloudformation:DescribeStacks) for the
// endpoint, the port, the database and the human user, signs an IAM token
// for the real endpoint with your AWS credentials (profile, SSO, …), checks
// the login, and starts mariadb or mysql with TLS verified against the RDS
// CA bundle. Examples:
//
//	rdsiam connect                                   # from inside the VPC (CloudShell VPC environment)
//	rdsiam connect --ssm                             # through the stack's SSM bastion
//	rdsiam connect --via localhost:13306             # through your own port forwarding
//	rdsiam connect --print --ssm                     # settings for a GUI tool
//	rdsiam connect -- -e 'SELECT CURRENT_USER()'     # client arguments after --
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/rdsiam/rdsiam/internal/connect"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	var exit *connect.ExitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.Code)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "rdsiam:", err)
		os.Exit(1)
	}
}

const usage = "usage: rdsiam connect [flags] [-- client arguments]"

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "connect" {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	opts, profile, err := parseConnect(args[1:], stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var loadOpts []func(*config.LoadOptions) error
	if profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(profile))
	}
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return fmt.Errorf("%w: load the AWS configuration: %v", connect.ErrNoCredentials, err)
	}
	opts.FallbackRegion = awsCfg.Region
	opts.Credentials = awsCfg.Credentials
	opts.Outputs = connect.CloudFormationOutputs{API: cloudformation.NewFromConfig(awsCfg)}
	opts.Stdin, opts.Stdout, opts.Stderr = stdin, stdout, stderr
	return connect.Run(ctx, opts)
}

// parseConnect reads connect's flags; the AWS profile is returned apart
// because only the AWS configuration uses it.
func parseConnect(args []string, stderr io.Writer) (connect.Options, string, error) {
	var o connect.Options
	var profile string
	fs := flag.NewFlagSet("rdsiam connect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.StackName, "stack", connect.DefaultStackName, "stack whose outputs name the endpoint, database and human users")
	fs.StringVar(&o.Endpoint, "endpoint", "", "cluster endpoint host[:port] (default: the stack's ClusterEndpoint and ClusterPort outputs)")
	fs.StringVar(&o.Region, "region", "", "region to sign the token for (default: your AWS configuration's, else the endpoint's)")
	fs.StringVar(&profile, "profile", "", "AWS profile (default: AWS_PROFILE or the default profile)")
	fs.StringVar(&o.User, "user", "", "database user (default: the stack's only human user)")
	fs.StringVar(&o.Database, "database", "", "default database (default: the stack's DatabaseName output)")
	fs.StringVar(&o.Via, "via", "", "local tunnel host:port to dial instead of the endpoint; TLS is still verified for the endpoint's name")
	fs.BoolVar(&o.SSM, "ssm", false, "start SSM port forwarding through the stack's bastion (needs the AWS CLI and the Session Manager plugin)")
	fs.BoolVar(&o.Print, "print", false, "print settings for a GUI tool and keep the local TLS hop running until Ctrl-C")
	fs.StringVar(&o.Client, "client", "", "client program (default: mariadb, else mysql, from PATH)")
	fs.StringVar(&o.CAFile, "ca", "", "PEM file of CAs to verify the server with instead of the embedded RDS CA bundle (e.g. the local stand-in's ca.pem)")
	if err := fs.Parse(args); err != nil {
		return o, "", err
	}
	o.ClientArgs = fs.Args()
	if len(o.ClientArgs) > 0 && (len(args) < len(o.ClientArgs)+1 || args[len(args)-len(o.ClientArgs)-1] != "--") {
		return o, "", fmt.Errorf("unexpected argument %q: put client arguments after --", o.ClientArgs[0])
	}
	return o, profile, nil
}
