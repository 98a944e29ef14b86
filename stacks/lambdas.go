package stacks

import "github.com/rdsiam/rdsiam/internal/lambdabuild"

// The Lambda build lives in internal/lambdabuild (no CDK dependency, so the
// Makefile can run it while the app compiles); these names keep the
// constructs' and callers' view of it in this package.

// GoBinary is a built Lambda binary (lambdabuild.GoBinary).
type GoBinary = lambdabuild.GoBinary

// LambdaPackages are the Lambda binaries the stack deploys, by asset name.
var LambdaPackages = lambdabuild.Packages

// LambdaBuildFlags are the go build arguments of every Lambda binary.
var LambdaBuildFlags = lambdabuild.LambdaBuildFlags

// BuildGoLambdas builds packages (see lambdabuild.BuildGoLambdas).
func BuildGoLambdas(root string, packages map[string]string) (map[string]GoBinary, error) {
	return lambdabuild.BuildGoLambdas(root, packages)
}

// LambdaImportPaths are the Lambda commands as import paths, for
// BuildModuleLambdas (lambdabuild.ImportPaths).
var LambdaImportPaths = lambdabuild.ImportPaths

// ModuleBuildDir is where BuildModuleLambdas writes, below the module root.
const ModuleBuildDir = lambdabuild.ModuleBuildDir

// BuildModuleLambdas builds packages, given by import path, from the Go
// module that holds dir, into <module>/.build/rdsiam-lambda/<name>/bootstrap:
// how a CDK app in a module of its own builds this library's handler from
// its own module graph (see lambdabuild.BuildModuleLambdas).
func BuildModuleLambdas(dir string, packages map[string]string) (map[string]GoBinary, error) {
	return lambdabuild.BuildModuleLambdas(dir, packages)
}
