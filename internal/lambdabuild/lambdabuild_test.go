package lambdabuild

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rdsiam/rdsiam/internal/modroot"
)

// writeFiles creates files (path relative to root -> content) under root.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tinyModule is a module laid out like this one: a main package under
// lambda/cmd importing a package under lambda that embeds a file, and a
// folder (stacks/) that the binary does not depend on. It has no
// dependencies, so building it needs no network.
func tinyModule(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"go.mod": "module example.com/tiny\n\ngo 1.26\n",
		"lambda/cmd/fn/main.go": `package main

import "example.com/tiny/lambda/greet"

func main() { println(greet.Message()) }
`,
		"lambda/greet/greet.go": `package greet

import _ "embed"

//go:embed message.txt
var message string

// Message returns the embedded message.
func Message() string { return message }
`,
		"lambda/greet/message.txt": "hello",
		"lambda/greet/greet_test.go": `package greet
`,
		"stacks/app.go": "package stacks\n",
	})
	return root
}

var tinyPackages = map[string]string{"fn": "./lambda/cmd/fn"}

// build runs BuildGoLambdas on the tiny module and returns its one binary
// with the user provider's content and modification time.
func build(t *testing.T, root string) (bin GoBinary, content []byte, mtime time.Time) {
	t.Helper()
	bins, err := BuildGoLambdas(root, tinyPackages)
	if err != nil {
		t.Fatal(err)
	}
	bin = bins["fn"]
	path := filepath.Join(bin.Dir, "bootstrap")
	content, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return bin, content, st.ModTime()
}

