package iamdb_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The runtime side must stand alone: a consumer who imports iamdb, or
// builds the two Lambda commands, links no CDK, jsii or constructs code and
// not the local stand-in (go-mysql-server). This module's go.mod requires
// all of them, so only the import graph keeps them out; go list -deps over
// the Lambda target proves it on every test run.
var notInRuntime = []string{
	"github.com/dolthub/",           // go-mysql-server and vitess: the stand-in's engine
	"github.com/aws/aws-cdk-go/",    // the CDK
	"github.com/aws/constructs-go/", // constructs
	"github.com/aws/jsii-runtime-go",
	"github.com/cdklabs/", // cdk-nag and CDK's asset modules
	"github.com/rdsiam/rdsiam/auroralocal",
	"github.com/rdsiam/rdsiam/stacks",
	"github.com/rdsiam/rdsiam/internal/jsiinode",
}

// forbiddenDeps lists the packages pkgs depend on, for the Lambda target
// (linux/arm64, the binaries' build tag), that start with a notInRuntime
// prefix.
func forbiddenDeps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps", "-tags", "lambda.norpc", "-json=ImportPath"}, pkgs...)...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %v: %v\n%s", pkgs, err, stderr.String())
	}
	var bad []string
	dec := json.NewDecoder(bytes.NewReader(out))
	n := 0
	for {
		var p struct{ ImportPath string }
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		for _, prefix := range notInRuntime {
			if strings.HasPrefix(p.ImportPath, prefix) {
				bad = append(bad, p.ImportPath)
			}
		}
	}
	if n == 0 {
		t.Fatalf("go list -deps %v listed nothing; the check is broken", pkgs)
	}
	return bad
}

func TestRuntimeStandsAlone(t *testing.T) {
	const mod = "github.com/rdsiam/rdsiam/"
	tests := []struct {
		name      string
		pkgs      []string
		wantClean bool
	}{
		{"lambda binaries and iamdb", []string{mod + "lambda/cmd/query", mod + "lambda/cmd/dbuser", mod + "lambda/iamdb", mod + "lambda/userprops", mod + "lambda/queryfn"}, true},
		// The detector itself: the stand-in does link go-mysql-server, so
		// a check that always passed would fail here.
		{"the stand-in (detector check)", []string{mod + "auroralocal"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := forbiddenDeps(t, tt.pkgs...)
			if tt.wantClean && len(bad) > 0 {
				t.Errorf("%v depend on %d packages that must stay out of the runtime side, e.g. %v", tt.pkgs, len(bad), bad[:min(5, len(bad))])
			}
			if !tt.wantClean && len(bad) == 0 {
				t.Errorf("%v: no forbidden dependency found; the detector is broken", tt.pkgs)
			}
		})
	}
}
