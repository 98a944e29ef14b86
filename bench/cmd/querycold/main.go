// Command querycold is the query Lambda function as the cold-start
// benchmark runs it: lambda/cmd/query's init (queryfn.NewContainer, then
// lambda.Start), with one difference: the database's certificate is verified
// against the CA in the PEM file named by RDSIAM_BENCH_CA_FILE (the local
// stand-in's) instead of the Amazon RDS bundle, which the stand-in cannot
// present. It is never deployed, and refuses to start without
// RDSIAM_BENCH_CA_FILE.
package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// initTimeout is lambda/cmd/query's.
const initTimeout = 10 * time.Second

// EnvCAFile names the PEM file of the CA the benchmark's database uses.
const EnvCAFile = "RDSIAM_BENCH_CA_FILE"

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(logger)

	roots, err := benchRoots(os.Getenv(EnvCAFile))
	if err != nil {
		logger.Error("init failed", "error", err.Error())
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	handler, err := queryfn.NewContainer(ctx, queryfn.ContainerOptions{Getenv: os.Getenv, Logger: logger, RootCAs: roots})
	cancel()
	if err != nil {
		logger.Error("init failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handler)
}

// benchRoots reads the CA in caFile as the only trusted root.
func benchRoots(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, errors.New(EnvCAFile + " is not set: querycold is a benchmark build and trusts only the CA it is given")
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", EnvCAFile, err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s=%s holds no PEM certificate", EnvCAFile, caFile)
	}
	return roots, nil
}
