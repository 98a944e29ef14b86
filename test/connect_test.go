package test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/auroralocal/fromstack"
	"github.com/rdsiam/rdsiam/internal/connect"
	"github.com/rdsiam/rdsiam/internal/stackoutputs"
)

// `rdsiam connect` logs people in on the stand-in, which plays the cluster
// under its real-looking name and authorizes logins with the policies of
// the synthesized "people" stack: principals standing for SSO roles with a
// human user's managed policy attached (or none). The MariaDB client runs
// for real, through a TCP forwarder standing in for the tunnel: the token is
// signed for the real name while every byte goes through 127.0.0.1.

// realHost is the cluster name the stand-in plays; it resolves nowhere, so
// a login that did not go through the tunnel could not happen.
const realHost = "rdsiam.cluster-local0000.eu-west-1.rds.amazonaws.com"

// people: SSO roles of the test, by name.
const (
	readersRole = "AWSReservedSSO_DataReaders_0123456789abcdef"
	oncallRole  = "AWSReservedSSO_OnCall_0123456789abcdef"
	bareRole    = "AWSReservedSSO_NoDatabase_0123456789abcdef"
)

type peopleStandIn struct {
	local  *fromstack.Local
	caFile string
}

// (the fixture's server port is the real endpoint's port: Aurora's would be
// 3306, the stand-in's is ephemeral)
func (p *peopleStandIn) endpoint() string {
	return net.JoinHostPort(realHost, strconv.Itoa(p.local.Server.Port()))
}

func (p *peopleStandIn) keys(role string) aws.CredentialsProvider {
	k := p.local.PeopleKeys[role]
	return credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, "")
}

// outputRef is the logical id an output's {"Ref": id} names.
func outputRef(t *testing.T, tp *template, key string) string {
	t.Helper()
	m, _ := tp.Outputs[key].Value.(map[string]any)
	id, _ := m["Ref"].(string)
	if id == "" {
		t.Fatalf("output %s is not a Ref: %v", key, tp.Outputs[key].Value)
	}
	return id
}

func startPeopleStandIn(t *testing.T) *peopleStandIn {
	t.Helper()
	tp := tmpl(t, "people")
	l := startLocal(t, tp.Template, fromstack.Options{Endpoint: realHost, People: []fromstack.Person{
		{Name: readersRole, ManagedPolicyIDs: []string{outputRef(t, tp, stackoutputs.HumanUserPolicy(0))}},
		{Name: oncallRole, ManagedPolicyIDs: []string{outputRef(t, tp, stackoutputs.HumanUserPolicy(1))}},
		{Name: bareRole},
	}})
	s := l.Stack
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range s.UserIDs {
		props, err := l.UserProperties(id)
		if err != nil {
			t.Fatal(err)
		}
		props["Endpoint"] = "localhost" // the user provider is not under test here; realHost does not resolve
		if _, err := l.ProviderHandler(nil).Handle(ctx, l.UserEvent("Create", id, "", props, nil)); err != nil {
			t.Fatalf("create %s: %v", id, err)
		}
	}
	caFile := filepath.Join(t.TempDir(), "standin-ca.pem")
	if err := l.Server.WriteCA(caFile); err != nil {
		t.Fatal(err)
	}
	return &peopleStandIn{local: l, caFile: caFile}
}

// forwarder is a TCP relay standing in for a tunnel (SSM or ssh -L).
type forwarder struct {
	ln       net.Listener
	accepted atomic.Int64
	wg       sync.WaitGroup
}

func startForwarder(t *testing.T, listen, target string) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{ln: ln}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.accepted.Add(1)
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				done := make(chan struct{}, 2)
				go func() { io.Copy(up, c); done <- struct{}{} }()
				go func() { io.Copy(c, up); done <- struct{}{} }()
				<-done
			}()
		}
	}()
	t.Cleanup(f.close)
	return f
}

func (f *forwarder) close()       { f.ln.Close() }
func (f *forwarder) addr() string { return f.ln.Addr().String() }

