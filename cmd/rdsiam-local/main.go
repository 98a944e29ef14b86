// Command rdsiam-local runs the whole rdsiam login path on a laptop, with no
// AWS account: it starts a local engine playing Aurora MySQL's IAM login
// (the auroralocal stand-in, or with -engine=mariadb a real MariaDB server
// with the AWSAuthenticationPlugin), gives it the IAM policies of the
// synthesized stack, creates the database user with the real
// custom-resource handler and invokes the real query handler, printing each
// step.
//
//	make local                       # synth, then run the flow
//	make local ENGINE=mariadb        # the same on MariaDB
//	go run ./cmd/rdsiam-local -serve # and keep serving for mysql / aws CLI
//
// With -serve it writes .build/local/ca.pem and .build/local/credentials
// (an AWS profile with the query role's local test keys) and prints the
// commands that log in with a standard MySQL client and a token from the
// AWS CLI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/rdsiam/rdsiam/auroralocal/fromstack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rdsiam-local:", err)
		os.Exit(1)
	}
}

func run() error {
	templatePath := flag.String("template", "cdk.out/RdsIam.template.json", "synthesized template (run `make synth` first)")
	serve := flag.Bool("serve", false, "keep the engine running for standard clients until interrupted")
	port := flag.Int("port", 0, "port for the engine on 127.0.0.1 (0 = any free port)")
	region := flag.String("region", "eu-west-1", "region the engine plays")
	engine := flag.String("engine", fromstack.EngineStandIn, "engine: "+strings.Join(fromstack.Engines(), " or "))
	dir := flag.String("dir", ".build/local", "where -serve writes ca.pem and credentials")
	flag.Parse()

	data, err := os.ReadFile(*templatePath)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s not found: run `make synth` first (or pass -template)", *templatePath)
	} else if err != nil {
		return err
	}
	stack, err := fromstack.Parse(data)
	if err != nil {
		return err
	}
	local, err := fromstack.Start(stack, fromstack.Options{Region: *region, Port: *port, Engine: *engine})
	if err != nil {
		return err
	}
	defer local.Server.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := local.Demo(ctx, os.Stdout); err != nil {
		return err
	}
	fmt.Println("==> all steps passed")
	if !*serve {
		return nil
	}

	ca, creds, err := local.WriteClientFiles(*dir)
	if err != nil {
		return err
	}
	// The credentials file holds the first query function's keys: log in
	// as the user its environment names.
	user := "app_user"
	if env, err := stack.FunctionEnv(local.Env, local.Server.Port()); err == nil {
		user = env["DB_USER"]
	}
	fmt.Printf(`
==> serving on %[1]s until Ctrl-C. Log in with standard tools:

  export AWS_SHARED_CREDENTIALS_FILE=%[2]s AWS_PROFILE=rdsiam-local AWS_EC2_METADATA_DISABLED=true
  TOKEN=$(aws rds generate-db-auth-token --hostname %[6]s --port %[3]d --region %[4]s --username %[5]s)
`, local.Server.Endpoint(), creds, local.Server.Port(), local.Server.Region(), user, local.Server.Host())
	clients := installedClients(exec.LookPath, hostVersion)
	fmt.Print(clientInstructions(clients, local.Server.Host(), local.Server.Port(), user, ca))
	fmt.Printf(tokenHostNote, local.Server.Port(), local.Server.Host())
	<-ctx.Done()
	return nil
}
