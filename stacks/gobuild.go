package stacks

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// GoBinary is a Lambda binary built from a main package of this module.
type GoBinary struct {
	// Package is the import path below the module root, e.g. "./lambda/cmd/query".
	Package string
	// Dir is the folder holding only the built "bootstrap" file: the
	// Lambda asset. Its content, and so the asset hash, depends only on the
	// source, the module versions and the Go toolchain.
	Dir string
}

// buildFlags make the build reproducible: -trimpath drops local paths,
// -buildvcs=false keeps the commit and dirty flag out (they would change the
// asset hash on every commit), and an empty build id removes the last
// per-build value. lambda.norpc drops the legacy RPC mode that provided.al2023
// never uses.
var buildFlags = []string{"build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", "-s -w -buildid="}

// BuildGoLambdas compiles each package for linux/arm64 into
// <root>/.build/lambda/<name>/bootstrap, in parallel, and returns them by
// name. The Go build cache makes a rebuild of unchanged source a relink at
// most; the file is replaced atomically so concurrent synths (test packages
// run in parallel) never see half a binary.
func BuildGoLambdas(root string, packages map[string]string) (map[string]GoBinary, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		out  = map[string]GoBinary{}
		errs []error
	)
	for name, pkg := range packages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bin, err := buildGoLambda(root, name, pkg)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			out[name] = bin
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return out, nil
}

func buildGoLambda(root, name, pkg string) (GoBinary, error) {
	dir := filepath.Join(root, ".build", "lambda", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return GoBinary{}, fmt.Errorf("build lambda %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(filepath.Join(root, ".build"), name+"-*.tmp")
	if err != nil {
		return GoBinary{}, fmt.Errorf("build lambda %s: %w", name, err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)

	args := append(append([]string{}, buildFlags...), "-o", tmpName, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return GoBinary{}, fmt.Errorf("build lambda %s (go build %s for linux/arm64): %w\n%s", name, pkg, err, stderr.String())
	}
	// A fixed mode keeps the asset hash independent of the umask.
	if err := os.Chmod(tmpName, 0o755); err != nil {
		return GoBinary{}, fmt.Errorf("build lambda %s: %w", name, err)
	}
	if err := os.Rename(tmpName, filepath.Join(dir, "bootstrap")); err != nil {
		return GoBinary{}, fmt.Errorf("build lambda %s: %w", name, err)
	}
	return GoBinary{Package: pkg, Dir: dir}, nil
}

// ModuleRoot finds the folder holding this module's go.mod, starting at dir
// and walking up, so the app works from the repo root (cdk) and from test/.
func ModuleRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module rdsiam\n")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod for module rdsiam at or above %s", dir)
		}
		d = parent
	}
}
