package bench

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rdsiam/rdsiam/internal/lambdabuild"
	"github.com/rdsiam/rdsiam/internal/modroot"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// moduleRoot is the repository root (benchmarks run in bench/).
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	root, err := modroot.Find(".")
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// goBuild builds pkg (relative to the module root) with the production
// flags for goos/goarch into dir and returns the binary's path.
func goBuild(tb testing.TB, dir, pkg, goos, goarch string) string {
	tb.Helper()
	out := filepath.Join(dir, filepath.Base(pkg)+"-"+goos+"-"+goarch)
	args := append(lambdabuild.BuildFlags(), "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot(tb)
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s for %s/%s: %v\n%s", pkg, goos, goarch, err, msg)
	}
	return out
}

// BenchmarkBinarySize reports the size of the production query and dbuser
// binaries (linux/arm64, production flags) as the metric "bytes". Target for
// query: under 12 MB (12,000,000 bytes). The loop does nothing: size does not
// vary, and benchmarks are how every number here is reported.
func BenchmarkBinarySize(b *testing.B) {
	dir := b.TempDir()
	for _, pkg := range []string{"./lambda/cmd/query", "./lambda/cmd/dbuser"} {
		b.Run(filepath.Base(pkg), func(b *testing.B) {
			st, err := os.Stat(goBuild(b, dir, pkg, "linux", "arm64"))
			if err != nil {
				b.Fatal(err)
			}
			for range b.N {
			}
			b.ReportMetric(float64(st.Size()), "bytes")
		})
	}
}

// runtimeAPI is a stub of the Lambda Runtime API (2018-06-01) for one
// function process: the first GET .../invocation/next gets event (or, with
// a nil event, is held open: init-only runs), later ones are held open until
// the process is killed. It records when the first /next arrived and the
// first response or error, and calls onFirstNext before answering it.
type runtimeAPI struct {
	event       []byte
	onFirstNext func()
	srv         *http.Server
	addr        string

	nexts    atomic.Int32
	firstAt  chan time.Time // one value: arrival of the first /next
	resultAt chan apiResult // one value: first /response or /error
}

type apiResult struct {
	at    time.Time
	body  []byte
	isErr bool
}

func startRuntimeAPI(event []byte, onFirstNext func()) (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API stub: %w", err)
	}
	api := &runtimeAPI{
		event: event, onFirstNext: onFirstNext, addr: ln.Addr().String(),
		firstAt: make(chan time.Time, 1), resultAt: make(chan apiResult, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", api.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		api.result(w, r, false)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		api.result(w, r, true)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		api.result(w, r, true)
	})
	api.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go api.srv.Serve(ln)
	return api, nil
}

func (api *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	if api.nexts.Add(1) != 1 || api.event == nil {
		if api.nexts.Load() == 1 {
			api.firstAt <- time.Now()
			if api.onFirstNext != nil {
				api.onFirstNext()
			}
		}
		<-r.Context().Done() // held until the process goes away
		return
	}
	api.firstAt <- time.Now()
	if api.onFirstNext != nil {
		api.onFirstNext()
	}
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", "bench-request-1")
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(15*time.Second).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:query")
	h.Set("Content-Type", "application/json")
	w.Write(api.event)
}

func (api *runtimeAPI) result(w http.ResponseWriter, r *http.Request, isErr bool) {
	body, _ := io.ReadAll(r.Body)
	select {
	case api.resultAt <- apiResult{at: time.Now(), body: body, isErr: isErr}:
	default:
	}
	w.WriteHeader(http.StatusAccepted)
}

func (api *runtimeAPI) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	api.srv.Shutdown(ctx)
	api.srv.Close()
}

// canary is a TCP listener that counts connections: every AWS endpoint and
// proxy variable of the function points at it, so any call the function
// makes to AWS (credentials, IMDS, STS, any service) or through a proxy
// shows up as a count above zero.
type canary struct {
	ln    net.Listener
	count atomic.Int64
}

func startCanary(tb testing.TB) *canary {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	c := &canary{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.count.Add(1)
			conn.Close()
		}
	}()
	tb.Cleanup(func() { ln.Close() })
	return c
}

func (c *canary) url() string { return "http://" + c.ln.Addr().String() }

// functionEnv is the environment of a function process: what Lambda and the
// stack give the query function, the query role's keys as Lambda passes
// them (environment variables), no AWS configuration files, and every AWS
// endpoint and proxy pointed at the canary.
func functionEnv(s *standIn, c *canary, apiAddr, caFile, home string) []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + apiAddr,
		"AWS_LAMBDA_FUNCTION_NAME=query",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_REGION=" + s.srv.Region(),
		"AWS_DEFAULT_REGION=" + s.srv.Region(),
		"AWS_ACCESS_KEY_ID=" + s.keys.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + s.keys.SecretAccessKey,
		"HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "no-aws-credentials"),
		"AWS_ENDPOINT_URL=" + c.url(),
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + c.url(),
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + c.url() + "/credentials",
		"HTTP_PROXY=" + c.url(),
		"HTTPS_PROXY=" + c.url(),
		queryfn.EnvEndpoint + "=" + s.srv.Host(),
		queryfn.EnvPort + "=" + strconv.Itoa(s.srv.Port()),
		queryfn.EnvUser + "=" + iamUser,
		queryfn.EnvDatabase + "=" + database,
		queryfn.EnvRegion + "=" + s.srv.Region(),
		"RDSIAM_BENCH_CA_FILE=" + caFile,
	}
}

