package stacks

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// AWS's published defaults: the Aurora User Guide's Serverless v2 table (by
// maximum ACU) and its Aurora MySQL instance-class table.
func TestAuroraMaxConnections(t *testing.T) {
	tests := []struct {
		writer   string
		maxACU   float64
		class    string
		want     int
		wantFrom string
		wantErr  string
	}{
		{writer: WriterServerlessV2, maxACU: 1, want: 90},
		{writer: WriterServerlessV2, maxACU: 2, want: 90}, // between rows: the smaller
		{writer: WriterServerlessV2, maxACU: 4, want: 135},
		{writer: WriterServerlessV2, maxACU: 8, want: 1000},
		{writer: WriterServerlessV2, maxACU: 16, want: 2000},
		{writer: WriterServerlessV2, maxACU: 32, want: 3000},
		{writer: WriterServerlessV2, maxACU: 64, want: 4000},
		{writer: WriterServerlessV2, maxACU: 128, want: 5000, wantFrom: "maxCapacity 128 ACU"},
		{writer: WriterServerlessV2, maxACU: 256, want: 5000},
		{writer: WriterServerlessV2, maxACU: 0.5, wantErr: `"maxCapacity"`},
		{writer: WriterProvisioned, class: "db.t3.medium", want: 90},
		{writer: WriterProvisioned, class: "db.t4g.medium", want: 90},
		{writer: WriterProvisioned, class: "db.t4g.large", want: 135},
		{writer: WriterProvisioned, class: "db.r5.large", want: 1000},
		{writer: WriterProvisioned, class: "db.r6g.large", want: 1000, wantFrom: "db.r6g.large (16 GiB)"},
		{writer: WriterProvisioned, class: "db.r6g.xlarge", want: 2000},
		{writer: WriterProvisioned, class: "db.r7g.2xlarge", want: 3000},
		{writer: WriterProvisioned, class: "db.r5.4xlarge", want: 4000},
		{writer: WriterProvisioned, class: "db.r5.8xlarge", want: 5000},
		{writer: WriterProvisioned, class: "db.r5.12xlarge", want: 6000},
		{writer: WriterProvisioned, class: "db.r5.16xlarge", want: 6000},
		{writer: WriterProvisioned, class: "db.r5.24xlarge", want: 7000},
		{writer: WriterProvisioned, class: "db.x2g.large", want: 2000}, // 32 GiB
		{writer: WriterProvisioned, class: "db.m5.large", wantErr: `"db.m5.large"`},
		{writer: WriterProvisioned, class: "db.t4g.xlarge", wantErr: "db.t3 or db.t4g .medium/.large"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		c.Writer, c.MaxCapacity, c.InstanceClass = tt.writer, tt.maxACU, tt.class
		got, from, err := AuroraMaxConnections(c)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s %g %s: error = %v, want one containing %s", tt.writer, tt.maxACU, tt.class, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want || !strings.Contains(from, tt.wantFrom) {
			t.Errorf("%s %g %s = %d from %q, %v; want %d from %q", tt.writer, tt.maxACU, tt.class, got, from, err, tt.want, tt.wantFrom)
		}
	}
}

func TestConnectionBudget(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		// wantErr substrings; none means the configuration fits.
		wantErr []string
	}{
		{name: "default: 20 x 2 + 1 + 10 = 51 of 90", change: func(*Config) {}},
		{name: "exactly full: 39 x 2 + 1 + 11 = 90", change: func(c *Config) { c.FunctionReservedConcurrency, c.ConnectionHeadroom = 39, 11 }},
		{name: "one over: 40 x 2 + 1 + 10 = 91 of 90",
			change: func(c *Config) { c.FunctionReservedConcurrency = 40 },
			wantErr: []string{"40 x 2 (query function: functionReservedConcurrency x maxConnections)", "+ 1 (database-user provider) + 10 (connectionHeadroom) = 91",
				"max_connections 90 of Aurora Serverless v2 at maxCapacity 2 ACU",
				"functionReservedConcurrency at most 39", "maxConnections at most 1", "larger maxCapacity"}},
		{name: "a big fleet on a small writer",
			change:  func(c *Config) { c.FunctionReservedConcurrency, c.MaxConnections, c.MaxCapacity = 500, 10, 16 },
			wantErr: []string{"500 x 10", "= 5011 connections", "max_connections 2000", "functionReservedConcurrency at most 198", "maxConnections at most 3"}},
		{name: "400 x 10 + 11 is just over 64 ACU's 4000",
			change:  func(c *Config) { c.FunctionReservedConcurrency, c.MaxConnections, c.MaxCapacity = 400, 10, 64 },
			wantErr: []string{"= 4011 connections", "max_connections 4000", "functionReservedConcurrency at most 398"}},
		{name: "a smaller fleet fits that writer",
			change: func(c *Config) { c.FunctionReservedConcurrency, c.MaxConnections, c.MaxCapacity = 398, 10, 64 }},
		{name: "provisioned by memory: 100 x 10 + 1 + 10 over db.r6g.large's 1000",
			change: func(c *Config) {
				c.Writer, c.InstanceClass, c.FunctionReservedConcurrency, c.MaxConnections = WriterProvisioned, "db.r6g.large", 100, 10
			},
			wantErr: []string{"= 1011", "max_connections 1000 of instanceClass db.r6g.large (16 GiB)", "functionReservedConcurrency at most 98"}},
		// With a proxy the fleet's connections end at the proxy; the writer
		// sees the proxy's pool, 87% of 90 = 78, + 1 + 10 = 89.
		{name: "proxy: a fleet far over max_connections fits",
			change: func(c *Config) { c.Proxy, c.FunctionReservedConcurrency = true, 400 }},
		{name: "proxy and readers: reads go straight to a reader, whose max_connections still binds",
			change:  func(c *Config) { c.Proxy, c.Readers, c.FunctionReservedConcurrency = true, 1, 400 },
			wantErr: []string{"400 x 2 (query function", "= 810 connections", "max_connections 90 of Aurora Serverless v2 at maxCapacity 2 ACU, each reader", "functionReservedConcurrency at most 40"}},
		{name: "readers without proxy: the writer check already binds",
			change:  func(c *Config) { c.Readers, c.FunctionReservedConcurrency = 1, 40 },
			wantErr: []string{"= 91 connections"}},
		{name: "no reserved concurrency is an unbounded fleet",
			change:  func(c *Config) { c.FunctionReservedConcurrency = 0 },
			wantErr: []string{`"functionReservedConcurrency"`, "bounded only by the account's concurrency", "1 to 39"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			err := c.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted an over-budget configuration")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not contain %q", err, want)
				}
			}
		})
	}
}

