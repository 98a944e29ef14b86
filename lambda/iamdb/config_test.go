package iamdb

import (
	"crypto/tls"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// validConfig returns the smallest Config that passes Validate.
func validConfig() Config {
	return Config{
		Host:        "db.cluster-abc123.eu-west-1.rds.amazonaws.com",
		User:        "app_user",
		Region:      "eu-west-1",
		Credentials: testCreds(),
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		// wantFields lists the fields Validate must reject, in order;
		// empty means the config is valid.
		wantFields []string
		wantText   []string // substrings the error must contain
	}{
		{name: "minimal", change: func(*Config) {}},
		{name: "everything set", change: func(c *Config) {
			c.Port, c.Database, c.TLS, c.Now = 3307, "app", &tls.Config{MinVersion: tls.VersionTLS13}, time.Now
			c.TokenReuse, c.MaxOpenConns, c.MaxIdleConns = MaxTokenReuse, MaxOpenConnsLimit, 1
			c.ConnMaxIdleTime, c.ConnMaxLifetime, c.DialTimeout, c.ReadTimeout = time.Hour, MaxConnMaxLifetime, MaxDialTimeout, MaxReadTimeout
			c.AccessDeniedRetryFor, c.MaxNewConnsPerSecond, c.NewConnBurst = MaxAccessDeniedRetryFor, MaxNewConnsPerSecondLimit, MaxOpenConnsLimit
		}},
		{name: "access-denied retrying off", change: func(c *Config) { c.AccessDeniedRetryFor = NoAccessDeniedRetry }},
		{name: "less than one new connection per second", change: func(c *Config) { c.MaxNewConnsPerSecond = 0.5 }},
		{name: "IPv4 host", change: func(c *Config) { c.Host = "127.0.0.1" }},
		{name: "IPv6 host", change: func(c *Config) { c.Host = "::1" }},
		{name: "GovCloud region", change: func(c *Config) { c.Region = "us-gov-west-1" }},
		{name: "sovereign cloud region", change: func(c *Config) { c.Region = "eusc-de-east-1" }},
		{name: "32-character user", change: func(c *Config) { c.User = strings.Repeat("u", 32) }},
		{name: "multibyte user counts characters", change: func(c *Config) { c.User = strings.Repeat("é", 32) }},
		{name: "MaxOpenConns 1 lowers default MaxIdleConns", change: func(c *Config) { c.MaxOpenConns = 1 }},
		{name: "short lifetime lowers default idle time", change: func(c *Config) { c.ConnMaxLifetime = time.Minute }},

		{name: "empty host", change: func(c *Config) { c.Host = "" }, wantFields: []string{"Host"}, wantText: []string{`Config.Host = "": required`}},
		{name: "host with port", change: func(c *Config) { c.Host = "db.example.com:3306" }, wantFields: []string{"Host"}, wantText: []string{`"db.example.com:3306"`, "without scheme or port"}},
		{name: "host with scheme", change: func(c *Config) { c.Host = "mysql://db.example.com" }, wantFields: []string{"Host"}},
		{name: "host with empty label", change: func(c *Config) { c.Host = "db..example.com" }, wantFields: []string{"Host"}},
		{name: "host label starts with hyphen", change: func(c *Config) { c.Host = "-db.example.com" }, wantFields: []string{"Host"}},
		{name: "host too long", change: func(c *Config) { c.Host = strings.Repeat("a.", 127) + "a" }, wantFields: []string{"Host"}, wantText: []string{"longer than 253"}},
		{name: "negative port", change: func(c *Config) { c.Port = -1 }, wantFields: []string{"Port"}, wantText: []string{"Config.Port = -1: allowed 1..65535"}},
		{name: "port too big", change: func(c *Config) { c.Port = 65536 }, wantFields: []string{"Port"}, wantText: []string{"65536"}},
		{name: "empty user", change: func(c *Config) { c.User = "" }, wantFields: []string{"User"}, wantText: []string{`Config.User = ""`, "allowed 1..32 characters"}},
		{name: "user too long", change: func(c *Config) { c.User = strings.Repeat("u", 33) }, wantFields: []string{"User"}, wantText: []string{"33 characters"}},
		{name: "user with newline", change: func(c *Config) { c.User = "app\nuser" }, wantFields: []string{"User"}, wantText: []string{`"app\nuser"`, "control character"}},
		{name: "user not UTF-8", change: func(c *Config) { c.User = "app\xff" }, wantFields: []string{"User"}, wantText: []string{`"app\xff"`, "not valid UTF-8"}},
		{name: "database too long", change: func(c *Config) { c.Database = strings.Repeat("d", 65) }, wantFields: []string{"Database"}, wantText: []string{"allowed 0..64"}},
		{name: "empty region", change: func(c *Config) { c.Region = "" }, wantFields: []string{"Region"}, wantText: []string{`Config.Region = ""`, `"eu-west-1"`}},
		{name: "region in capitals", change: func(c *Config) { c.Region = "EU-WEST-1" }, wantFields: []string{"Region"}},
		{name: "availability zone as region", change: func(c *Config) { c.Region = "eu-west-1a" }, wantFields: []string{"Region"}},
		{name: "nil credentials", change: func(c *Config) { c.Credentials = nil }, wantFields: []string{"Credentials"}, wantText: []string{"Config.Credentials = nil: required"}},
		{name: "TLS without verification", change: func(c *Config) { c.TLS = &tls.Config{InsecureSkipVerify: true} }, wantFields: []string{"TLS"}, wantText: []string{"InsecureSkipVerify=true"}},
		{name: "TLS 1.1 allowed", change: func(c *Config) { c.TLS = &tls.Config{MinVersion: tls.VersionTLS11} }, wantFields: []string{"TLS"}, wantText: []string{"MinVersion=TLS 1.1", "TLS 1.2 or later"}},
		{name: "TLS capped at 1.1", change: func(c *Config) { c.TLS = &tls.Config{MaxVersion: tls.VersionTLS11} }, wantFields: []string{"TLS"}, wantText: []string{"MaxVersion=TLS 1.1"}},
		{name: "negative token reuse", change: func(c *Config) { c.TokenReuse = -time.Second }, wantFields: []string{"TokenReuse"}, wantText: []string{"Config.TokenReuse = -1s", "at most 14m0s"}},
		{name: "token reuse past 14m", change: func(c *Config) { c.TokenReuse = MaxTokenReuse + time.Nanosecond }, wantFields: []string{"TokenReuse"}},
		{name: "negative MaxOpenConns", change: func(c *Config) { c.MaxOpenConns = -1 }, wantFields: []string{"MaxOpenConns"}, wantText: []string{"allowed 1..100"}},
		{name: "MaxOpenConns too big", change: func(c *Config) { c.MaxOpenConns = MaxOpenConnsLimit + 1 }, wantFields: []string{"MaxOpenConns"}},
		{name: "negative MaxIdleConns", change: func(c *Config) { c.MaxIdleConns = -1 }, wantFields: []string{"MaxIdleConns"}},
		{name: "MaxIdleConns above MaxOpenConns", change: func(c *Config) { c.MaxOpenConns, c.MaxIdleConns = 2, 3 }, wantFields: []string{"MaxIdleConns"}, wantText: []string{"Config.MaxIdleConns = 3: allowed 1..MaxOpenConns (2)"}},
		{name: "negative idle time", change: func(c *Config) { c.ConnMaxIdleTime = -time.Minute }, wantFields: []string{"ConnMaxIdleTime"}},
		{name: "idle time above lifetime", change: func(c *Config) { c.ConnMaxIdleTime, c.ConnMaxLifetime = 5*time.Minute, 4*time.Minute }, wantFields: []string{"ConnMaxIdleTime"}, wantText: []string{"at most ConnMaxLifetime (4m0s)"}},
		{name: "negative lifetime", change: func(c *Config) { c.ConnMaxLifetime = -time.Minute }, wantFields: []string{"ConnMaxLifetime"}},
		{name: "lifetime above 8h", change: func(c *Config) { c.ConnMaxLifetime = 9 * time.Hour }, wantFields: []string{"ConnMaxLifetime"}},
		{name: "negative dial timeout", change: func(c *Config) { c.DialTimeout = -time.Second }, wantFields: []string{"DialTimeout"}},
		{name: "negative read timeout", change: func(c *Config) { c.ReadTimeout = -time.Second }, wantFields: []string{"ReadTimeout"}, wantText: []string{"-1s", "0 means 5s"}},
		{name: "read timeout above 15m", change: func(c *Config) { c.ReadTimeout = 16 * time.Minute }, wantFields: []string{"ReadTimeout"}, wantText: []string{"16m0s", "at most 15m0s"}},
		{name: "dial timeout above 1m", change: func(c *Config) { c.DialTimeout = 2 * time.Minute }, wantFields: []string{"DialTimeout"}, wantText: []string{"at most 1m0s"}},
		{name: "negative retry budget", change: func(c *Config) { c.AccessDeniedRetryFor = -time.Second }, wantFields: []string{"AccessDeniedRetryFor"},
			wantText: []string{"Config.AccessDeniedRetryFor = -1s", "at most 5m0s", "NoAccessDeniedRetry"}},
		{name: "retry budget past 5m", change: func(c *Config) { c.AccessDeniedRetryFor = MaxAccessDeniedRetryFor + time.Second }, wantFields: []string{"AccessDeniedRetryFor"}},
		{name: "negative connection rate", change: func(c *Config) { c.MaxNewConnsPerSecond = -1 }, wantFields: []string{"MaxNewConnsPerSecond"},
			wantText: []string{"Config.MaxNewConnsPerSecond = -1: allowed more than 0 and at most 200 (0 means 10)"}},
		{name: "connection rate above Aurora's guidance", change: func(c *Config) { c.MaxNewConnsPerSecond = 201 }, wantFields: []string{"MaxNewConnsPerSecond"}},
		{name: "connection rate NaN", change: func(c *Config) { c.MaxNewConnsPerSecond = math.NaN() }, wantFields: []string{"MaxNewConnsPerSecond"}, wantText: []string{"= NaN"}},
		{name: "negative burst", change: func(c *Config) { c.NewConnBurst = -1 }, wantFields: []string{"NewConnBurst"}, wantText: []string{"Config.NewConnBurst = -1: allowed 1..100 (0 means 2)"}},
		{name: "burst too big", change: func(c *Config) { c.NewConnBurst = MaxOpenConnsLimit + 1 }, wantFields: []string{"NewConnBurst"}},
		{name: "zero config reports every required field", change: func(c *Config) { *c = Config{} }, wantFields: []string{"Host", "User", "Region", "Credentials"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			err := c.Validate()
			var gotFields []string
			for _, e := range flatten(err) {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("Validate returned %T %v, want only *FieldError", e, e)
				}
				gotFields = append(gotFields, fe.Field)
			}
			if strings.Join(gotFields, ",") != strings.Join(tt.wantFields, ",") {
				t.Fatalf("Validate rejected fields %v, want %v (error: %v)", gotFields, tt.wantFields, err)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// flatten returns the errors joined in err, or nil for a nil err.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		name   string
		in     Config
		check  func(Config) bool
		expect string
	}{
		{"port", Config{}, func(c Config) bool { return c.Port == DefaultPort }, "Port 3306"},
		{"token reuse", Config{}, func(c Config) bool { return c.TokenReuse == DefaultTokenReuse }, "TokenReuse 10m"},
		{"pool sizes", Config{}, func(c Config) bool {
			return c.MaxOpenConns == DefaultMaxOpenConns && c.MaxIdleConns == DefaultMaxIdleConns
		}, "MaxOpenConns 2, MaxIdleConns 2"},
		{"idle follows open", Config{MaxOpenConns: 1}, func(c Config) bool { return c.MaxIdleConns == 1 }, "MaxIdleConns 1"},
		{"explicit idle kept", Config{MaxOpenConns: 5, MaxIdleConns: 3}, func(c Config) bool { return c.MaxIdleConns == 3 }, "MaxIdleConns 3"},
		{"times", Config{}, func(c Config) bool {
			return c.ConnMaxIdleTime == DefaultConnMaxIdleTime && c.ConnMaxLifetime == DefaultConnMaxLifetime && c.DialTimeout == DefaultDialTimeout &&
				c.ReadTimeout == DefaultReadTimeout
		}, "4m idle, 14m lifetime, 5s dial, 5s read"},
		{"idle time follows short lifetime", Config{ConnMaxLifetime: time.Minute}, func(c Config) bool { return c.ConnMaxIdleTime == time.Minute }, "ConnMaxIdleTime 1m"},
		{"negative kept for Validate", Config{Port: -5, TokenReuse: -1}, func(c Config) bool { return c.Port == -5 && c.TokenReuse == -1 }, "negative values unchanged"},
		{"clock", Config{}, func(c Config) bool { return c.Now != nil && c.Sleep != nil }, "Now and Sleep set"},
		{"reliability", Config{}, func(c Config) bool {
			return c.AccessDeniedRetryFor == DefaultAccessDeniedRetryFor && c.MaxNewConnsPerSecond == DefaultMaxNewConnsPerSecond && c.NewConnBurst == DefaultNewConnBurst
		}, "30s access-denied retries, 10 new connections per second, burst 2"},
		{"retrying off kept", Config{AccessDeniedRetryFor: NoAccessDeniedRetry}, func(c Config) bool { return c.AccessDeniedRetryFor == NoAccessDeniedRetry }, "NoAccessDeniedRetry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.withDefaults(); !tt.check(got) {
				t.Errorf("withDefaults(%+v) = %+v, want %s", tt.in, got, tt.expect)
			}
		})
	}
}
