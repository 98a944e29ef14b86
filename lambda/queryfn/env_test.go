package queryfn

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

func TestConfigFromEnv(t *testing.T) {
	valid := map[string]string{
		"DB_ENDPOINT": "db.cluster-abc123.eu-west-1.rds.amazonaws.com",
		"DB_USER":     "app_user",
		"DB_NAME":     "app",
		"DB_REGION":   "eu-west-1",
	}
	tests := []struct {
		name     string
		set      map[string]string // overrides of valid; "" unsets
		wantPort int               // checked when no error is expected
		wantErr  []string          // substrings; empty means success
		notErr   []string          // substrings the error must not contain
	}{
		{name: "required only", wantPort: 0},
		{name: "explicit port", set: map[string]string{"DB_PORT": "13306"}, wantPort: 13306},
		{name: "missing endpoint", set: map[string]string{"DB_ENDPOINT": ""}, wantErr: []string{"DB_ENDPOINT is not set"}, notErr: []string{"DB_USER"}},
		{name: "missing user", set: map[string]string{"DB_USER": ""}, wantErr: []string{"DB_USER is not set"}},
		{name: "missing database", set: map[string]string{"DB_NAME": ""}, wantErr: []string{"DB_NAME is not set"}},
		{name: "missing region", set: map[string]string{"DB_REGION": ""}, wantErr: []string{"DB_REGION is not set"}},
		{name: "all missing, all reported", set: map[string]string{"DB_ENDPOINT": "", "DB_USER": "", "DB_NAME": "", "DB_REGION": ""},
			wantErr: []string{"DB_ENDPOINT is not set", "DB_USER is not set", "DB_NAME is not set", "DB_REGION is not set"}},
		{name: "port not a number", set: map[string]string{"DB_PORT": "mysql"}, wantErr: []string{`DB_PORT="mysql": want an integer 1..65535`}},
		{name: "port zero", set: map[string]string{"DB_PORT": "0"}, wantErr: []string{`DB_PORT="0"`}},
		{name: "port too big", set: map[string]string{"DB_PORT": "70000"}, wantErr: []string{`DB_PORT="70000"`}},
		{name: "port with space", set: map[string]string{"DB_PORT": " 3306"}, wantErr: []string{`DB_PORT=" 3306"`}},
		{name: "endpoint with port", set: map[string]string{"DB_ENDPOINT": "db.example.com:3306"}, wantErr: []string{`DB_ENDPOINT="db.example.com:3306"`, "without scheme or port"}},
		{name: "endpoint URL", set: map[string]string{"DB_ENDPOINT": "mysql://db.example.com"}, wantErr: []string{`DB_ENDPOINT="mysql://db.example.com"`}},
		{name: "region typo", set: map[string]string{"DB_REGION": "eu-west"}, wantErr: []string{`DB_REGION="eu-west"`, "AWS region name"}},
		{name: "user too long", set: map[string]string{"DB_USER": strings.Repeat("u", 40)}, wantErr: []string{"DB_USER=", "allowed 1..32"}},
		{name: "database name too long", set: map[string]string{"DB_NAME": strings.Repeat("d", 65)}, wantErr: []string{"DB_NAME=", "allowed 0..64"}},
		{name: "several bad values", set: map[string]string{"DB_REGION": "x", "DB_ENDPOINT": "a b"}, wantErr: []string{"DB_ENDPOINT=", "DB_REGION="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(valid)
			maps.Copy(env, tt.set)
			cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("ConfigFromEnv = %+v, want an error", cfg)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				for _, s := range tt.notErr {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q mentions %q, which is set correctly", err, s)
					}
				}
				if strings.Contains(err.Error(), "Credentials") {
					t.Errorf("error %q blames Credentials, which the caller sets", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ConfigFromEnv: %v", err)
			}
			want := iamdb.Config{Host: env["DB_ENDPOINT"], Port: tt.wantPort, User: env["DB_USER"], Database: env["DB_NAME"], Region: env["DB_REGION"]}
			if cfg.Host != want.Host || cfg.Port != want.Port || cfg.User != want.User || cfg.Database != want.Database || cfg.Region != want.Region {
				t.Errorf("ConfigFromEnv = %+v, want %+v", cfg, want)
			}
			if cfg.Credentials != nil || cfg.TLS != nil {
				t.Errorf("ConfigFromEnv set Credentials or TLS: %+v", cfg)
			}
			// With credentials added, the result must be a usable config.
			cfg.Credentials = iamdbTestCreds{}
			if err := cfg.Validate(); err != nil {
				t.Errorf("config plus credentials does not validate: %v", err)
			}
		})
	}
}