// The proxy gets what the user provider and the headroom leave, rounded down, so
// its pool plus theirs never exceeds max_connections.
func TestProxyMaxConnectionsPercent(t *testing.T) {
	tests := []struct {
		maxCapacity float64
		headroom    int
		want        int
	}{
		{2, 10, 87},  // 90: 100*(90-11)/90 = 87.7
		{16, 10, 99}, // 2000: 100*1989/2000 = 99.45
		{1, 0, 98},   // 90 at 1 ACU: 100*89/90 = 98.9
		{2, 80, 10},  // 100*9/90 = 10
	}
	for _, tt := range tests {
		c := DefaultConfig()
		c.Proxy, c.MaxCapacity, c.ConnectionHeadroom = true, tt.maxCapacity, tt.headroom
		got, err := c.ProxyMaxConnectionsPercent()
		if err != nil || got != tt.want {
			t.Errorf("maxCapacity %g, headroom %d: %d, %v; want %d", tt.maxCapacity, tt.headroom, got, err, tt.want)
		}
		max, _, _ := AuroraMaxConnections(c)
		if pool := max * got / 100; pool+1+tt.headroom > max {
			t.Errorf("maxCapacity %g: proxy pool %d + 1 + %d exceeds %d", tt.maxCapacity, pool, tt.headroom, max)
		}
	}
	c := DefaultConfig()
	c.Proxy, c.ConnectionHeadroom = true, 89
	if _, err := c.ProxyMaxConnectionsPercent(); err == nil || !strings.Contains(err.Error(), `"connectionHeadroom"`) {
		t.Errorf("headroom leaving the proxy nothing: %v", err)
	}
}

// The arithmetic with more than one fleet, as a stack with several
// functions would build it.
func TestConnectionBudgetDemand(t *testing.T) {
	b := ConnectionBudget{MaxConnections: 1000, Source: "test", Provider: 2, Headroom: 10, Fleets: []FleetConnections{
		{Name: "a", ReservedConcurrency: 100, PerContainer: 5, ConcurrencyKey: "aConc", PerContainerKey: "aConns"},
		{Name: "b", ReservedConcurrency: 40, PerContainer: 10, ConcurrencyKey: "bConc", PerContainerKey: "bConns"},
	}}
	if got := b.Demand(); got != 100*5+40*10+2+10 {
		t.Fatalf("Demand = %d, want 912", got)
	}
	if err := b.Check(); err != nil {
		t.Fatalf("912 of 1000: %v", err)
	}
	b.Fleets[1].ReservedConcurrency = 50 // 1012
	err := b.Check()
	if err == nil || !strings.Contains(err.Error(), "= 1012 connections") || !strings.Contains(err.Error(), "bConc at most 48") ||
		!strings.Contains(err.Error(), "aConc at most 97") {
		t.Fatalf("1012 of 1000: %v", err)
	}
}

