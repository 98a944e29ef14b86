// Command dbuser is the onEvent Lambda of the Custom::DatabaseUser resource:
// it creates, updates and deletes the IAM-authenticated MySQL user (see
// package github.com/rdsiam/rdsiam/lambda/dbuser). By hand, with internal/lambdabuild.BuildFlags:
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -buildvcs=false -tags lambda.norpc -ldflags="-s -w -buildid=" ./lambda/cmd/dbuser
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rdsiam/rdsiam/lambda/dbuser"
)

func main() {
	// JSON lines on stderr end up in CloudWatch Logs, one event per line.
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	// Region and credentials come from the Lambda environment.
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("load AWS configuration", "error", err.Error())
		os.Exit(1)
	}
	h := &dbuser.Handler{
		Secrets: dbuser.SecretsManagerSource(secretsmanager.NewFromConfig(cfg)),
		Logger:  logger,
	}
	lambda.Start(h.Handle)
}
