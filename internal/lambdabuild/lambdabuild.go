// Package lambdabuild compiles the Lambda binaries of this module,
// reproducibly and only when their inputs changed. It has no CDK
// dependency, so `make synth` can run it (cmd/rdsiam-dev lambdas) while the
// CDK app itself is still compiling; the app's own call then finds the
// binaries up to date.
package lambdabuild

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Packages returns the Lambda binaries the stack deploys, by asset name, as
// package paths below the module root. Each call returns a new map, so no
// caller can change another's.
func Packages() map[string]string {
	return map[string]string{
		"query":  "./lambda/cmd/query",
		"dbuser": "./lambda/cmd/dbuser",
	}
}

// GoBinary is a Lambda binary built from a main package of this module.
type GoBinary struct {
	// Package is the import path below the module root, e.g. "./lambda/cmd/query".
	Package string
	// Dir is the folder holding only the built "bootstrap" file: the
	// Lambda asset. Its content, and so the asset hash, depends only on the
	// source, the module versions and the Go toolchain.
	Dir string
	// Reused is true when the binary of an earlier build was kept because
	// nothing that determines it had changed (see BuildGoLambdas), false
	// when this call ran go build.
	Reused bool
}

// Target platform and build settings of every Lambda binary.
const (
	lambdaGOOS   = "linux"
	lambdaGOARCH = "arm64"
)

// BuildFlags returns the go command line (from "build" on, without -o and
// the package) of every Lambda binary, a new slice each call. It makes the
// build reproducible: -trimpath drops local paths, -buildvcs=false keeps the
// commit and dirty flag out (they would change the asset hash on every
// commit), and an empty build id removes the last per-build value.
// lambda.norpc drops the legacy RPC mode that provided.al2023 never uses;
// -s -w drop the symbol table and DWARF (a smaller binary to load).
func BuildFlags() []string {
	return []string{"build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", "-s -w -buildid="}
}

// lambdaSourceDirs are the folders, relative to the module root, that hold
// every package of this module a Lambda binary can import. Every file under
// them (except _test.go files, which go build never reads) is part of the
// build key, so a change anywhere in them rebuilds both binaries: cheap
// (hashing them takes milliseconds, go list -deps ~200 ms) and safe as long
// as the Lambdas import nothing of this module outside these folders, which
// TestLambdaSourceDirsCoverDependencies checks with go list.
var lambdaSourceDirs = []string{"lambda", "bootstrap-sql"}

// lambdaModuleFiles pin the versions of every module a binary links.
var lambdaModuleFiles = []string{"go.mod", "go.sum"}

// keyFormat is the first line of a .key file; bump it when the key's
// ingredients change so old keys never match.
const keyFormat = "rdsiam-lambda-build v1"

// BuildGoLambdas compiles each package for linux/arm64 into
// <root>/.build/lambda/<name>/bootstrap, in parallel, and returns them by
// name.
//
// A build is skipped when nothing that determines the binary changed since
// the last one: the key stored beside the asset, <root>/.build/lambda/<name>.key
// (never inside the asset folder, which holds only bootstrap so the asset
// hash stays the binary's), is a SHA-256 over the Go toolchain (go env
// GOVERSION, GOROOT, GOARM64, GOEXPERIMENT), GOOS/GOARCH/CGO_ENABLED, the
// build flags, the package, go.mod, go.sum and every file under
// lambdaSourceDirs. The .key file also records the binary's SHA-256, so a
// bootstrap that was replaced or damaged is rebuilt. Without the key every
// synth relinked both binaries (~0.4 s of CPU each). With a go.work file in
// effect the key cannot see the workspace's other modules, so every call
// builds.
//
// The binary is written to a temporary file and renamed into place, and the
// key file after it the same way, so concurrent synths (test packages run
// in parallel) never see half a binary, and a key never names a binary that
// is not there.
func BuildGoLambdas(root string, packages map[string]string) (map[string]GoBinary, error) {
	// Inputs shared by every package: computed once, before the builds.
	shared, err := sharedBuildInputs(root)
	if err != nil {
		return nil, err
	}
	return buildAll(root, filepath.Join(root, ".build", "lambda"), packages, shared)
}

