package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rdsiam/rdsiam/internal/jsiinode"
)

// Paths below the module root that `make setup` installs.
const (
	cdkCLI     = "node_modules/aws-cdk/bin/cdk"
	systemNode = "/usr/bin/node"
)

// synthRun is one way of running `cdk synth`.
type synthRun struct {
	name string
	// app is the CDK CLI's --app: the real app as cdk.json runs it, or
	// the empty-stack baseline.
	app string
	// template is the file the synth must write.
	template string
	// node runs both the CDK CLI and, as JSII_NODE, the app's jsii kernel.
	node string
	// env is added to the environment.
	env []string
	// before runs before each synth, untimed; it may return an extra
	// environment (a fresh directory, say) for that one synth.
	before func(b *testing.B) []string
	// after runs after each synth, untimed, with what before returned.
	after func(b *testing.B, env []string)
}

// The CDK CLI's --app for each side, and the template each must write.
const (
	realApp  = "go run ."
	emptyApp = "go run ./bench/cmd/emptysynth"
	realTmpl = "RdsIam.template.json"
	emptyTpl = "Empty.template.json"
)

// synthSetup is what every synth benchmark needs: the repository root and
// the pinned Node. The first call also warms up (one synth of each app:
// go run's executable cache, the Lambda build keys, jsii's package cache),
// once per process, so repeated runs (-count) measure steady state.
func synthSetup(b *testing.B) (root, node24 string) {
	b.Helper()
	root = moduleRoot(b)
	n, err := jsiinode.Resolve(jsiinode.HostEnv(root))
	if err != nil {
		b.Fatal(err)
	}
	node24 = n.Path
	for _, p := range []string{node24, filepath.Join(root, cdkCLI)} {
		if _, err := os.Stat(p); err != nil {
			b.Fatalf("%s is missing: run `make setup` first", p)
		}
	}
	warmUp.Do(func() {
		dir, err := os.MkdirTemp("", "rdsiam-bench-warmup-")
		if err != nil {
			warmUpErr = err
			return
		}
		defer os.RemoveAll(dir)
		for _, r := range []synthRun{
			{name: "warm-up empty", app: emptyApp, template: emptyTpl, node: node24},
			{name: "warm-up default", app: realApp, template: realTmpl, node: node24},
		} {
			if _, err := synth(root, r, filepath.Join(dir, r.name), nil); err != nil {
				warmUpErr = err
				return
			}
		}
	})
	if warmUpErr != nil {
		b.Fatal(warmUpErr)
	}
	return root, node24
}

var (
	warmUp    sync.Once
	warmUpErr error
)

// synthOut holds one output folder per variant for the whole process, like
// the cdk.out that `make synth` reuses: assets already staged there are not
// copied again. TestMain removes it.
var synthOut = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "rdsiam-bench-cdkout-")
	synthOutDir.Store(&dir)
	return dir, err
})

// synthOutDir is synthOut's folder once it exists.
var synthOutDir atomic.Pointer[string]

