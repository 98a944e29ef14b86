// Command benchtable runs rdsiam's benchmarks (package bench) several times
// and prints one Markdown table: for each measurement its median over the
// runs and the spread (lowest and highest), then the ratios the performance
// targets are stated in, each computed within one run (both sides measured
// by the same process, minutes apart at most) and then summarized the same
// way, and finally which targets are met.
//
// Usage, from anywhere in the repository (make bench and make bench-ci run it):
//
//	go run ./bench/cmd/benchtable [-runs 5] [-quick] [-gotest] [-raw file]
//
// -quick runs every benchmark once with one iteration: a check that they all
// still work, for CI; its numbers mean little. -gotest also times
// `go test ./...` on a warm build cache. -raw keeps the benchmarks' own
// output, in the format benchstat reads.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rdsiam/rdsiam/internal/jsiinode"
	"github.com/rdsiam/rdsiam/internal/modroot"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// group is one `go test -bench` invocation per run. Iteration counts are
// fixed (-benchtime Nx) so every run measures the same amount of work;
// count > 1 repeats the benchmark (interleaving its sub-benchmarks) and the
// run's value is the median of the repeats. A group marked once runs in the
// first run only.
type group struct {
	name, pattern, benchtime string
	count                    int
	once                     bool
}

var groups = []group{
	{"synth", "^BenchmarkSynth$", "1x", 3, false},
	{"synth, Node 20", "^BenchmarkSynthNode$", "1x", 3, true},
	{"synth, jsii package cache", "^BenchmarkSynthJsiiCache$", "1x", 1, true},
	{"cold start", "^(BenchmarkColdStart|BenchmarkRDSBundleParse)$", "10x", 1, false},
	{"binary size", "^BenchmarkBinarySize$", "1x", 1, true},
	{"new connection", "^BenchmarkConnect$", "300x", 1, false},
	{"new connection, simulated RTT", "^BenchmarkConnectRTT$", "200x", 1, false},
	{"warm invocation", "^BenchmarkWarm$", "2000x", 1, false},
	{"warm invocation, simulated RTT", "^BenchmarkWarmRTT$", "200x", 1, false},
	{"bootstrap", "^BenchmarkUserResource$", "30x", 1, false},
	{"RDS Proxy hop", "^BenchmarkProxyHop$", "200x", 1, false},
}

// results maps benchmark name (without the -GOMAXPROCS suffix) to unit to
// value, for one run.
type results map[string]map[string]float64

// samples collects a run's result lines before they become results: with
// -count there are several per benchmark.
type samples map[string]map[string][]float64

// results reduces each benchmark's samples to their median.
func (s samples) results() results {
	res := results{}
	for name, units := range s {
		res[name] = map[string]float64{}
		for unit, vs := range units {
			res[name][unit] = summarize(vs).med
		}
	}
	return res
}

