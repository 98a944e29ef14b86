package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The report: medians, spreads, ratios and targets, printed as Markdown tables.

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

// runInfo is what the report says about how the numbers were taken.
type runInfo struct {
	machine               machine
	runs                  int
	quick                 bool
	elapsed               time.Duration
	loadBefore, loadAfter string
}

// printReport prints the whole report: how it was measured, the
// measurements, the go test timings, the ratios and the absolute targets.
func printReport(w io.Writer, t *table, info runInfo, goTest []measured) {
	printHeader(w, info)
	for _, s := range measurementSections() {
		printSection(w, t, s)
	}
	printGoTest(w, goTest)
	printRatios(w, t)
	printAbsoluteTargets(w, t)
}

func printHeader(w io.Writer, info runInfo) {
	m := info.machine
	fmt.Fprintf(w, "## rdsiam benchmarks\n\n")
	if info.quick {
		fmt.Fprintf(w, "**Quick mode (`-quick`): one iteration each, a check that the benchmarks run. Do not quote these numbers.**\n\n")
	}
	fmt.Fprintf(w, "Machine: %d CPUs, %s; %s; Node %s (pinned), %s (system). %d run(s) in %s; load average %s before, %s after.\n\n",
		m.cpus, m.cpuModel, m.goVersion, m.nodePinned, m.nodeSystem, info.runs, info.elapsed.Round(time.Second), info.loadBefore, info.loadAfter)
	fmt.Fprintf(w, "Median over runs, spread = lowest to highest run (a run's synth value is the median of its interleaved repeats). Latencies p50/p99 are within a run.\n\n")
}

// section is one measurement table of the report.
type section struct {
	title string
	rows  []row
}

func measurementSections() []section {
	return []section{
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
		{"Database-user custom resource (real handler)", []row{
			{"Create (p50)", p50("BenchmarkUserResource/create")},
			{"Create (p99)", p99("BenchmarkUserResource/create")},
			{"Update (p50)", p50("BenchmarkUserResource/update")},
			{"Update (p99)", p99("BenchmarkUserResource/update")},
		}},
	}
}

// printSection prints one measurement table: median and spread over runs.
// A missing measurement says so, unless it depends on the machine.
func printSection(w io.Writer, t *table, s section) {
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

func printGoTest(w io.Writer, goTest []measured) {
	if len(goTest) == 0 {
		return
	}
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

// printRatios prints each ratio taken within a run, summarized over runs,
// and whether its median meets the target.
func printRatios(w io.Writer, t *table) {
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
}

// printAbsoluteTargets prints the targets that are limits on one number.
func printAbsoluteTargets(w io.Writer, t *table) {
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
		{"RDS Proxy hop: new connection, proxy / direct (p50, paired)", metric{"BenchmarkProxyHop/connect", "proxy/direct-p50"}, metric{}, nil, "(stand-in relay: a floor)"},
		{"RDS Proxy hop: query, proxy / direct (p50, paired)", metric{"BenchmarkProxyHop/query", "proxy/direct-p50"}, metric{}, nil, "(stand-in relay: a floor)"},
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