// freshBuild builds pkg the way BuildGoLambdas does, but straight into a new
// file outside .build, ignoring any key.
func freshBuild(t *testing.T, root, pkg string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", append(BuildFlags(), "-o", out, pkg)...)
	cmd.Dir = root
	cmd.Env = lambdaBuildEnv()
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBuildGoLambdasSkipsUnchangedBuilds(t *testing.T) {
	root := tinyModule(t)

	first, firstBytes, firstMtime := build(t, root)
	if first.Reused {
		t.Fatal("first build reported Reused")
	}
	// The asset folder holds only the binary; the key lives beside it.
	entries, err := os.ReadDir(first.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "bootstrap" {
		t.Fatalf("asset folder holds %v, want only bootstrap", entries)
	}
	if _, err := os.Stat(filepath.Join(root, ".build", "lambda", "fn.key")); err != nil {
		t.Fatalf("no key beside the asset: %v", err)
	}

	// Same inputs: no build, the file is not even touched.
	time.Sleep(10 * time.Millisecond) // so a rewrite would show in the mtime
	second, secondBytes, secondMtime := build(t, root)
	if !second.Reused {
		t.Error("unchanged inputs: built again, want the earlier binary reused")
	}
	if !secondMtime.Equal(firstMtime) || !bytes.Equal(secondBytes, firstBytes) {
		t.Error("unchanged inputs: bootstrap was rewritten")
	}
	// The kept binary is exactly what a fresh build makes now.
	if !bytes.Equal(secondBytes, freshBuild(t, root, tinyPackages["fn"])) {
		t.Error("kept binary differs from a fresh build of the same source")
	}

	// A file outside lambdaSourceDirs does not count.
	writeFiles(t, root, map[string]string{"stacks/app.go": "package stacks\n\n// changed\n"})
	if bin, _, _ := build(t, root); !bin.Reused {
		t.Error("change outside the Lambda sources rebuilt the binary")
	}
	// Neither does a test file.
	writeFiles(t, root, map[string]string{"lambda/greet/greet_test.go": "package greet\n\n// changed\n"})
	if bin, _, _ := build(t, root); !bin.Reused {
		t.Error("change to a _test.go file rebuilt the binary")
	}

	// An embedded file of an imported package changes: rebuild, and the
	// new binary is again byte-identical to a fresh build.
	writeFiles(t, root, map[string]string{"lambda/greet/message.txt": "hello, world"})
	third, thirdBytes, _ := build(t, root)
	if third.Reused {
		t.Fatal("changed source: binary reused, want a rebuild")
	}
	if bytes.Equal(thirdBytes, firstBytes) {
		t.Error("changed source: binary unchanged")
	}
	if !bytes.Equal(thirdBytes, freshBuild(t, root, tinyPackages["fn"])) {
		t.Error("rebuilt binary differs from a fresh build of the same source")
	}
	if bin, _, _ := build(t, root); !bin.Reused {
		t.Error("after the rebuild: built again, want reuse")
	}

	// A new source file counts too.
	writeFiles(t, root, map[string]string{"lambda/greet/extra.go": "package greet\n\nvar Extra = 1\n"})
	if bin, _, _ := build(t, root); bin.Reused {
		t.Error("new source file: binary reused, want a rebuild")
	}
	// So does go.mod.
	writeFiles(t, root, map[string]string{"go.mod": "module example.com/tiny\n\ngo 1.26.0\n"})
	if bin, _, _ := build(t, root); bin.Reused {
		t.Error("changed go.mod: binary reused, want a rebuild")
	}
}

func TestBuildGoLambdasRebuildsDamagedOrUnkeyedBinary(t *testing.T) {
	root := tinyModule(t)
	bin, good, _ := build(t, root)
	path := filepath.Join(bin.Dir, "bootstrap")

	// A bootstrap changed behind the key's back is rebuilt.
	if err := os.WriteFile(path, []byte("not a binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	again, content, _ := build(t, root)
	if again.Reused || !bytes.Equal(content, good) {
		t.Errorf("damaged bootstrap: Reused=%v, restored=%v; want a rebuild to the same bytes", again.Reused, bytes.Equal(content, good))
	}

	// A missing or foreign key means build.
	keyPath := filepath.Join(root, ".build", "lambda", "fn.key")
	for name, change := range map[string]func() error{
		"missing key":   func() error { return os.Remove(keyPath) },
		"old format":    func() error { return os.WriteFile(keyPath, []byte("v0 abc\n"), 0o644) },
		"missing asset": func() error { return os.Remove(path) },
	} {
		if err := change(); err != nil {
			t.Fatal(err)
		}
		if b, _, _ := build(t, root); b.Reused {
			t.Errorf("%s: binary reused, want a rebuild", name)
		}
	}
}

// TestLambdaSourceDirsCoverDependencies guards the build key: every package
// of this module that a Lambda binary links must live under
// lambdaSourceDirs, and no dependency may be replaced by a local folder
// (the key covers those only through go.mod/go.sum versions). Listing
// needs no network: the modules are already required by go.mod.
func TestLambdaSourceDirsCoverDependencies(t *testing.T) {
	root, err := modroot.Find(".")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"list", "-deps", "-tags", "lambda.norpc", "-json=ImportPath,Dir,Standard,Module"}
	pkgs := Packages()
	for _, name := range slices.Sorted(maps.Keys(pkgs)) {
		args = append(args, pkgs[name])
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = lambdaBuildEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	type module struct {
		Path    string
		Main    bool
		Replace *struct{ Path, Version string }
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	local := 0
	for {
		var p struct {
			ImportPath, Dir string
			Standard        bool
			Module          *module
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Standard || p.Module == nil {
			continue
		}
		if p.Module.Replace != nil && p.Module.Replace.Version == "" {
			t.Errorf("%s comes from module %s replaced by local folder %s: the Lambda build key does not cover it", p.ImportPath, p.Module.Path, p.Module.Replace.Path)
		}
		if !p.Module.Main {
			continue
		}
		local++
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		covered := false
		for _, d := range lambdaSourceDirs {
			if rel == d || strings.HasPrefix(rel, d+string(filepath.Separator)) {
				covered = true
			}
		}
		if !covered {
			t.Errorf("Lambda dependency %s (%s) is outside lambdaSourceDirs %v: add its folder there, or the build key misses its changes", p.ImportPath, rel, lambdaSourceDirs)
		}
	}
	if local == 0 {
		t.Fatal("go list found no package of this module; the check is broken")
	}
}

// BenchmarkBuildGoLambdasUpToDate measures what every synth now pays for
// the Lambdas when their sources did not change: go env, hashing the
// sources and checking both binaries against their keys. (A build, when
// needed, costs a relink of each binary on top: about 0.4 s of CPU each.)
func BenchmarkBuildGoLambdasUpToDate(b *testing.B) {
	root, err := modroot.Find(".")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := BuildGoLambdas(root, Packages()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		bins, err := BuildGoLambdas(root, Packages())
		if err != nil {
			b.Fatal(err)
		}
		for name, bin := range bins {
			if !bin.Reused {
				b.Fatalf("%s was rebuilt: its sources changed during the benchmark?", name)
			}
		}
	}
}

func TestSummarySaysBuiltOrReusedInNameOrder(t *testing.T) {
	got := Summary(map[string]GoBinary{"query": {}, "dbuser": {Reused: true}})
	if want := "dbuser reused (unchanged), query built"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

// TestBuildErrorsJoined: when several packages fail to build, the error
// names every one of them with the compiler's complaint, not only the first
// to finish, and the packages that built are not returned as a result.
func TestBuildErrorsJoined(t *testing.T) {
	root := tinyModule(t)
	writeFiles(t, root, map[string]string{
		"lambda/cmd/broken1/main.go": "package main\n\nfunc main() { undefinedOne() }\n",
		"lambda/cmd/broken2/main.go": "package main\n\nfunc main() { undefinedTwo() }\n",
	})
	bins, err := BuildGoLambdas(root, map[string]string{
		"fn":  "./lambda/cmd/fn",
		"one": "./lambda/cmd/broken1",
		"two": "./lambda/cmd/broken2",
	})
	if err == nil {
		t.Fatalf("BuildGoLambdas with two broken packages succeeded: %v", bins)
	}
	if bins != nil {
		t.Errorf("binaries returned with the error: %v", bins)
	}
	msg := err.Error()
	for _, want := range []string{"build lambda one", "undefinedOne", "build lambda two", "undefinedTwo"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "build lambda fn") {
		t.Errorf("error names the package that built:\n%s", msg)
	}
	// In name order, so the message is the same on every run.
	if i, j := strings.Index(msg, "build lambda one"), strings.Index(msg, "build lambda two"); i > j {
		t.Errorf("errors not in name order:\n%s", msg)
	}
}