func TestConfigFromEnvNilGetenv(t *testing.T) {
	if _, err := ConfigFromEnv(nil); err == nil {
		t.Fatal("ConfigFromEnv(nil) succeeded, want an error")
	}
}

// iamdbTestCreds is a credentials provider that is never called.
type iamdbTestCreds struct{}

func (iamdbTestCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{}, errors.New("not used")
}

func TestConfigFromEnvOptionalKnobs(t *testing.T) {
	required := map[string]string{
		"DB_ENDPOINT": "db.cluster-abc123.eu-west-1.rds.amazonaws.com",
		"DB_USER":     "app_user",
		"DB_NAME":     "app",
		"DB_REGION":   "eu-west-1",
	}
	tests := []struct {
		name    string
		set     map[string]string
		check   func(iamdb.Config) bool
		want    string // what check expects, for the failure message
		wantErr []string
	}{
		{name: "unset keeps iamdb's defaults", check: func(c iamdb.Config) bool {
			return c.MaxOpenConns == 0 && c.MaxNewConnsPerSecond == 0 && c.NewConnBurst == 0 && c.AccessDeniedRetryFor == 0 && c.ReadTimeout == 0
		}, want: "zero values"},
		{name: "all set", set: map[string]string{"DB_MAX_CONNS": "4", "DB_MAX_NEW_CONNS_PER_SECOND": "2.5", "DB_NEW_CONN_BURST": "3", "DB_ACCESS_DENIED_RETRY_SECONDS": "45", "DB_READ_TIMEOUT_SECONDS": "900"},
			check: func(c iamdb.Config) bool {
				return c.MaxOpenConns == 4 && c.MaxNewConnsPerSecond == 2.5 && c.NewConnBurst == 3 && c.AccessDeniedRetryFor == 45*time.Second && c.ReadTimeout == 15*time.Minute
			}, want: "4 conns, 2.5/s, burst 3, 45s, read timeout 15m"},
		{name: "retry seconds 0 turns retrying off", set: map[string]string{"DB_ACCESS_DENIED_RETRY_SECONDS": "0"},
			check: func(c iamdb.Config) bool { return c.AccessDeniedRetryFor == iamdb.NoAccessDeniedRetry }, want: "NoAccessDeniedRetry"},
		{name: "one connection lowers the idle default too", set: map[string]string{"DB_MAX_CONNS": "1"},
			check: func(c iamdb.Config) bool { return c.MaxOpenConns == 1 && c.Validate() == nil }, want: "MaxOpenConns 1, valid"},
		{name: "max conns zero", set: map[string]string{"DB_MAX_CONNS": "0"}, wantErr: []string{`DB_MAX_CONNS="0": want an integer 1..100 (unset means 2)`}},
		{name: "max conns too big", set: map[string]string{"DB_MAX_CONNS": "101"}, wantErr: []string{`DB_MAX_CONNS="101"`}},
		{name: "max conns not a number", set: map[string]string{"DB_MAX_CONNS": "two"}, wantErr: []string{`DB_MAX_CONNS="two"`}},
		{name: "rate zero", set: map[string]string{"DB_MAX_NEW_CONNS_PER_SECOND": "0"}, wantErr: []string{`DB_MAX_NEW_CONNS_PER_SECOND="0": want a number more than 0 and at most 200`}},
		{name: "rate above Aurora's guidance", set: map[string]string{"DB_MAX_NEW_CONNS_PER_SECOND": "250"}, wantErr: []string{`DB_MAX_NEW_CONNS_PER_SECOND="250"`}},
		{name: "rate NaN", set: map[string]string{"DB_MAX_NEW_CONNS_PER_SECOND": "NaN"}, wantErr: []string{`DB_MAX_NEW_CONNS_PER_SECOND="NaN"`}},
		{name: "rate with unit", set: map[string]string{"DB_MAX_NEW_CONNS_PER_SECOND": "10/s"}, wantErr: []string{`DB_MAX_NEW_CONNS_PER_SECOND="10/s"`}},
		{name: "burst zero", set: map[string]string{"DB_NEW_CONN_BURST": "0"}, wantErr: []string{`DB_NEW_CONN_BURST="0": want an integer 1..100 (unset means 2)`}},
		{name: "retry negative", set: map[string]string{"DB_ACCESS_DENIED_RETRY_SECONDS": "-1"}, wantErr: []string{`DB_ACCESS_DENIED_RETRY_SECONDS="-1": want an integer 0..300; 0 turns retrying off (unset means 30)`}},
		{name: "retry too long", set: map[string]string{"DB_ACCESS_DENIED_RETRY_SECONDS": "301"}, wantErr: []string{`DB_ACCESS_DENIED_RETRY_SECONDS="301"`}},
		{name: "retry seconds overflowing a duration", set: map[string]string{"DB_ACCESS_DENIED_RETRY_SECONDS": "9223372037"}, wantErr: []string{`DB_ACCESS_DENIED_RETRY_SECONDS="9223372037"`}},
		{name: "dial timeout for a pausing cluster", set: map[string]string{"DB_DIAL_TIMEOUT_SECONDS": "30"},
			check: func(c iamdb.Config) bool { return c.DialTimeout == 30*time.Second && c.Validate() == nil }, want: "DialTimeout 30s, valid"},
		{name: "dial timeout above iamdb's minute", set: map[string]string{"DB_DIAL_TIMEOUT_SECONDS": "61"},
			wantErr: []string{`DB_DIAL_TIMEOUT_SECONDS="61": want an integer 1..60 (unset means 5; at least 30 where the cluster can pause)`}},
		{name: "dial timeout 0", set: map[string]string{"DB_DIAL_TIMEOUT_SECONDS": "0"}, wantErr: []string{`DB_DIAL_TIMEOUT_SECONDS="0"`}},
		{name: "read timeout 0", set: map[string]string{"DB_READ_TIMEOUT_SECONDS": "0"}, wantErr: []string{`DB_READ_TIMEOUT_SECONDS="0": want an integer 1..900 (unset means 5)`}},
		{name: "read timeout too long", set: map[string]string{"DB_READ_TIMEOUT_SECONDS": "901"}, wantErr: []string{`DB_READ_TIMEOUT_SECONDS="901"`}},
		{name: "read timeout overflowing a duration", set: map[string]string{"DB_READ_TIMEOUT_SECONDS": "9223372037"}, wantErr: []string{`DB_READ_TIMEOUT_SECONDS="9223372037"`}},
		{name: "read timeout as a duration", set: map[string]string{"DB_READ_TIMEOUT_SECONDS": "5s"}, wantErr: []string{`DB_READ_TIMEOUT_SECONDS="5s"`}},
		{name: "retry as a duration", set: map[string]string{"DB_ACCESS_DENIED_RETRY_SECONDS": "30s"}, wantErr: []string{`DB_ACCESS_DENIED_RETRY_SECONDS="30s"`}},
		{name: "every bad knob reported at once", set: map[string]string{"DB_MAX_CONNS": "0", "DB_NEW_CONN_BURST": "x", "DB_PORT": "0"},
			wantErr: []string{"DB_MAX_CONNS=", "DB_NEW_CONN_BURST=", "DB_PORT="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(required)
			maps.Copy(env, tt.set)
			cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("ConfigFromEnv = %+v, want an error", cfg)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ConfigFromEnv: %v", err)
			}
			cfg.Credentials = iamdbTestCreds{}
			if !tt.check(cfg) {
				t.Errorf("ConfigFromEnv = %+v, want %s", cfg, tt.want)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("config does not validate: %v", err)
			}
		})
	}
}