func TestAutoPause(t *testing.T) {
	paused := func(c *Config) { c.MinCapacity, c.DialTimeoutSeconds, c.FunctionTimeoutSeconds = 0, 30, 40 }
	tests := []struct {
		name    string
		change  func(*Config)
		wantKey string // "" means valid
		wantMsg string
	}{
		{name: "minCapacity 0 on 3.08.2 with a resume budget", change: paused},
		{name: "minCapacity 0 on 3.07", change: func(c *Config) { paused(c); c.EngineVersion = "3.07.1" },
			wantKey: "minCapacity", wantMsg: "3.08.0 or later"},
		{name: "dial budget too short for a resume", change: func(c *Config) { paused(c); c.DialTimeoutSeconds = 5 },
			wantKey: "dialTimeoutSeconds", wantMsg: "waits for the writer to resume"},
		{name: "function timeout too short for a resume and a statement", change: func(c *Config) { paused(c); c.FunctionTimeoutSeconds = 35 },
			wantKey: "functionTimeoutSeconds", wantMsg: "more than 35 seconds"},
		{name: "pause delay below 5 minutes", change: func(c *Config) { paused(c); c.AutoPauseSeconds = 60 },
			wantKey: "autoPauseSeconds", wantMsg: "300 to 86400"},
		{name: "minCapacity 0.25 is still refused", change: func(c *Config) { c.MinCapacity = 0.25 }, wantKey: "minCapacity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			err := c.Validate()
			if tt.wantKey == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != tt.wantKey || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Validate = %v, want key %q and %q", err, tt.wantKey, tt.wantMsg)
			}
		})
	}
}

func TestMonitoringKeys(t *testing.T) {
	tests := []struct {
		key    string
		change func(*Config)
	}{
		{"logRetentionDays", func(c *Config) { c.LogRetentionDays = 10 }},
		{"alarmTopicArn", func(c *Config) { c.AlarmTopicArn = "ops-topic" }},
		{"alarmTopicArn", func(c *Config) { c.AlarmTopicArn, c.Alarms = "arn:aws:sns:eu-west-1:123456789012:ops", false }},
		{"connectionHeadroom", func(c *Config) { c.ConnectionHeadroom = -1 }},
		{"dialTimeoutSeconds", func(c *Config) { c.DialTimeoutSeconds = 61 }},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		tt.change(&c)
		var ce *ConfigError
		if err := c.Validate(); !errors.As(err, &ce) || ce.Key != tt.key {
			t.Errorf("%s: Validate = %v, want a ConfigError for it", tt.key, err)
		}
	}
	c := DefaultConfig()
	c.AlarmTopicArn = "arn:aws:sns:eu-west-1:123456789012:ops"
	if err := c.Validate(); err != nil {
		t.Errorf("a topic ARN: %v", err)
	}
}

// A fleet that would exceed max_connections is refused at synth: from cdk.json
// and -c values (strings, as the CLI passes them) through ConfigFromContext,
// and again by NewRdsIamStack before it builds anything.
func TestOverBudgetFleetRefusedAtSynth(t *testing.T) {
	ctx := map[string]any{"functionReservedConcurrency": "100", "maxConnections": "5", "maxCapacity": 4.0}
	_, err := ConfigFromContext(func(k string) any { return ctx[k] })
	for _, want := range []string{"100 x 5", "= 511 connections", "max_connections 135 of Aurora Serverless v2 at maxCapacity 4 ACU",
		"functionReservedConcurrency at most 24", "maxConnections at most 1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ConfigFromContext error = %v, want one containing %q", err, want)
		}
	}
	c := DefaultConfig()
	c.FunctionReservedConcurrency, c.MaxConnections, c.MaxCapacity = 100, 5, 4
	if _, err := NewRdsIamStack(nil, "Over", RdsIamStackProps{Config: c}); err == nil || !strings.Contains(err.Error(), "connection budget") {
		t.Errorf("NewRdsIamStack error = %v, want the connection budget", err)
	}
}

// The operations keys arrive from -c as strings and from cdk.json as JSON.
func TestOperationsKeysFromContext(t *testing.T) {
	ctx := map[string]any{
		"connectionHeadroom": "5", "dialTimeoutSeconds": "30", "autoPauseSeconds": 600.0, "iamAuthLogExport": "false",
		"logRetentionDays": "30", "alarms": true, "alarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:ops", "dashboard": "false",
		"minCapacity": "0", "functionTimeoutSeconds": "40",
	}
	c, err := ConfigFromContext(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.ConnectionHeadroom != 5 || c.DialTimeoutSeconds != 30 || c.AutoPauseSeconds != 600 || c.IamAuthLogExport ||
		c.LogRetentionDays != 30 || !c.Alarms || c.AlarmTopicArn != ctx["alarmTopicArn"] || c.Dashboard || c.MinCapacity != 0 {
		t.Errorf("config %+v", c)
	}
	for _, key := range []string{"connectionHeadroom", "dialTimeoutSeconds", "autoPauseSeconds", "iamAuthLogExport",
		"logRetentionDays", "alarms", "alarmTopicArn", "dashboard"} {
		if !slices.Contains(ContextKeys(), key) {
			t.Errorf("ContextKeys lacks %q", key)
		}
	}
}