// needClient returns the MariaDB client, or skips (fails in CI, which
// installs it: .ci/run).
func needClient(t *testing.T) {
	t.Helper()
	for _, name := range []string{"mariadb", "mysql"} {
		if _, err := exec.LookPath(name); err == nil {
			return
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no mariadb or mysql client on PATH; .ci/run installs mariadb-client")
	}
	t.Skip("no mariadb or mysql client on PATH (apt-get install mariadb-client)")
}

func TestConnectLogsAPersonInThroughATunnel(t *testing.T) {
	needClient(t)
	p := startPeopleStandIn(t)
	standin := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.local.Server.Port()))
	tunnel := startForwarder(t, "127.0.0.1:0", standin)

	run := func(t *testing.T, creds aws.CredentialsProvider, user string, args ...string) (string, string, error) {
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := connect.Run(ctx, connect.Options{
			Endpoint: p.endpoint(), User: user, Database: "appdb", Via: tunnel.addr(), CAFile: p.caFile,
			Credentials: creds, ClientArgs: args, Stdout: &stdout, Stderr: &stderr,
		})
		return stdout.String(), stderr.String(), err
	}

	t.Run("the reader logs in as people_ro over TLS", func(t *testing.T) {
		before := tunnel.accepted.Load()
		out, stderr, err := run(t, p.keys(readersRole), "people_ro", "--batch", "--skip-column-names",
			"-e", "SELECT CURRENT_USER(); SHOW STATUS LIKE 'Ssl_cipher'")
		if err != nil {
			t.Fatalf("connect: %v\nstderr: %s", err, stderr)
		}
		if !strings.Contains(out, "people_ro@%") {
			t.Errorf("CURRENT_USER() = %q, want people_ro@%%", out)
		}
		if !strings.Contains(out, "Ssl_cipher\t") || strings.Contains(out, "Ssl_cipher\t\n") {
			t.Errorf("no TLS cipher in %q", out)
		}
		if !strings.Contains(stderr, "MariaDB as people_ro on "+realHost) {
			t.Errorf("stderr does not say which client and endpoint: %q", stderr)
		}
		// The login check and the client's session both went through the tunnel.
		if n := tunnel.accepted.Load() - before; n < 2 {
			t.Errorf("the tunnel carried %d connections, want at least 2", n)
		}
	})

	t.Run("people_ro cannot write", func(t *testing.T) {
		_, stderr, err := run(t, p.keys(readersRole), "people_ro", "-e", "CREATE TABLE appdb.notes (id INT)")
		var exit *connect.ExitError
		if !errors.As(err, &exit) || exit.Code == 0 {
			t.Fatalf("CREATE TABLE as people_ro: err = %v (stderr %q), want the client to fail", err, stderr)
		}
	})

	t.Run("a role whose policy lacks the user is refused", func(t *testing.T) {
		for _, tc := range []struct{ role, user string }{
			{oncallRole, "people_ro"}, // the on-call policy names oncall only
			{bareRole, "people_ro"},   // an SSO role without any connect policy
			{readersRole, "oncall"},   // the readers' policy names people_ro only
		} {
			_, _, err := run(t, p.keys(tc.role), tc.user, "-e", "SELECT 1")
			if !errors.Is(err, connect.ErrNotAllowed) || !strings.Contains(err.Error(), "1045") || !strings.Contains(err.Error(), "HumanUser<N>Policy") {
				t.Errorf("%s as %s: err = %v, want ErrNotAllowed explaining the policy", tc.role, tc.user, err)
			}
		}
		// The on-call role does log in as its own user.
		if out, stderr, err := run(t, p.keys(oncallRole), "oncall", "--batch", "--skip-column-names", "-e", "SELECT CURRENT_USER()"); err != nil || !strings.Contains(out, "oncall@%") {
			t.Errorf("oncall: %q, %v (%s)", out, err, stderr)
		}
	})

	t.Run("a certificate for another name is not verifiable", func(t *testing.T) {
		var stderr bytes.Buffer
		err := connect.Run(context.Background(), connect.Options{
			Endpoint: net.JoinHostPort("rdsiam.cluster-other000.eu-west-1.rds.amazonaws.com", strconv.Itoa(p.local.Server.Port())),
			User:     "people_ro", Via: tunnel.addr(), CAFile: p.caFile, Credentials: p.keys(readersRole), Stderr: &stderr,
		})
		if !errors.Is(err, connect.ErrTLSNotVerifiable) || !strings.Contains(err.Error(), "cluster-other000") {
			t.Errorf("err = %v, want ErrTLSNotVerifiable naming the endpoint", err)
		}
	})
}