// runSynths runs each of runs as a sub-benchmark, b.N synths each.
func runSynths(b *testing.B, root string, runs []synthRun) {
	out, err := synthOut()
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range runs {
		b.Run(r.name, func(b *testing.B) {
			dir := filepath.Join(out, r.name)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				var extra []string
				if r.before != nil {
					extra = r.before(b)
				}
				b.StartTimer()
				if _, err := synth(root, r, dir, extra); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if r.after != nil {
					r.after(b, extra)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkSynth measures `cdk synth` wall time as `make synth` runs it:
// the pinned CDK CLI starts the app with `go run`, the app starts Node and
// the jsii kernel, loads aws-cdk-lib, builds the Lambdas, constructs the
// stack and writes the cloud assembly, which the CLI reads back. Variants,
// all on the pinned Node 24:
//
//   - empty: bench/cmd/emptysynth, an App with one empty Stack - the
//     baseline every synth pays.
//   - default: the real app (cdk.json's "go run ."), Lambdas unchanged, so
//     their builds are skipped by the build key. Target: within 1.5x of
//     empty.
//   - default-rebuild: the same with the build keys deleted before each
//     synth, so both Lambdas are built (relinked) every time, as every
//     synth did before the build key.
//
// Run it with -count N (and -benchtime 1x) for N interleaved samples of
// each: the machine is shared, and interleaving spreads its load evenly.
func BenchmarkSynth(b *testing.B) {
	root, node24 := synthSetup(b)
	runSynths(b, root, []synthRun{
		{name: "empty", app: emptyApp, template: emptyTpl, node: node24},
		{name: "default", app: realApp, template: realTmpl, node: node24},
		{name: "default-rebuild", app: realApp, template: realTmpl, node: node24, before: func(b *testing.B) []string {
			removeBuildKeys(b, root)
			return nil
		}},
	})
}

// BenchmarkSynthNode compares the machine's Node (20) with the pinned Node
// 24 for the CLI and jsii, each beside its Node 24 baseline in the same run:
// empty, default (as in BenchmarkSynth), empty-node20, default-node20. It
// is skipped when there is no other Node.
func BenchmarkSynthNode(b *testing.B) {
	root, node24 := synthSetup(b)
	major := nodeMajor(systemNode)
	if major == "" || major == nodeMajor(node24) {
		b.Skipf("%s missing or the same major version as the pinned Node: no comparison", systemNode)
	}
	runSynths(b, root, []synthRun{
		{name: "empty", app: emptyApp, template: emptyTpl, node: node24},
		{name: "empty-node" + major, app: emptyApp, template: emptyTpl, node: systemNode},
		{name: "default", app: realApp, template: realTmpl, node: node24},
		{name: "default-node" + major, app: realApp, template: realTmpl, node: systemNode},
	})
}

// BenchmarkSynthJsiiCache shows what jsii's package cache is worth, beside
// the empty-stack baseline with the cache warm (empty):
//
//   - empty-jsiicache-off: JSII_RUNTIME_PACKAGE_CACHE=disabled, jsii
//     extracts every package tarball on every run.
//   - empty-jsiicache-cold: a new, empty JSII_RUNTIME_PACKAGE_CACHE_ROOT
//     each time, as on a clean machine's or CI runner's first synth; each
//     run must leave aws-cdk-lib in it.
//
// Before measuring it proves the cache is used (checkJsiiCache). The
// variants take 15 s and more each: benchtable runs them once.
func BenchmarkSynthJsiiCache(b *testing.B) {
	root, node24 := synthSetup(b)
	checkJsiiCache(b, root, synthRun{name: "cache check", app: emptyApp, template: emptyTpl, node: node24}, b.TempDir())
	runSynths(b, root, []synthRun{
		{name: "empty", app: emptyApp, template: emptyTpl, node: node24},
		{name: "empty-jsiicache-off", app: emptyApp, template: emptyTpl, node: node24,
			env: []string{"JSII_RUNTIME_PACKAGE_CACHE=disabled"}},
		{name: "empty-jsiicache-cold", app: emptyApp, template: emptyTpl, node: node24,
			before: func(b *testing.B) []string {
				dir, err := os.MkdirTemp("", "rdsiam-bench-jsii-cache-")
				if err != nil {
					b.Fatal(err)
				}
				return []string{"JSII_RUNTIME_PACKAGE_CACHE_ROOT=" + dir}
			},
			after: func(b *testing.B, env []string) {
				dir := strings.TrimPrefix(env[0], "JSII_RUNTIME_PACKAGE_CACHE_ROOT=")
				defer os.RemoveAll(dir)
				if _, ok := cacheEntry(dir, "aws-cdk-lib"); !ok {
					b.Fatalf("a synth with an empty package cache left no aws-cdk-lib entry in %s: the cache is not written", dir)
				}
			}},
	})
}

// synth runs the CDK CLI like `make synth` with output to outDir and
// returns how long it took. It fails unless r.template was written.
func synth(root string, r synthRun, outDir string, extraEnv []string) (time.Duration, error) {
	cmd := exec.Command(r.node, filepath.Join(root, cdkCLI), "synth", "--quiet", "--no-notices", "--app", r.app, "-o", outDir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "JSII_NODE="+r.node, "CDK_DISABLE_CLI_TELEMETRY=true", "CDK_DISABLE_VERSION_CHECK=true")
	cmd.Env = append(append(cmd.Env, r.env...), extraEnv...)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("synth %s: %w\n%s", r.name, err, output.String())
	}
	if _, err := os.Stat(filepath.Join(outDir, r.template)); err != nil {
		return took, fmt.Errorf("synth %s wrote no %s: %w\n%s", r.name, r.template, err, output.String())
	}
	return took, nil
}

// removeBuildKeys deletes the Lambda build keys, so the next synth builds
// both binaries as it did before stacks/gobuild.go kept keys.
func removeBuildKeys(b *testing.B, root string) {
	keys, err := filepath.Glob(filepath.Join(root, ".build", "lambda", "*.key"))
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range keys {
		if err := os.Remove(k); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
	}
}

// nodeMajor returns node's major version ("24"), or "" if it does not run.
func nodeMajor(node string) string {
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return ""
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, _, _ := strings.Cut(v, ".")
	return major
}

// jsiiCacheRoot is where jsii keeps its package cache (jsii's
// defaultCacheRoot on Linux): $JSII_RUNTIME_PACKAGE_CACHE_ROOT, else
// $HOME/.cache/aws/jsii/package-cache. It is on by default; setting
// JSII_RUNTIME_PACKAGE_CACHE=disabled turns it off.
func jsiiCacheRoot() string {
	if r := os.Getenv("JSII_RUNTIME_PACKAGE_CACHE_ROOT"); r != "" {
		return r
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "aws", "jsii", "package-cache")
}

// cacheMarker is the file jsii creates in a complete cache entry and
// touches on every hit.
const cacheMarker = ".jsii-runtime-package-cache"

// cacheEntry returns the folder of pkg's complete cache entry under root
// (<root>/<pkg>/<version>/<hash>/), if there is one.
func cacheEntry(root, pkg string) (string, bool) {
	markers, _ := filepath.Glob(filepath.Join(root, pkg, "*", "*", cacheMarker))
	if len(markers) == 0 {
		return "", false
	}
	return filepath.Dir(markers[0]), true
}

// checkJsiiCache proves jsii's package cache works as it must for a fast
// synth, with r (an ordinary synth on the pinned Node):
//
//   - on this machine: the cache in use (jsiiCacheRoot) is hit;
//   - on a clean machine, such as a new CI runner: with an empty cache
//     root, the first synth fills it and the next one is a hit.
//
// Both outcomes are logged as "jsii package cache: ..." lines, which
// benchtable shows under Checks.
func checkJsiiCache(b *testing.B, root string, r synthRun, out string) {
	b.Helper()
	if v := os.Getenv("JSII_RUNTIME_PACKAGE_CACHE"); v != "" && !strings.EqualFold(v, "enabled") {
		b.Logf("jsii package cache: off in this environment (JSII_RUNTIME_PACKAGE_CACHE=%s)", v)
		return
	}
	cacheRoot := jsiiCacheRoot()
	entry := requireCacheHit(b, root, r, cacheRoot, filepath.Join(out, "cache-local"), nil)
	b.Logf("jsii package cache: hit on this machine, %s", entry)

	clean, err := os.MkdirTemp("", "rdsiam-bench-jsii-clean-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(clean)
	env := []string{"JSII_RUNTIME_PACKAGE_CACHE_ROOT=" + clean}
	if _, err := synth(root, r, filepath.Join(out, "cache-clean-1"), env); err != nil {
		b.Fatal(err)
	}
	if _, ok := cacheEntry(clean, "aws-cdk-lib"); !ok {
		b.Fatalf("jsii package cache: the first synth with an empty cache root %s left no aws-cdk-lib entry", clean)
	}
	requireCacheHit(b, root, r, clean, filepath.Join(out, "cache-clean-2"), env)
	b.Logf("jsii package cache: from an empty root (a clean CI machine) the first synth filled it and the second was a hit")
}

// requireCacheHit runs synth r and fails b unless it was served from
// aws-cdk-lib's entry in cacheRoot: jsii touches an entry's marker file on
// every hit, and a miss would extract the package again, renewing the files
// it writes (.jsii.runtime.v1.json). It returns the entry's folder.
func requireCacheHit(b *testing.B, root string, r synthRun, cacheRoot, outDir string, env []string) string {
	b.Helper()
	entry, ok := cacheEntry(cacheRoot, "aws-cdk-lib")
	if !ok {
		b.Fatalf("jsii package cache: no aws-cdk-lib entry in %s after a synth: the cache is not used", cacheRoot)
	}
	start := time.Now()
	time.Sleep(20 * time.Millisecond) // beyond any mtime granularity
	if _, err := synth(root, r, outDir, env); err != nil {
		b.Fatal(err)
	}
	mst, err := os.Stat(filepath.Join(entry, cacheMarker))
	if err != nil {
		b.Fatalf("jsii package cache: marker: %v", err)
	}
	if mst.ModTime().Before(start) {
		b.Fatalf("jsii package cache %s: aws-cdk-lib's marker was not touched by a synth: not a hit", entry)
	}
	if st, err := os.Stat(filepath.Join(entry, ".jsii.runtime.v1.json")); err == nil && st.ModTime().After(start) {
		b.Fatalf("jsii package cache %s: aws-cdk-lib was extracted again: a miss", entry)
	}
	return entry
}
