// Package opsmetrics names the metrics the query function reports about
// its own connections, and writes them as CloudWatch Embedded Metric Format
// (EMF) lines: one JSON object per line in the function's log, which
// CloudWatch turns into metrics without an API call or any latency on the
// request path.
//
// The table here is the one definition of each metric's name, unit and
// meaning: the query function writes them (package queryfn) and the CDK
// stack draws them on its dashboard and alarms on them (package stacks).
package opsmetrics

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Namespace is the CloudWatch namespace of every metric here.
const Namespace = "rdsiam"

// DimensionFunction is the one dimension every metric carries: the Lambda
// function's name (AWS_LAMBDA_FUNCTION_NAME), so two deployments in one
// account do not add up.
const DimensionFunction = "FunctionName"

// Metric is one metric the function reports, by its CloudWatch metric
// name. Every metric is a count of events since the previous line the
// container wrote; sum them over a period.
type Metric string

// The metrics, in the order they are written.
const (
	Logins               Metric = "Logins"
	LoginFailures        Metric = "LoginFailures"
	TokensSigned         Metric = "TokensSigned"
	TokensReused         Metric = "TokensReused"
	AccessDeniedRetries  Metric = "AccessDeniedRetries"
	RetryTokensReused    Metric = "RetryTokensReused"
	RetryTokensSigned    Metric = "RetryTokensSigned"
	RateLimitWaits       Metric = "RateLimitWaits"
	SilentConnections    Metric = "SilentConnections"
	OutcomeUnknownWrites Metric = "OutcomeUnknownWrites"
)

// meanings says what one count of each metric is, for docs/operating.md
// and the dashboard.
var meanings = map[Metric]string{
	Logins:               "a new database connection logged in with an IAM token",
	LoginFailures:        "a connection request that failed after its retries (the request failed with it)",
	TokensSigned:         "an IAM token signed afresh (each one spends a login of the cluster's IAM throttle budget)",
	TokensReused:         "a login that presented a token already signed (not throttled by Aurora)",
	AccessDeniedRetries:  "a login retried after MySQL error 1045 (IAM propagation, throttling or a real misconfiguration)",
	RetryTokensReused:    "a 1045 retry that presented the same token again (it had more than a minute to live)",
	RetryTokensSigned:    "a 1045 retry that needed a freshly signed token",
	RateLimitWaits:       "a login that waited for the container's new-connection rate limit",
	SilentConnections:    "a connection closed because it stayed silent for the read timeout",
	OutcomeUnknownWrites: "a write whose connection died after it was sent: it may or may not have committed",
}

// Name is the metric's CloudWatch name.
func (m Metric) Name() string { return string(m) }

// Meaning is what one count of the metric is; "" for a Metric not defined
// here.
func (m Metric) Meaning() string { return meanings[m] }

// All lists every metric once, in the order lines carry them; a new slice
// each call.
func All() []Metric {
	return []Metric{
		Logins, LoginFailures, TokensSigned, TokensReused, AccessDeniedRetries,
		RetryTokensReused, RetryTokensSigned, RateLimitWaits, SilentConnections, OutcomeUnknownWrites,
	}
}

// Unit is the CloudWatch unit of every metric here.
const Unit = "Count"

// Values are counts by metric.
type Values map[Metric]uint64

// Write writes one EMF line for function at t with the non-zero values,
// and nothing when all are zero (a warm request on a pooled connection
// costs no log line). It returns w's error.
func Write(w io.Writer, function string, t time.Time, v Values) error {
	type metricDef struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	type directive struct {
		Namespace  string      `json:"Namespace"`
		Dimensions [][]string  `json:"Dimensions"`
		Metrics    []metricDef `json:"Metrics"`
	}
	line := map[string]any{DimensionFunction: function}
	var defs []metricDef
	for _, m := range All() {
		if n := v[m]; n > 0 {
			defs = append(defs, metricDef{Name: m.Name(), Unit: Unit})
			line[m.Name()] = n
		}
	}
	if len(defs) == 0 {
		return nil
	}
	line["_aws"] = map[string]any{
		"Timestamp": t.UnixMilli(),
		"CloudWatchMetrics": []directive{{
			Namespace:  Namespace,
			Dimensions: [][]string{{DimensionFunction}},
			Metrics:    defs,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("opsmetrics: encode: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("opsmetrics: write: %w", err)
	}
	return nil
}
