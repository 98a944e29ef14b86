package opsmetrics

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		values Values
		want   map[string]float64 // metric values on the line; nil: no line
	}{
		{name: "nothing happened: no line", values: Values{Logins: 0}},
		{name: "only non-zero counts", values: Values{Logins: 2, TokensSigned: 1, RateLimitWaits: 0},
			want: map[string]float64{"Logins": 2, "TokensSigned": 1}},
		{name: "retries reusing the token", values: Values{AccessDeniedRetries: 3, RetryTokensReused: 3},
			want: map[string]float64{"AccessDeniedRetries": 3, "RetryTokensReused": 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, "fn-1", at, tt.values); err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if buf.Len() != 0 {
					t.Fatalf("wrote %q, want nothing", buf.String())
				}
				return
			}
			if bytes.Count(buf.Bytes(), []byte("\n")) != 1 || !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
				t.Fatalf("want exactly one line, got %q", buf.String())
			}
			var line struct {
				AWS struct {
					Timestamp         int64
					CloudWatchMetrics []struct {
						Namespace  string
						Dimensions [][]string
						Metrics    []struct{ Name, Unit string }
					}
				} `json:"_aws"`
			}
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			var fields map[string]any
			if err := json.Unmarshal(buf.Bytes(), &fields); err != nil {
				t.Fatal(err)
			}
			if line.AWS.Timestamp != at.UnixMilli() || len(line.AWS.CloudWatchMetrics) != 1 {
				t.Fatalf("directive = %+v", line.AWS)
			}
			d := line.AWS.CloudWatchMetrics[0]
			if d.Namespace != Namespace || len(d.Dimensions) != 1 || len(d.Dimensions[0]) != 1 || d.Dimensions[0][0] != DimensionFunction {
				t.Errorf("namespace/dimensions = %q %v", d.Namespace, d.Dimensions)
			}
			if fields[DimensionFunction] != "fn-1" {
				t.Errorf("dimension value = %v", fields[DimensionFunction])
			}
			// Every declared metric has its value on the line, and
			// every wanted value is declared: EMF drops either half
			// alone.
			if len(d.Metrics) != len(tt.want) {
				t.Errorf("declared %v, want %v", d.Metrics, tt.want)
			}
			for _, m := range d.Metrics {
				if m.Unit != Unit || fields[m.Name] != tt.want[m.Name] {
					t.Errorf("metric %s = %v (%s), want %v", m.Name, fields[m.Name], m.Unit, tt.want[m.Name])
				}
			}
		})
	}
}

// The names are CloudWatch metric names the dashboard and alarms look up:
// unique, and within CloudWatch's 1-255 characters with no colon.
func TestMetricNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range All() {
		if m.Name() == "" || len(m.Name()) > 255 || strings.Contains(m.Name(), ":") || seen[m.Name()] || m.Meaning() == "" {
			t.Errorf("metric %q: empty, too long, with a colon, duplicate or undocumented", m)
		}
		seen[m.Name()] = true
	}
}