// buildAll builds each package with root as the working directory into
// out/<name>/bootstrap, in parallel.
func buildAll(root, out string, packages map[string]string, shared buildInputs) (map[string]GoBinary, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		bins = map[string]GoBinary{}
		errs = map[string]error{}
	)
	for name, pkg := range packages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bin, err := buildGoLambda(root, out, name, pkg, shared)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[name] = err
				return
			}
			bins[name] = bin
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		// Every failure, in name order: fixing one package at a time, a
		// synth at a time, would be slow.
		var all []error
		for _, name := range slices.Sorted(maps.Keys(errs)) {
			all = append(all, errs[name])
		}
		return nil, errors.Join(all...)
	}
	return bins, nil
}

// buildInputs are the parts of the build key common to all packages.
type buildInputs struct {
	// digest hashes the toolchain, environment, flags and source files;
	// empty when the build must not be skipped (a go.work is in effect).
	digest []byte
}

// lambdaBuildEnv is the environment of every go command run for a Lambda.
// GOFLAGS replaces the caller's, so their flags cannot change the binary
// behind the key's back.
func lambdaBuildEnv() []string {
	return append(os.Environ(), "GOOS="+lambdaGOOS, "GOARCH="+lambdaGOARCH, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
}

// sharedBuildInputs hashes everything but the package into one digest.
func sharedBuildInputs(root string) (buildInputs, error) {
	goenv, err := goEnv(root, "GOVERSION", "GOROOT", "GOARM64", "GOEXPERIMENT", "GOWORK")
	if err != nil {
		return buildInputs{}, err
	}
	if w := goenv["GOWORK"]; w != "" && w != "off" {
		return buildInputs{}, nil
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", keyFormat)
	for _, k := range []string{"GOVERSION", "GOROOT", "GOARM64", "GOEXPERIMENT"} {
		fmt.Fprintf(h, "env %s=%q\n", k, goenv[k])
	}
	fmt.Fprintf(h, "target GOOS=%s GOARCH=%s CGO_ENABLED=0 GOFLAGS=-mod=readonly\n", lambdaGOOS, lambdaGOARCH)
	fmt.Fprintf(h, "flags %q\n", BuildFlags())
	for _, f := range lambdaModuleFiles {
		if err := hashFile(h, root, f); err != nil {
			return buildInputs{}, fmt.Errorf("build key: %w", err)
		}
	}
	for _, dir := range lambdaSourceDirs {
		if err := hashTree(h, root, dir); err != nil {
			return buildInputs{}, fmt.Errorf("build key: %w", err)
		}
	}
	return buildInputs{digest: h.Sum(nil)}, nil
}

// goEnv returns the named go env variables as the Lambda build sees them.
func goEnv(root string, names ...string) (map[string]string, error) {
	cmd := exec.Command("go", append([]string{"env", "-json"}, names...)...)
	cmd.Dir = root
	cmd.Env = lambdaBuildEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("build key: go env: %w\n%s", err, stderr.String())
	}
	env := map[string]string{}
	if err := json.Unmarshal(out, &env); err != nil {
		return nil, fmt.Errorf("build key: go env output: %w", err)
	}
	return env, nil
}

// hashFile adds rel's path and content to h; a missing file is recorded as
// missing, so creating it changes the key.
func hashFile(h io.Writer, root, rel string) error {
	data, err := os.ReadFile(filepath.Join(root, rel))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(h, "missing %q\n", filepath.ToSlash(rel))
		return nil
	case err != nil:
		return err
	}
	fmt.Fprintf(h, "file %q %d\n", filepath.ToSlash(rel), len(data))
	_, err = h.Write(data)
	return err
}

// hashTree adds every file under root/dir except _test.go files to h, in
// lexical order (WalkDir's), each with its path and size so that renames
// and boundaries between files count.
func hashTree(h io.Writer, root, dir string) error {
	base := filepath.Join(root, dir)
	if _, err := os.Stat(base); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(h, "missing %q\n", filepath.ToSlash(dir))
		return nil
	}
	return filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasSuffix(d.Name(), "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		return hashFile(h, root, rel)
	})
}