func run() error {
	runs := flag.Int("runs", 5, "how many times to run every benchmark")
	quick := flag.Bool("quick", false, "one run, one iteration each: check the benchmarks work (CI)")
	gotest := flag.Bool("gotest", false, "also time `go test ./...` on a warm build cache")
	raw := flag.String("raw", "", "append the benchmarks' raw output to this file")
	flag.Parse()
	if *quick {
		*runs = 1
		for i := range groups {
			groups[i].benchtime = "1x"
			groups[i].count = 1
		}
	}
	if *runs < 1 {
		return fmt.Errorf("-runs %d: want at least 1", *runs)
	}

	root, err := modroot.Find(".")
	if err != nil {
		return err
	}
	machine := describeMachine(root)

	tmp, err := os.MkdirTemp("", "rdsiam-benchtable-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	testBin := filepath.Join(tmp, "bench.test")
	fmt.Fprintln(os.Stderr, "building the benchmark binary ...")
	if err := command(root, nil, io.Discard, "go", "test", "-c", "-o", testBin, "./bench"); err != nil {
		return err
	}

	var rawOut io.Writer = io.Discard
	if *raw != "" {
		if err := os.MkdirAll(filepath.Dir(*raw), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(*raw, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		rawOut = f
	}

	all := make([]results, 0, *runs)
	var checks []string
	loadBefore := loadAverage()
	started := time.Now()
	for i := range *runs {
		res := samples{}
		for _, g := range groups {
			if g.once && i > 0 {
				continue
			}
			fmt.Fprintf(os.Stderr, "run %d/%d: %s ...\n", i+1, *runs, g.name)
			var out bytes.Buffer
			// -test.v makes the benchmarks' logs (the checks) visible.
			err := command(filepath.Join(root, "bench"), nil, io.MultiWriter(&out, rawOut), testBin, "-test.v",
				"-test.run", "^$", "-test.bench", g.pattern, "-test.benchtime", g.benchtime, "-test.count", strconv.Itoa(g.count))
			if err != nil {
				return fmt.Errorf("%s benchmarks: %w\n%s", g.name, err, out.String())
			}
			parse(out.String(), res)
			checks = addChecks(checks, out.String())
		}
		all = append(all, res.results())
	}
	elapsed := time.Since(started)

	var goTest []measured
	if *gotest && !*quick {
		goTest, err = timeGoTest(root)
		if err != nil {
			return err
		}
	}

	t := &table{runs: all}
	printReport(os.Stdout, t, runInfo{machine: machine, runs: *runs, quick: *quick, elapsed: elapsed, loadBefore: loadBefore, loadAfter: loadAverage()}, goTest)
	if len(checks) > 0 {
		fmt.Fprintf(os.Stdout, "### Checks (logged by the benchmarks)\n\n")
		for _, c := range checks {
			fmt.Fprintf(os.Stdout, "- %s\n", c)
		}
		fmt.Fprintln(os.Stdout)
	}
	if missing := t.missing(); len(missing) > 0 {
		return fmt.Errorf("no result for %s: a benchmark was renamed or skipped", strings.Join(missing, ", "))
	}
	return nil
}

// command runs name args in dir with stdout and stderr to out.
func command(dir string, env []string, out io.Writer, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stdout = out
	cmd.Stderr = io.MultiWriter(out, &stderr)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return nil
}

// parse adds the result lines of `go test -bench` output to res:
// "BenchmarkX/sub-2  10  123 ns/op  4.5 p50-ns ...".
func parse(out string, res samples) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		if res[name] == nil {
			res[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				res[name][f[i+1]] = append(res[name][f[i+1]], v)
			}
		}
	}
}

// checkPrefixes mark the benchmarks' log lines that report a verification
// (jsii's package cache, the cold start's connect(2) trace).
var checkPrefixes = []string{"jsii package cache:", "strace:"}

// addChecks appends the verification lines in out not already in checks,
// with run-specific details (ports, paths) as logged.
func addChecks(checks []string, out string) []string {
	for line := range strings.SplitSeq(out, "\n") {
		line = strings.TrimSpace(line)
		// Log lines look like "synth_test.go:123: message".
		if _, msg, ok := strings.Cut(line, ": "); ok && strings.Contains(line, "_test.go:") {
			for _, p := range checkPrefixes {
				if strings.HasPrefix(msg, p) && !slices.Contains(checks, msg) {
					checks = append(checks, msg)
				}
			}
		}
	}
	return checks
}

// machine describes where the numbers come from.
type machine struct {
	cpus       int
	cpuModel   string
	goVersion  string
	nodePinned string
	nodeSystem string
}

func describeMachine(root string) machine {
	m := machine{cpus: runtime.NumCPU(), cpuModel: "unknown"}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpuModel = strings.TrimSpace(v)
				break
			}
		}
	}
	m.goVersion = output(root, "go", "version")
	m.nodePinned = "not available"
	if n, err := jsiinode.Resolve(jsiinode.HostEnv(root)); err == nil {
		m.nodePinned = output(root, n.Path, "--version")
	}
	m.nodeSystem = output(root, "/usr/bin/node", "--version")
	return m
}

// output is a command's trimmed standard output, or "not available".
func output(dir, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "not available"
	}
	return strings.TrimSpace(string(out))
}

// loadAverage is /proc/loadavg's first three fields: the machine is shared,
// and load from elsewhere shows up as spread.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// measured is a wall time measured outside the benchmarks.
type measured struct {
	label string
	took  []time.Duration
}

// timeGoTest times `go test ./...` after one unmeasured warm-up run (test
// results may come from the test cache, as for a developer re-running it),
// and `go test -count=1 ./...` (warm build cache, every test runs).
func timeGoTest(root string) ([]measured, error) {
	n, err := jsiinode.Resolve(jsiinode.HostEnv(root))
	if err != nil {
		return nil, err
	}
	env := []string{"JSII_NODE=" + n.Path}
	fmt.Fprintln(os.Stderr, "go test ./... (warm-up) ...")
	if err := command(root, env, io.Discard, "go", "test", "./..."); err != nil {
		return nil, err
	}
	var res []measured
	for _, args := range [][]string{{"test", "./..."}, {"test", "-count=1", "./..."}} {
		m := measured{label: "`go " + strings.Join(args, " ") + "`"}
		for range 2 {
			fmt.Fprintf(os.Stderr, "go %s ...\n", strings.Join(args, " "))
			start := time.Now()
			if err := command(root, env, io.Discard, "go", args...); err != nil {
				return nil, err
			}
			m.took = append(m.took, time.Since(start))
		}
		res = append(res, m)
	}
	return res, nil
}
