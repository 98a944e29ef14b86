// Package connect is `rdsiam connect`: it logs a person in to the stack's
// Aurora cluster with the same passwordless IAM login the functions use.
//
// It finds the endpoint (from the stack's outputs, or given), signs a token
// for the REAL endpoint with the caller's AWS credentials (a token signed
// for a tunnel's localhost is refused), checks the login once itself so the
// common failures get a clear message (no credentials, role not allowed,
// tunnel not up, TLS not verifiable), and then starts the MariaDB or Oracle
// MySQL client with that client's own TLS and cleartext flags, or prints
// settings for a GUI tool. The client always connects to a local TLS hop
// (see Hop), so the server is verified for its real name against the RDS CA
// bundle even when the bytes travel through --via or an SSM session; the
// token reaches the client in a 0600 option file that is deleted afterwards,
// never on a command line or in the environment.
package connect

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rdsiam/rdsiam/internal/stackoutputs"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/rdstls"
)

// DefaultStackName is the stack `rdsiam connect` reads when none is given
// (cdk.json's stackName).
const DefaultStackName = "RdsIam"

// Options configures Run.
type Options struct {
	// StackName is the stack whose outputs name the endpoint, the port, the
	// database and the human users. Default DefaultStackName.
	StackName string
	// Endpoint is "host" or "host:port" of the cluster; it overrides the
	// stack's outputs. The token is signed for it and TLS verified for its
	// host, whichever way the bytes travel.
	Endpoint string
	// Region signs the token. Default: the region in the endpoint name
	// (<id>.<region>.rds.amazonaws.com), else FallbackRegion. The endpoint's
	// own region comes before a profile's, which may be another one.
	Region string
	// FallbackRegion is the AWS configuration's region.
	FallbackRegion string
	// User is the database user. Default: the stack's only human user.
	User string
	// Database is the default schema. Default: the stack's DatabaseName.
	Database string
	// Via is a local tunnel's "host:port" (an SSM or SSH port forwarding)
	// to dial instead of the endpoint.
	Via string
	// SSM starts Session Manager port forwarding through the stack's
	// bastion (output BastionInstanceId) and uses it as Via.
	SSM bool
	// Print prints settings for a GUI tool and keeps the local hop running
	// until ctx ends, instead of starting a client.
	Print bool
	// Client is the client program (a name on PATH or a path). Default:
	// mariadb, else mysql.
	Client string
	// ClientArgs are passed to the client after rdsiam's own.
	ClientArgs []string
	// CAFile is a PEM file of CAs to verify the server with instead of the
	// embedded RDS CA bundle (the local stand-in's ca.pem).
	CAFile string

	// Credentials sign the token (config.LoadDefaultConfig's). Required.
	Credentials aws.CredentialsProvider
	// Outputs reads the stack's outputs; required unless Endpoint, User and
	// Database are all given.
	Outputs Outputs
	// StartSession starts the SSM session; nil means ExecStart.
	StartSession StartFunc
	// Stdin, Stdout and Stderr are the client's and the messages'.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Now is the clock the token is signed with; nil means time.Now.
	Now func() time.Time
}

// ExitError is a client that exited with a non-zero status.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("the client exited with status %d", e.Code) }

// target is what Run resolved: where, as whom, and how to get there.
type target struct {
	host     string
	port     int
	user     string
	database string
	region   string
	bastion  string
}

var regionInEndpoint = regexp.MustCompile(`\.([a-z]{2,}(?:-[a-z]+)+-\d+)\.rds\.amazonaws\.com(?:\.cn)?$`)