// TestConnectSSM drives --ssm with the session faked: the fake checks the
// command names the bastion and the real endpoint, and forwards its local
// port to the stand-in, as the Session Manager plugin would.
func TestConnectSSM(t *testing.T) {
	needClient(t)
	p := startPeopleStandIn(t)
	port := strconv.Itoa(p.local.Server.Port())
	var argv []string
	start := func(ctx context.Context, a []string, _ io.Writer) (connect.Process, error) {
		argv = a
		i := slices.Index(a, "--parameters")
		_, local, _ := strings.Cut(a[i+1], "localPortNumber=")
		f := startForwarder(t, "127.0.0.1:"+local, "127.0.0.1:"+port)
		return connect.Process{Done: make(chan error), Stop: f.close}, nil
	}
	var stdout, stderr bytes.Buffer
	err := connect.Run(context.Background(), connect.Options{
		SSM: true, CAFile: p.caFile, Credentials: p.keys(readersRole), StartSession: start,
		Outputs: connect.StaticOutputs{
			stackoutputs.ClusterEndpoint: realHost, stackoutputs.ClusterPort: port, stackoutputs.DatabaseName: "appdb",
			stackoutputs.HumanUsers: "people_ro", stackoutputs.BastionInstanceID: "i-0123456789abcdef0",
		},
		ClientArgs: []string{"--batch", "--skip-column-names", "-e", "SELECT CURRENT_USER()"},
		Stdout:     &stdout, Stderr: &stderr,
	})
	if err != nil {
		t.Fatalf("connect --ssm: %v\nstderr: %s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "people_ro@%") {
		t.Errorf("CURRENT_USER() = %q", stdout.String())
	}
	want := "host=" + realHost + ",portNumber=" + port + ",localPortNumber="
	if len(argv) < 3 || argv[1] != "ssm" || !slices.Contains(argv, "i-0123456789abcdef0") || !strings.Contains(strings.Join(argv, " "), want) {
		t.Errorf("session command %q, want aws ssm start-session to the bastion with %q", argv, want)
	}
}

// TestConnectPrintForGUITools: the settings --print gives work as printed:
// a MySQL driver (as a GUI tool would use) logs in with them through the
// hop, verifying the hop's certificate with the printed CA file.
func TestConnectPrintForGUITools(t *testing.T) {
	p := startPeopleStandIn(t)
	tunnel := startForwarder(t, "127.0.0.1:0", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.local.Server.Port())))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- connect.Run(ctx, connect.Options{
			Endpoint: p.endpoint(), User: "people_ro", Database: "appdb", Via: tunnel.addr(), CAFile: p.caFile,
			Credentials: p.keys(readersRole), Print: true, Stdout: pw,
		})
		pw.Close()
	}()
	settings := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if ok {
			settings[k] = strings.TrimSpace(v)
		}
		if strings.HasPrefix(sc.Text(), "The tool connects") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	for _, k := range []string{"host", "port", "user", "password", "SSL CA file"} {
		if settings[k] == "" {
			t.Fatalf("no %q in the printed settings %v", k, settings)
		}
	}
	pem, err := os.ReadFile(settings["SSL CA file"])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("the printed CA file holds no certificate")
	}
	if err := mysql.RegisterTLSConfig("rdsiam-print-test", &tls.Config{RootCAs: pool, ServerName: settings["host"], MinVersion: tls.VersionTLS12}); err != nil {
		t.Fatal(err)
	}
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(settings["host"], settings["port"])
	cfg.User, cfg.Passwd, cfg.DBName = settings["user"], settings["password"], settings["database"]
	cfg.TLSConfig, cfg.AllowCleartextPasswords = "rdsiam-print-test", true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var who string
	if err := db.QueryRow("SELECT CURRENT_USER()").Scan(&who); err != nil || who != "people_ro@%" {
		t.Errorf("CURRENT_USER() = %q, %v", who, err)
	}
	db.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after Ctrl-C: %v", err)
	}
	if _, err := os.Stat(settings["SSL CA file"]); !os.IsNotExist(err) {
		t.Errorf("the hop's CA file is still there after the run: %v", err)
	}
}