// packageKey is the build key of one package: the shared digest plus the
// package path, in hex. It is "" when builds must not be skipped.
func packageKey(shared buildInputs, pkg string) string {
	if shared.digest == nil {
		return ""
	}
	h := sha256.New()
	h.Write(shared.digest)
	fmt.Fprintf(h, "package %q\n", pkg)
	return hex.EncodeToString(h.Sum(nil))
}

// keyRecord is what a .key file holds: the build key and the SHA-256 of
// the binary built for it.
type keyRecord struct {
	key, binarySHA string
}

func (r keyRecord) marshal() []byte {
	return fmt.Appendf(nil, "%s\nkey %s\nbootstrap sha256 %s\n", keyFormat, r.key, r.binarySHA)
}

// readKeyRecord reads a .key file; ok is false if it is missing or not in
// the current format.
func readKeyRecord(path string) (rec keyRecord, ok bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return keyRecord{}, false
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 || lines[0] != keyFormat {
		return keyRecord{}, false
	}
	key, ok1 := strings.CutPrefix(lines[1], "key ")
	sum, ok2 := strings.CutPrefix(lines[2], "bootstrap sha256 ")
	if !ok1 || !ok2 {
		return keyRecord{}, false
	}
	return keyRecord{key: key, binarySHA: sum}, true
}

// fileSHA256 returns the hex SHA-256 of a regular file's content.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// upToDate reports whether bin was built for key and is unchanged since.
func upToDate(keyPath, bin, key string) bool {
	if key == "" {
		return false
	}
	rec, ok := readKeyRecord(keyPath)
	if !ok || rec.key != key {
		return false
	}
	sum, err := fileSHA256(bin)
	return err == nil && sum == rec.binarySHA
}

func buildGoLambda(root, lambdas, name, pkg string, shared buildInputs) (GoBinary, error) {
	dir := filepath.Join(lambdas, name)
	bin := filepath.Join(dir, "bootstrap")
	keyPath := filepath.Join(lambdas, name+".key")
	key := packageKey(shared, pkg)
	if upToDate(keyPath, bin, key) {
		return GoBinary{Package: pkg, Dir: dir, Reused: true}, nil
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return GoBinary{}, fmt.Errorf("build lambda %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(lambdas, name+"-*.tmp")
	if err != nil {
		return GoBinary{}, fmt.Errorf("build lambda %s: %w", name, err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)

	args := append(BuildFlags(), "-o", tmpName, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = lambdaBuildEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return GoBinary{}, fmt.Errorf("build lambda %s (go build %s for %s/%s in %s): %w\n%s%s", name, pkg, lambdaGOOS, lambdaGOARCH, root, err, stderr.String(), missingModuleHint(pkg, stderr.String()))
	}
	// A fixed mode keeps the asset hash independent of the umask.
	if err := os.Chmod(tmpName, 0o755); err != nil {
		return GoBinary{}, fmt.Errorf("build lambda %s: %w", name, err)
	}
	sum, err := fileSHA256(tmpName)
	if err != nil {
		return GoBinary{}, fmt.Errorf("build lambda %s: %w", name, err)
	}
	if err := os.Rename(tmpName, bin); err != nil {
		return GoBinary{}, fmt.Errorf("build lambda %s: %w", name, err)
	}
	if key != "" {
		if err := writeFileAtomic(keyPath, keyRecord{key: key, binarySHA: sum}.marshal()); err != nil {
			return GoBinary{}, fmt.Errorf("build lambda %s: store build key: %w", name, err)
		}
	}
	return GoBinary{Package: pkg, Dir: dir}, nil
}

// writeFileAtomic replaces path with data through a temporary file in the
// same folder and a rename.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+"-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Summary says, per binary in name order, whether it was built or reused:
// "dbuser reused, query built".
func Summary(bins map[string]GoBinary) string {
	parts := make([]string, 0, len(bins))
	for _, name := range slices.Sorted(maps.Keys(bins)) {
		how := "built"
		if bins[name].Reused {
			how = "reused (unchanged)"
		}
		parts = append(parts, name+" "+how)
	}
	return strings.Join(parts, ", ")
}