// resolve fills the target from the options and, when something is
// missing, the stack's outputs.
func (o *Options) resolve(ctx context.Context) (target, error) {
	t := target{user: o.User, database: o.Database, region: o.Region, port: iamdb.DefaultPort}
	var out map[string]string
	needOutputs := o.Endpoint == "" || o.User == "" || o.SSM
	if needOutputs {
		if o.Outputs == nil {
			return t, errors.New("connect: no --endpoint and --user given, and no way to read the stack's outputs")
		}
		var err error
		if out, err = o.Outputs.StackOutputs(ctx, o.StackName); err != nil {
			return t, err
		}
	}
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = out[stackoutputs.ClusterEndpoint]
		if endpoint == "" {
			return t, fmt.Errorf("connect: stack %q has no output %s; pass --endpoint", o.StackName, stackoutputs.ClusterEndpoint)
		}
		if p := out[stackoutputs.ClusterPort]; p != "" {
			endpoint = net.JoinHostPort(endpoint, p)
		}
	}
	host, port, err := splitEndpoint(endpoint)
	if err != nil {
		return t, err
	}
	t.host, t.port = host, port
	if t.user == "" {
		users := strings.Split(out[stackoutputs.HumanUsers], ",")
		switch {
		case out[stackoutputs.HumanUsers] == "":
			return t, fmt.Errorf("connect: stack %q has no human users (context key humanUsers); pass --user", o.StackName)
		case len(users) > 1:
			return t, fmt.Errorf("connect: stack %q has several human users (%s); pick one with --user", o.StackName, strings.Join(users, ", "))
		}
		t.user = users[0]
	}
	if t.database == "" && out != nil {
		t.database = out[stackoutputs.DatabaseName]
	}
	if t.region == "" {
		if m := regionInEndpoint.FindStringSubmatch(host); m != nil {
			t.region = m[1]
		} else if o.FallbackRegion != "" {
			t.region = o.FallbackRegion
		} else {
			return t, fmt.Errorf("connect: no region: pass --region (or set AWS_REGION / a profile region); the endpoint %q does not name one", host)
		}
	}
	if o.SSM {
		if t.bastion = out[stackoutputs.BastionInstanceID]; t.bastion == "" {
			return t, fmt.Errorf("connect: --ssm: stack %q has no output %s; deploy it with -c ssmBastion=true", o.StackName, stackoutputs.BastionInstanceID)
		}
	}
	return t, nil
}

// splitEndpoint reads "host" or "host:port".
func splitEndpoint(endpoint string) (string, int, error) {
	host, portText, err := net.SplitHostPort(endpoint)
	if err != nil {
		host, portText = endpoint, strconv.Itoa(iamdb.DefaultPort)
	}
	port, perr := strconv.Atoi(portText)
	if host == "" || strings.ContainsAny(host, "/@ ") || perr != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("connect: endpoint %q: want host or host:port (port 1-65535), e.g. mycluster.cluster-abc.eu-west-1.rds.amazonaws.com:3306", endpoint)
	}
	return host, port, nil
}

