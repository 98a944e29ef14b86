package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want summary
	}{
		{nil, summary{}},
		{[]float64{3, 1, 2}, summary{n: 3, med: 2, min: 1, max: 3}},
		{[]float64{4, 1, 2, 3}, summary{n: 4, med: 2.5, min: 1, max: 4}},
	} {
		if got := summarize(tc.in); got != tc.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestPrintReport checks the report's lines for known runs: medians and
// spreads over runs, ratios taken within each run, targets judged on the
// median, and missing results named (except machine-dependent ones).
func TestPrintReport(t *testing.T) {
	for _, tc := range []struct {
		name          string
		defaultSynth  []float64 // per run; empty stack is 2 s in every run
		want, notWant []string
	}{
		{
			name:         "target met",
			defaultSynth: []float64{2.2e9, 2.4e9, 3.6e9},
			want: []string{
				"| default stack, Lambdas unchanged (build skipped) | 2.4s | 2.2s – 3.6s | 3 |",
				"| synth: default stack / empty stack | 1.20x | 1.10x – 1.80x | ≤ 1.5x | yes |",
			},
		},
		{
			name:         "target missed",
			defaultSynth: []float64{3.2e9, 3.4e9, 2e9},
			want:         []string{"| synth: default stack / empty stack | 1.60x | 1.00x – 1.70x | ≤ 1.5x | no |"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runs []results
			for _, d := range tc.defaultSynth {
				runs = append(runs, results{
					"BenchmarkSynth/empty":   {"ns/op": 2e9},
					"BenchmarkSynth/default": {"ns/op": d},
				})
			}
			tb := &table{runs: runs}
			var b bytes.Buffer
			printReport(&b, tb, runInfo{machine: machine{cpus: 2, cpuModel: "test CPU"}, runs: len(runs), elapsed: time.Minute}, nil)
			out := b.String()
			for _, w := range append(tc.want,
				"Machine: 2 CPUs, test CPU;",
				"| query init (exec to first /next) < 20 ms | missing | no |",
				"| Create (p50) | missing | | 0 |",
			) {
				if !strings.Contains(out, w) {
					t.Errorf("report lacks %q:\n%s", w, out)
				}
			}
			// The second Node is optional: its absence is not reported.
			if strings.Contains(out, "Node 20 | missing") || strings.Contains(out, "go test") {
				t.Errorf("report names an optional or absent measurement:\n%s", out)
			}
			miss := strings.Join(tb.missing(), "\n")
			if !strings.Contains(miss, "BenchmarkUserResource/create p50-ns") || strings.Contains(miss, "node20") || strings.Contains(miss, "BenchmarkSynth/default ") {
				t.Errorf("missing() = %s", miss)
			}
		})
	}
}
