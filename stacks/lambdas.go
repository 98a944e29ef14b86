package stacks

import "github.com/rdsiam/rdsiam/internal/lambdabuild"

// The Lambda build lives in internal/lambdabuild (no CDK dependency, so the
// Makefile can run it while the app compiles); these names keep the
// constructs' and callers' view of it in this package.

// GoBinary is a built Lambda binary (lambdabuild.GoBinary).
type GoBinary = lambdabuild.GoBinary

// LambdaPackages returns the Lambda binaries the stack deploys, by asset
// name, as package paths below this module's root (lambdabuild.Packages; a
// new map each call).
func LambdaPackages() map[string]string { return lambdabuild.Packages() }

// BuildGoLambdas builds packages (see lambdabuild.BuildGoLambdas).
func BuildGoLambdas(root string, packages map[string]string) (map[string]GoBinary, error) {
	return lambdabuild.BuildGoLambdas(root, packages)
}

// LambdaImportPaths returns the Lambda commands by asset name as import
// paths, for BuildModuleLambdas (lambdabuild.ImportPaths; a new map each
// call).
func LambdaImportPaths() map[string]string { return lambdabuild.ImportPaths() }

// ModuleBuildDir is where BuildModuleLambdas writes, below the module root.
const ModuleBuildDir = lambdabuild.ModuleBuildDir

// BuildModuleLambdas builds packages, given by import path, from the Go
// module that holds dir, into <module>/.build/rdsiam-lambda/<name>/bootstrap:
// how a CDK app in a module of its own builds this library's handler from
// its own module graph (see lambdabuild.BuildModuleLambdas).
func BuildModuleLambdas(dir string, packages map[string]string) (map[string]GoBinary, error) {
	return lambdabuild.BuildModuleLambdas(dir, packages)
}