// coldStart is one measured process start.
type coldStart struct {
	init      time.Duration // exec to the first /next
	first     time.Duration // exec to the first response; 0 in init-only runs
	dbAtNext  uint64        // stand-in connections opened between exec and the first /next
	dbAtFirst uint64        // ... and between exec and the first response
	response  []byte
	apiPort   string // the Runtime API stub's port
}

// runColdStart execs bin (optionally under a wrapper command such as
// strace) with a fresh Runtime API stub, waits for its first /next and, if
// event is set, for the answer to it, then kills the process.
func runColdStart(s *standIn, c *canary, bin string, wrapper []string, event []byte, caFile, home string) (coldStart, error) {
	var res coldStart
	base := s.srv.Stats().ConnectionsOpened
	var atNext atomic.Uint64
	api, err := startRuntimeAPI(event, func() { atNext.Store(s.srv.Stats().ConnectionsOpened - base) })
	if err != nil {
		return res, err
	}
	defer api.close()
	_, res.apiPort, _ = net.SplitHostPort(api.addr)

	argv := append(append([]string{}, wrapper...), bin)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = functionEnv(s, c, api.addr, caFile, home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	exited := make(chan error, 1)

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { exited <- cmd.Wait() }()
	defer func() {
		// The process group: a wrapper's child goes too.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}()

	timeout := time.After(30 * time.Second)
	select {
	case at := <-api.firstAt:
		res.init = at.Sub(start)
	case err := <-exited:
		exited <- err
		return res, fmt.Errorf("%s exited before asking for an invocation: %v\n%s", bin, err, stderr.String())
	case <-timeout:
		return res, fmt.Errorf("%s: no /next within 30s\n%s", bin, stderr.String())
	}
	if event == nil {
		// /next is handled on the server's goroutine; wait for the hook.
		time.Sleep(time.Millisecond)
		res.dbAtNext = atNext.Load()
		return res, nil
	}
	select {
	case r := <-api.resultAt:
		res.first = r.at.Sub(start)
		res.response = r.body
		if r.isErr {
			return res, fmt.Errorf("%s answered with an error: %s\n%s", bin, r.body, stderr.String())
		}
	case err := <-exited:
		exited <- err
		return res, fmt.Errorf("%s exited before answering: %v\n%s", bin, err, stderr.String())
	case <-timeout:
		return res, fmt.Errorf("%s: no answer within 30s\n%s", bin, stderr.String())
	}
	res.dbAtNext = atNext.Load()
	res.dbAtFirst = s.srv.Stats().ConnectionsOpened - base
	return res, nil
}

// BenchmarkColdStart measures the query function as a process, from exec
// to the Runtime API, against the stand-in, with host-arch builds made with
// the production flags:
//
//   - empty: a do-nothing aws-lambda-go function (bench/cmd/emptylambda):
//     process start, Go runtime and aws-lambda-go; the floor of init-ms.
//   - query: the production binary (lambda/cmd/query), init only: exec to
//     the first /next is all the init work a Lambda pays before the first
//     request. Target: under 20 ms.
//   - query-first: bench/cmd/querycold (the same init, trusting the
//     stand-in's CA) through its first whoami: first-ms is exec to the
//     answer, including the first IAM connection.
//
// Every run checks that init opens no database connection (the stand-in
// saw none before /next), that nothing at all calls AWS or a proxy (the
// canary saw no connection), and that the first request opens exactly one
// database connection. When strace is installed one extra query-first run
// records every connect(2) and fails on any beyond the Runtime API and the
// database.
func BenchmarkColdStart(b *testing.B) {
	s := startStandIn(b)
	c := startCanary(b)
	dir := b.TempDir()
	caFile := filepath.Join(dir, "standin-ca.pem")
	if err := s.srv.WriteCA(caFile); err != nil {
		b.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		b.Fatal(err)
	}
	bins := map[string]string{}
	for name, pkg := range map[string]string{
		"empty": "./bench/cmd/emptylambda", "query": "./lambda/cmd/query", "query-first": "./bench/cmd/querycold",
	} {
		bins[name] = goBuild(b, dir, pkg, runtime.GOOS, runtime.GOARCH)
	}
	whoami := []byte(`{"action":"whoami"}`)

	if path, err := exec.LookPath("strace"); err != nil {
		b.Log("strace: not installed, connect(2) check skipped; the stand-in and canary checks still ran")
	} else if out, err := exec.Command(path, "-qq", "-e", "trace=none", "true").CombinedOutput(); err != nil {
		// A container without ptrace rights has strace but cannot use it.
		b.Logf("strace: cannot trace here (%v: %s), connect(2) check skipped; the stand-in and canary checks still ran",
			err, bytes.TrimSpace(out))
	} else {
		checkConnects(b, s, c, path, bins["query-first"], whoami, caFile, home)
	}

	for _, name := range []string{"empty", "query", "query-first"} {
		b.Run(name, func(b *testing.B) {
			var event []byte
			if name == "query-first" {
				event = whoami
			}
			inits, firsts := newLatencies(b.N), newLatencies(b.N)
			for range b.N {
				r, err := runColdStart(s, c, bins[name], nil, event, caFile, home)
				if err != nil {
					b.Fatal(err)
				}
				inits.add(r.init)
				if r.dbAtNext != 0 {
					b.Fatalf("%s opened %d database connection(s) before asking for its first invocation: init must not connect", name, r.dbAtNext)
				}
				if event != nil {
					firsts.add(r.first)
					if r.dbAtFirst != 1 {
						b.Fatalf("first whoami opened %d database connections, want 1", r.dbAtFirst)
					}
					var resp queryfn.Response
					if err := json.Unmarshal(r.response, &resp); err != nil || resp.User != iamUser+"@%" || resp.TLSCipher == "" {
						b.Fatalf("first whoami answered %s (%v); want %s@%% over TLS", r.response, err, iamUser)
					}
				}
				if n := c.count.Load(); n != 0 {
					b.Fatalf("%s made %d connection(s) to AWS endpoints or a proxy", name, n)
				}
			}
			b.ReportMetric(float64(inits.percentile(50).Microseconds())/1000, "init-ms")
			if event != nil {
				b.ReportMetric(float64(firsts.percentile(50).Microseconds())/1000, "first-ms")
			}
		})
	}
}

// connectRE matches an IPv4 or IPv6 connect(2) line of strace and captures
// the port.
var connectRE = regexp.MustCompile(`connect\(\d+, \{sa_family=(AF_INET6?), sin6?_port=htons\((\d+)\)`)

// checkConnects runs one cold start of bin through its first whoami under
// strace and fails b if the process connected anywhere but the Runtime API
// and the database (AF_UNIX or any other family counts as elsewhere).
func checkConnects(b *testing.B, s *standIn, c *canary, strace, bin string, event []byte, caFile, home string) {
	b.Helper()
	trace := filepath.Join(b.TempDir(), "connect.trace")
	wrapper := []string{strace, "-f", "-qq", "-e", "trace=connect", "-o", trace}
	r, err := runColdStart(s, c, bin, wrapper, event, caFile, home)
	if err != nil {
		b.Fatalf("cold start under strace: %v", err)
	}
	data, err := os.ReadFile(trace)
	if err != nil {
		b.Fatalf("strace output: %v", err)
	}
	dbPort := strconv.Itoa(s.srv.Port())
	var seen []string
	for line := range strings.SplitSeq(string(data), "\n") {
		if !strings.Contains(line, "connect(") {
			continue
		}
		m := connectRE.FindStringSubmatch(line)
		if m == nil {
			b.Fatalf("function connected to something other than TCP: %s", line)
		}
		seen = append(seen, m[2])
		if m[2] != dbPort && m[2] != r.apiPort {
			b.Fatalf("function connected to port %s, neither the database (%s) nor the Runtime API (%s): %s", m[2], dbPort, r.apiPort, line)
		}
	}
	if !slices.Contains(seen, dbPort) || !slices.Contains(seen, r.apiPort) {
		b.Fatalf("strace saw connects to ports %v; want the database (%s) and the Runtime API (%s): is the trace complete?", seen, dbPort, r.apiPort)
	}
	b.Logf("strace: all %d connect(2) calls of a cold start through its first whoami went to the Runtime API or the database", len(seen))
}

// BenchmarkRDSBundleParse measures parsing the Amazon RDS CA bundle that
// lambda/rdstls embeds (decode every PEM block, parse each certificate, add
// it to a pool): the work rdstls.RootCAs does once per process. The
// production binary pays it during init, because iamdb.NewConnector calls
// rdstls.Config(host, nil); querycold, which brings its own CA, does not,
// which is most of the difference between their init times.
func BenchmarkRDSBundleParse(b *testing.B) {
	pemData, err := os.ReadFile(filepath.Join(moduleRoot(b), "lambda", "rdstls", "global-bundle.pem"))
	if err != nil {
		b.Fatal(err)
	}
	lat := newLatencies(b.N)
	certs := 0
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		pool := x509.NewCertPool()
		certs = 0
		for rest := pemData; ; {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				b.Fatal(err)
			}
			pool.AddCert(c)
			certs++
		}
		lat.add(time.Since(start))
	}
	lat.report(b)
	b.ReportMetric(float64(certs), "certs")
}
