// Package modroot finds the root of the rdsiam module, so programs and
// tests work from whichever folder they are started in (the CDK CLI runs
// the app at the root, `go test` runs in each package's folder).
package modroot

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// ModulePath is the module's import path: where it is meant to be
// published and fetched with go get (README, "Use it in your own CDK app").
const ModulePath = "github.com/rdsiam/rdsiam"

// Find returns the absolute path of the folder holding rdsiam's go.mod,
// looking in dir and then in each parent. It fails when no such go.mod is
// found before the file system root.
func Find(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module "+ModulePath+"\n")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod for module %s at or above %s", ModulePath, dir)
		}
		d = parent
	}
}
