package queryfn

import (
	"cmp"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"rdsiam/lambda/iamdb"
	"rdsiam/lambda/rdstls"
)

// HandlerFunc is the shape lambda.Start accepts for the query function.
type HandlerFunc func(context.Context, json.RawMessage) (Response, error)

// ContainerOptions configures NewContainer.
type ContainerOptions struct {
	// Getenv reads the function's environment (see ConfigFromEnv); os.Getenv
	// in Lambda.
	Getenv func(string) string
	// Logger receives the init line and one line per failed request; nil
	// discards.
	Logger *slog.Logger
	// RootCAs replaces the embedded Amazon RDS CA bundle, for the local
	// stand-in and benchmarks; nil (production) verifies against RDS's CAs.
	RootCAs *x509.CertPool
}

// NewContainer builds the state one Lambda container keeps for its life: it
// reads the database settings from the environment, takes AWS credentials
// from the default chain (in Lambda, the execution role's, from the
// environment: no network call), and opens without connecting a pool whose
// connector signs an IAM token per new connection. The first request opens
// the first connection; every later request reuses the pool.
//
// The returned handler logs each failed request with the connector's and
// the handler's counters (pool reuse, refused or rate-limited logins,
// retries); it logs neither request bodies (item names are user data) nor
// tokens (errors never contain one).
func NewContainer(ctx context.Context, opts ContainerOptions) (HandlerFunc, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dbCfg, err := ConfigFromEnv(opts.Getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	dbCfg.Credentials = awsCfg.Credentials
	if opts.RootCAs != nil {
		if dbCfg.TLS, err = rdstls.Config(dbCfg.Host, opts.RootCAs); err != nil {
			return nil, err
		}
	}
	conn, err := iamdb.NewConnector(dbCfg)
	if err != nil {
		return nil, err
	}
	reader, readerHost, err := openReader(dbCfg, opts)
	if err != nil {
		return nil, err
	}
	var readDB *sql.DB
	if reader != nil {
		readDB = reader.OpenDB()
	}
	logger.Info("init done", "db_host", dbCfg.Host, "db_reader_host", readerHost, "db_user", dbCfg.User, "db_name", dbCfg.Database, "region", dbCfg.Region)
	h := NewWithReader(conn.OpenDB(), readDB)
	readTimeout := cmp.Or(dbCfg.ReadTimeout, iamdb.DefaultReadTimeout)
	return func(ctx context.Context, raw json.RawMessage) (Response, error) {
		start := time.Now()
		resp, err := h.Handle(ctx, raw)
		if err != nil {
			if errors.Is(err, iamdb.ErrSilentConnection) {
				// Name the knob, as the operator knows it.
				err = fmt.Errorf("%w (set by %s=%d)", err, EnvReadTimeoutSeconds, int(readTimeout/time.Second))
			}
			s, q := conn.Stats(), h.Stats()
			logger.Error("request failed",
				"error", err.Error(),
				"duration_ms", time.Since(start).Milliseconds(),
				"tokens_signed", s.TokensSigned,
				"connect_attempts", s.ConnectAttempts,
				"connect_failures", s.ConnectFailures,
				"access_denied_retries", s.AccessDeniedRetries,
				"rate_limit_waits", s.RateLimitWaits,
				"read_timeouts", s.ReadTimeouts,
				"read_retries", q.ReadRetries,
				"write_retries", q.WriteRetries,
				"outcome_unknown", q.OutcomeUnknown,
			)
		}
		return resp, err
	}, nil
}
