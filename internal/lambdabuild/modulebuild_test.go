package lambdabuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/internal/modroot"
)

// Built by import path from a module's working directory, the handler is
// the same bytes as the repository's own build of ./lambda/cmd/dbuser: the
// reproducible flags hold for a consumer's build too, and it lands in the
// module's own .build folder.
func TestBuildModuleLambdasIsTheSameBinary(t *testing.T) {
	root, err := modroot.Find(".")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := BuildGoLambdas(root, map[string]string{"dbuser": Packages()["dbuser"]})
	if err != nil {
		t.Fatal(err)
	}
	// From a subfolder: the go command finds the module above it.
	mod, err := BuildModuleLambdas(filepath.Join(root, "lambda"), map[string]string{"dbuser": ImportPaths()["dbuser"]})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, filepath.FromSlash(ModuleBuildDir), "dbuser"); mod["dbuser"].Dir != want {
		t.Errorf("Dir = %s, want %s", mod["dbuser"].Dir, want)
	}
	a, err := fileSHA256(filepath.Join(repo["dbuser"].Dir, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := fileSHA256(filepath.Join(mod["dbuser"].Dir, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("module build %s differs from the repository build %s", b, a)
	}
	entries, err := os.ReadDir(mod["dbuser"].Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "bootstrap" {
		t.Errorf("asset folder holds %v, want only bootstrap", entries)
	}
}

func TestBuildModuleLambdasRefusals(t *testing.T) {
	notModule := t.TempDir()
	consumer := t.TempDir()
	if err := os.WriteFile(filepath.Join(consumer, "go.mod"), []byte("module example.com/consumer\n\ngo 1.26.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, pkg string
		want           []string
	}{
		{"file path", consumer, "./lambda/cmd/dbuser", []string{`"./lambda/cmd/dbuser" is a file path`, ImportPaths()["dbuser"]}},
		{"no module", notModule, ImportPaths()["dbuser"], []string{notModule, "not inside a Go module"}},
		{"module without the library", consumer, ImportPaths()["dbuser"], []string{"go get -tool " + ImportPaths()["dbuser"], consumer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildModuleLambdas(tt.dir, map[string]string{"dbuser": tt.pkg})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
