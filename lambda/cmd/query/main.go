// Command query is the query Lambda function: it serves queryfn requests
// against an Aurora MySQL cluster, logging in with IAM database
// authentication.
//
// Configuration comes from the environment (see queryfn.ConfigFromEnv:
// DB_ENDPOINT, DB_PORT, DB_USER, DB_NAME, DB_REGION, and the optional
// DB_MAX_CONNS, DB_MAX_NEW_CONNS_PER_SECOND, DB_NEW_CONN_BURST,
// DB_ACCESS_DENIED_RETRY_SECONDS, DB_READ_TIMEOUT_SECONDS,
// DB_DIAL_TIMEOUT_SECONDS; DB_READER_ENDPOINT, see
// queryfn.ReaderConfigFromEnv, adds a read pool) and AWS credentials from the
// Lambda execution role. Its connection metrics go to stdout as CloudWatch
// Embedded Metric Format lines (package opsmetrics); its log lines go to
// stderr. Everything expensive happens once per container, at init
// (queryfn.NewContainer): the connection pool is built here and reused by
// every invocation the container serves. Init makes no network calls; the
// first request opens the first connection.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// initTimeout bounds configuration loading. LoadDefaultConfig only reads the
// environment and files here, so this is a guard, not a budget.
const initTimeout = 10 * time.Second

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(logger)

	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	handler, err := queryfn.NewContainer(ctx, queryfn.ContainerOptions{Getenv: os.Getenv, Logger: logger, Metrics: os.Stdout})
	cancel()
	if err != nil {
		// Exit instead of serving: the Lambda service reports an init
		// error, and the message is in the log line above it.
		logger.Error("init failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handler)
}
