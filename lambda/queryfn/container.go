package queryfn

import (
	"cmp"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/opsmetrics"
	"github.com/rdsiam/rdsiam/lambda/rdstls"
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
	// Metrics receives, after each request that opened, retried or lost
	// connections, one CloudWatch Embedded Metric Format line of the
	// counts since the previous line (package opsmetrics); nil writes
	// none. os.Stdout in Lambda, whose log CloudWatch reads the metrics
	// from: no API call, nothing added to the request's latency but one
	// write to the log pipe.
	Metrics io.Writer
	// Now stamps the metric lines; nil means time.Now.
	Now func() time.Time
}

// EnvFunctionName is set by Lambda to the function's name; it is the
// metrics' FunctionName dimension.
const EnvFunctionName = "AWS_LAMBDA_FUNCTION_NAME"

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
	metrics := &metricsWriter{w: opts.Metrics, function: opts.Getenv(EnvFunctionName), now: opts.Now, logger: logger}
	if metrics.now == nil {
		metrics.now = time.Now
	}
	return func(ctx context.Context, raw json.RawMessage) (Response, error) {
		start := time.Now()
		resp, err := h.Handle(ctx, raw)
		metrics.write(conn.Stats(), h.Stats())
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

// metricsWriter writes the counters' growth since its previous line.
type metricsWriter struct {
	w        io.Writer
	function string
	now      func() time.Time
	logger   *slog.Logger

	mu   sync.Mutex
	last opsmetrics.Values
	// lastS and lastQ are the counters last written: a warm request that
	// changed none of them returns before building anything.
	lastS iamdb.Stats
	lastQ Stats
}

// values maps the connector's and the handler's counters to the metrics.
func values(s iamdb.Stats, q Stats) opsmetrics.Values {
	return opsmetrics.Values{
		opsmetrics.Logins:               s.Logins,
		opsmetrics.LoginFailures:        s.ConnectFailures,
		opsmetrics.TokensSigned:         s.TokensSigned,
		opsmetrics.TokensReused:         s.TokensReused,
		opsmetrics.AccessDeniedRetries:  s.AccessDeniedRetries,
		opsmetrics.RetryTokensReused:    s.RetryTokensReused,
		opsmetrics.RetryTokensSigned:    s.RetryTokensSigned,
		opsmetrics.RateLimitWaits:       s.RateLimitWaits,
		opsmetrics.SilentConnections:    s.ReadTimeouts,
		opsmetrics.OutcomeUnknownWrites: q.OutcomeUnknown,
	}
}

func (m *metricsWriter) write(s iamdb.Stats, q Stats) {
	if m.w == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s == m.lastS && q == m.lastQ {
		return
	}
	now := values(s, q)
	delta := make(opsmetrics.Values, len(now))
	for k, v := range now {
		delta[k] = v - m.last[k]
	}
	if err := opsmetrics.Write(m.w, m.function, m.now(), delta); err != nil {
		// Metrics are not worth failing a request for; the log says
		// they are missing.
		m.logger.Warn("metrics not written", "error", err.Error())
		return
	}
	m.last, m.lastS, m.lastQ = now, s, q
}
