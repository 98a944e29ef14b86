// Package bench holds rdsiam's performance benchmarks. It has no library
// code: every measurement is a Go benchmark in a _test.go file named for it
// (synth, cold start, new connection, warm invocation, database-user resource), run
// against the local stand-in for Aurora (package auroralocal) and, for the
// synth, the pinned Node and CDK CLI. Nothing here calls AWS.
//
// `make bench` runs them several times through bench/cmd/benchtable, which
// prints medians, spread and the ratios the performance targets are stated
// in; `make bench-ci` runs each once to prove they still work. BENCHMARKS.md
// has the results and how to read them.
//
// Benchmarks report custom metrics besides ns/op: p50-ns and p99-ns for
// latency distributions, init-ms and first-ms for process cold starts,
// bytes for binary sizes. They never assert on time; they fail only when
// the thing measured does not work (a login refused, a wrong answer, an
// unexpected network call at init).
package bench
