// Command query is the query Lambda function: it serves queryfn requests
// against an Aurora MySQL cluster, logging in with IAM database
// authentication.
//
// Configuration comes from the environment (see queryfn.ConfigFromEnv:
// DB_ENDPOINT, DB_PORT, DB_USER, DB_NAME, DB_REGION, and the optional
// DB_MAX_CONNS, DB_MAX_NEW_CONNS_PER_SECOND, DB_NEW_CONN_BURST,
// DB_ACCESS_DENIED_RETRY_SECONDS) and AWS credentials from the Lambda
// execution role. Everything expensive happens once per
// container, at init: the connection pool is built here and reused by every
// invocation the container serves. Init makes no network calls; the first
// request opens the first connection.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"

	"rdsiam/lambda/iamdb"
	"rdsiam/lambda/queryfn"
)

// initTimeout bounds configuration loading. LoadDefaultConfig only reads the
// environment and files here, so this is a guard, not a budget.
const initTimeout = 10 * time.Second

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(logger)

	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	handler, err := setup(ctx, os.Getenv, logger)
	cancel()
	if err != nil {
		// Exit instead of serving: the Lambda service reports an init
		// error, and the message is in the log line above it.
		logger.Error("init failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handler)
}

// handlerFunc is the shape lambda.Start accepts for this function.
type handlerFunc func(context.Context, json.RawMessage) (queryfn.Response, error)

// setup builds the per-container state: it reads the database settings
// through getenv, loads AWS configuration, and opens (without connecting) an
// IAM-authenticated pool. It returns the handler to pass to lambda.Start.
func setup(ctx context.Context, getenv func(string) string, logger *slog.Logger) (handlerFunc, error) {
	dbCfg, err := queryfn.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	// In Lambda this resolves to the execution role's credentials from the
	// environment; they are retrieved lazily, when the first token is signed.
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	dbCfg.Credentials = awsCfg.Credentials
	conn, err := iamdb.NewConnector(dbCfg)
	if err != nil {
		return nil, err
	}
	logger.Info("init done", "db_host", dbCfg.Host, "db_user", dbCfg.User, "db_name", dbCfg.Database, "region", dbCfg.Region)
	h := queryfn.New(conn.OpenDB())
	return logged(h.Handle, conn, h, logger), nil
}

// logged wraps h to log each failed invocation with the connector's and
// the handler's counters, which show whether the container's pool is being
// reused, whether logins are being refused or rate-limited, and what was
// retried. Only the error and counters are logged, never the request body
// (item names are user data) and never a token (errors do not contain one).
func logged(h handlerFunc, conn *iamdb.Connector, qh *queryfn.Handler, logger *slog.Logger) handlerFunc {
	return func(ctx context.Context, raw json.RawMessage) (queryfn.Response, error) {
		start := time.Now()
		resp, err := h(ctx, raw)
		if err != nil {
			s, q := conn.Stats(), qh.Stats()
			logger.Error("request failed",
				"error", err.Error(),
				"duration_ms", time.Since(start).Milliseconds(),
				"tokens_signed", s.TokensSigned,
				"connect_attempts", s.ConnectAttempts,
				"connect_failures", s.ConnectFailures,
				"access_denied_retries", s.AccessDeniedRetries,
				"rate_limit_waits", s.RateLimitWaits,
				"read_retries", q.ReadRetries,
				"write_retries", q.WriteRetries,
				"outcome_unknown", q.OutcomeUnknown,
			)
		}
		return resp, err
	}
}
