package lambdabuild

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/rdsiam/rdsiam/internal/modroot"
)

// ImportPaths returns the Lambda commands by asset name, as import paths:
// what a module that imports this one builds with BuildModuleLambdas. The
// names are Packages' names. Each call returns a new map.
func ImportPaths() map[string]string {
	paths := map[string]string{}
	for name, pkg := range Packages() {
		paths[name] = modroot.ModulePath + strings.TrimPrefix(pkg, ".")
	}
	return paths
}

// ModuleBuildDir is where BuildModuleLambdas writes, below the module root:
// <module>/.build/rdsiam-lambda/<name>/bootstrap. A folder of the consumer's
// own module, so it is writable wherever this library's source is (a
// read-only module cache, a vendor folder, a replace target).
const ModuleBuildDir = ".build/rdsiam-lambda"

// BuildModuleLambdas builds packages, given by import path (see
// ImportPaths), for linux/arm64 with the go command run in the Go
// module that holds dir: the consumer's module graph decides every version,
// as for any other package it imports. Use it in a CDK app of another
// module; this repository's own app uses BuildGoLambdas.
//
// The flags are BuildGoLambdas' (BuildFlags: -trimpath, no VCS stamp, no
// build id, lambda.norpc), so the same source, versions and toolchain give the same
// bytes and the same asset hash. Unlike BuildGoLambdas it keeps no build key
// and runs go build on every call (Go's build cache makes a repeat a link,
// ~0.4 s of CPU per binary): the library's source may sit anywhere in the
// module graph, and a key that missed part of it would deploy a stale
// handler.
//
// The module must be able to build the packages under -mod=readonly: their
// dependencies need go.sum entries, which `go get -tool <import path>`
// records (and keeps through go mod tidy).
func BuildModuleLambdas(dir string, packages map[string]string) (map[string]GoBinary, error) {
	root, err := moduleRootOf(dir)
	if err != nil {
		return nil, err
	}
	for name, pkg := range packages {
		if strings.HasPrefix(pkg, ".") || filepath.IsAbs(pkg) {
			return nil, fmt.Errorf("build lambda %s: %q is a file path; BuildModuleLambdas takes import paths (e.g. %s)", name, pkg, ImportPaths()["dbuser"])
		}
	}
	return buildAll(root, filepath.Join(root, filepath.FromSlash(ModuleBuildDir)), packages, buildInputs{})
}

// moduleRootOf returns the folder of the go.mod that governs dir.
func moduleRootOf(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("build lambdas: %w", err)
	}
	env, err := goEnv(abs, "GOMOD")
	if err != nil {
		return "", fmt.Errorf("build lambdas in %s: %w", abs, err)
	}
	gomod := env["GOMOD"]
	if gomod == "" || gomod == "/dev/null" || gomod == "NUL" {
		return "", fmt.Errorf("build lambdas: %s is not inside a Go module (no go.mod at or above it); run the CDK app from your module", abs)
	}
	return filepath.Dir(gomod), nil
}

// missingModuleHint explains the go command's complaint when the building
// module lacks the package's dependencies; "" for any other failure.
func missingModuleHint(pkg, stderr string) string {
	if !strings.Contains(stderr, "missing go.sum entry") && !strings.Contains(stderr, "no required module provides package") && !strings.Contains(stderr, "cannot find module providing package") {
		return ""
	}
	return fmt.Sprintf("\nthe module cannot build %s: record it and its dependencies with `go get -tool %s`", pkg, pkg)
}