// Run connects as Options say. It returns an *ExitError when the client
// exits with a non-zero status.
func Run(ctx context.Context, o Options) error {
	if o.StackName == "" {
		o.StackName = DefaultStackName
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Via != "" && o.SSM {
		return errors.New("connect: --via and --ssm both name a tunnel; give one")
	}
	t, err := o.resolve(ctx)
	if err != nil {
		return err
	}
	if o.Credentials == nil {
		return fmt.Errorf("%w: no credentials provider", ErrNoCredentials)
	}
	if _, err := o.Credentials.Retrieve(ctx); err != nil {
		return fmt.Errorf("%w: %v. Sign in first (aws sso login --profile <profile>, then --profile or AWS_PROFILE)", ErrNoCredentials, err)
	}
	roots, err := rootCAs(o.CAFile)
	if err != nil {
		return err
	}
	tlsCfg, err := rdstls.Config(t.host, roots)
	if err != nil {
		return err
	}

	via := o.Via
	if o.SSM {
		start := o.StartSession
		if start == nil {
			start = ExecStart
		}
		fmt.Fprintf(o.Stderr, "rdsiam connect: starting SSM port forwarding through %s to %s:%d\n", t.bastion, t.host, t.port)
		addr, p, err := startSSMSession(ctx, start, o.Stderr, t.region, t.bastion, t.host, t.port)
		if err != nil {
			return err
		}
		defer p.Stop()
		via = addr
	}
	dial := func(ctx context.Context) (net.Conn, error) {
		addr := via
		if addr == "" {
			addr = net.JoinHostPort(t.host, strconv.Itoa(t.port))
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil && via != "" {
			return nil, fmt.Errorf("%w: nothing accepts connections at %s (--via): start the port forwarding first "+
				"(aws ssm start-session … or ssh -L), or use --ssm: %w", ErrTunnelNotUp, via, err)
		}
		return c, err
	}
	if err := preflight(ctx, o, t, tlsCfg, dial); err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "rdsiam-connect-")
	if err != nil {
		return fmt.Errorf("connect: temporary directory: %w", err)
	}
	defer os.RemoveAll(dir) // the option file with the token, and the hop's CA
	hop, err := StartHop(dial, tlsCfg, func(err error) { fmt.Fprintln(o.Stderr, "rdsiam connect:", err) })
	if err != nil {
		return err
	}
	defer hop.Close()
	caFile := filepath.Join(dir, "hop-ca.pem")
	if err := os.WriteFile(caFile, hop.CAPEM(), 0o600); err != nil {
		return fmt.Errorf("connect: write the hop's CA: %w", err)
	}
	signedAt := o.Now()
	token, err := iamdb.BuildToken(ctx, net.JoinHostPort(t.host, strconv.Itoa(t.port)), t.region, t.user, o.Credentials, signedAt)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoCredentials, err)
	}
	s := Session{Host: "127.0.0.1", Port: hop.Port(), User: t.user, Database: t.database, CAFile: caFile}
	if o.Print {
		printSettings(o.Stdout, t, s, token, signedAt)
		<-ctx.Done()
		return nil
	}
	client, err := DetectClient(ctx, o.Client)
	if err != nil {
		return err
	}
	if s.DefaultsFile, err = writeDefaultsFile(dir, token); err != nil {
		return err
	}
	fmt.Fprintf(o.Stderr, "rdsiam connect: %s as %s on %s:%d (region %s) with %s (%s)%s\n",
		client.Kind, t.user, t.host, t.port, t.region, client.Path, client.Version, viaNote(via))
	// Not CommandContext: Ctrl-C reaches the client itself (same terminal),
	// which cancels the running statement and carries on; killing it with
	// ctx would end the whole session instead. The hop outlives ctx until
	// the client exits.
	cmd := exec.Command(client.Path, client.Args(s, o.ClientArgs)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Exited() {
				return &ExitError{Code: st.ExitStatus()}
			}
		}
		return fmt.Errorf("connect: run %s: %w", client.Path, err)
	}
	return nil
}

func viaNote(via string) string {
	if via == "" {
		return ""
	}
	return " through " + via
}

// rootCAs is the RDS bundle, or the CAs in file.
func rootCAs(file string) (*x509.CertPool, error) {
	if file == "" {
		return rdstls.RootCAs()
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("connect: --ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("connect: --ca %s holds no PEM certificate", file)
	}
	return pool, nil
}

// printSettings writes what a GUI tool needs. The token is the password:
// printed only here, on request, to stdout, like aws rds
// generate-db-auth-token; it is good for 15 minutes.
func printSettings(w io.Writer, t target, s Session, token string, signedAt time.Time) {
	fmt.Fprintf(w, `Settings for a GUI tool; keep this running until you are done.
  host:        %s
  port:        %d
  user:        %s
  database:    %s
  password:    %s
  SSL/TLS:     required; verify the server certificate (VERIFY_IDENTITY / "verify-full")
  SSL CA file: %s
  cleartext authentication (mysql_clear_password): allow it if the tool asks; the token travels inside TLS
The password is an IAM token for %s:%d: new logins with it work until %s; run this again for a new one.
The tool connects to rdsiam's local TLS hop, which verifies the cluster as %s.
`, s.Host, s.Port, t.user, t.database, token, s.CAFile, t.host, t.port, signedAt.Add(iamdb.TokenLifetime).Format(time.Kitchen), t.host)
}
