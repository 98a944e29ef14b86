package stacks

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
}

// TestConfigRejectsBadValues tries every key with bad values and checks the
// error names the key, quotes the value and says what is allowed.
func TestConfigRejectsBadValues(t *testing.T) {
	cases := []struct {
		key   string
		value any
	}{
		{"stackName", ""},
		{"stackName", "1stack"},
		{"stackName", "my_stack"},
		{"stackName", strings.Repeat("a", 129)},
		{"databaseName", ""},
		{"databaseName", "select"},
		{"databaseName", "mysql"},
		{"databaseName", "app`db"},
		{"databaseName", "app'db"},
		{"databaseName", "appdb; DROP DATABASE mysql"},
		{"databaseName", strings.Repeat("d", 65)},
		{"userName", ""},
		{"userName", "root"},
		{"userName", "rdsadmin"},
		{"userName", "app user"},
		{"userName", "app`user"},
		{"userName", "x'@'%"},
		{"userName", strings.Repeat("u", 33)},
		{"userName", "1user"},
		{"grants", []any{}},
		{"grants", ""},
		{"grants", "SELECT,FLY"},
		{"grants", "ALL PRIVILEGES"},
		{"grants", "GRANT OPTION"},
		{"grants", "SUPER"},
		{"grants", "SELECT; DROP TABLE x"},
		{"grants", []any{"SELECT", 3.0}},
		{"grants", `["SELECT"`},
		{"engine", "aurora-postgresql"},
		{"engine", "mysql"},
		{"engineVersion", "2.11.2"},
		{"engineVersion", "3.03.0"},
		{"engineVersion", "3.4"},
		{"engineVersion", "8.0.mysql_aurora.3.08.2"},
		{"engineVersion", "latest"},
		{"writer", "serverless"},
		{"writer", ""},
		{"minCapacity", 0.25},
		{"minCapacity", "0.7"},
		{"minCapacity", "many"},
		{"maxCapacity", 300.0},
		{"maxCapacity", 0.5},
		{"vpcId", "vpc-xyz"},
		{"vpcId", "default"},
		{"subnetIds", "subnet-0aaaaaaaaaaaaaaa1"},
		{"availabilityZones", "eu-west-1a"},
		{"secretsManagerEndpoint", "maybe"},
		{"deletionProtection", "yes please"},
		{"deletionProtection", 1.0},
		{"backupRetentionDays", 0.0},
		{"backupRetentionDays", 36.0},
		{"backupRetentionDays", "7.5"},
		{"removalPolicy", "delete"},
		{"retainUser", "sometimes"},
		{"existingUser", "take-over"},
		{"existingUser", "Adopt"},
		{"functionMemoryMb", 64.0},
		{"functionMemoryMb", "lots"},
		{"functionTimeoutSeconds", 901.0},
		{"functionTimeoutSeconds", 0.0},
		{"functionReservedConcurrency", -1.0},
		{"maxConnections", 0.0},
		{"maxConnections", 101.0},
		{"maxNewConnectionsPerSecond", 0.0},
		{"maxNewConnectionsPerSecond", 201.0},
		{"accessDeniedRetrySeconds", -1.0},
		{"accessDeniedRetrySeconds", "forever"},
		{"readTimeoutSeconds", 0.0},
		{"readTimeoutSeconds", 15.0},
		{"readTimeoutSeconds", "5s"},
		{"nag", "perhaps"},
	}
	for _, tc := range cases {
		t.Run(tc.key+"="+asString(tc.value), func(t *testing.T) {
			ctx := map[string]any{tc.key: tc.value}
			_, err := ConfigFromContext(func(k string) any { return ctx[k] })
			if err == nil {
				t.Fatalf("no error for %s=%v", tc.key, tc.value)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != tc.key {
				t.Fatalf("error %v does not name key %q", err, tc.key)
			}
			msg := err.Error()
			if !strings.Contains(msg, "allowed:") || !strings.Contains(msg, `"`+tc.key+`"`) {
				t.Errorf("message does not name the key and what is allowed: %s", msg)
			}
		})
	}
}

func asString(v any) string {
	s := formatValue(v)
	if len(s) > 30 {
		s = s[:30]
	}
	return s
}

func TestConfigProvisionedClasses(t *testing.T) {
	for _, tc := range []struct {
		class string
		ok    bool
	}{
		{"db.r6g.large", true},
		{"db.r7g.2xlarge", true},
		{"db.t4g.medium", true},
		{"db.t3.medium", true},
		{"db.t3.small", false},
		{"db.t2.small", false},
		{"db.t2.medium", false},
		{"db.t4g.micro", false},
		{"db.serverless", false},
		{"r6g.large", false},
		{"db.R6G.LARGE", false},
	} {
		c := DefaultConfig()
		c.Writer = WriterProvisioned
		c.InstanceClass = tc.class
		err := c.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("instanceClass %q: err = %v, want ok=%v", tc.class, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), tc.class) {
			t.Errorf("error does not name the class: %v", err)
		}
	}
}

func TestConfigFromContextAcceptsCLIStrings(t *testing.T) {
	ctx := map[string]any{
		"grants":                 "select, insert ,UPDATE",
		"minCapacity":            "1",
		"maxCapacity":            "4.5",
		"deletionProtection":     "false",
		"backupRetentionDays":    "14",
		"functionMemoryMb":       "512",
		"vpcId":                  "vpc-0123456789abcdef0",
		"subnetIds":              `["subnet-0aaaaaaaaaaaaaaa1","subnet-0bbbbbbbbbbbbbbb2"]`,
		"availabilityZones":      "eu-west-1a,eu-west-1b",
		"secretsManagerEndpoint": "false",
	}
	c, err := ConfigFromContext(func(k string) any { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.MinCapacity != 1 || c.MaxCapacity != 4.5 || c.DeletionProtection || c.BackupRetentionDays != 14 ||
		c.FunctionMemoryMB != 512 || len(c.SubnetIDs) != 2 || c.AvailabilityZones[1] != "eu-west-1b" ||
		c.SecretsManagerEndpoint || len(c.Grants) != 3 {
		t.Errorf("parsed config = %+v", c)
	}
}

func TestExistingVpcNeedsSubnetsAndZones(t *testing.T) {
	c := DefaultConfig()
	c.VpcID = "vpc-0123456789abcdef0"
	var ce *ConfigError
	if err := c.Validate(); !errors.As(err, &ce) || ce.Key != "subnetIds" {
		t.Errorf("missing subnets: %v", err)
	}
	c.SubnetIDs = []string{"subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"}
	if err := c.Validate(); !errors.As(err, &ce) || ce.Key != "availabilityZones" {
		t.Errorf("missing zones: %v", err)
	}
	c.AvailabilityZones = []string{"eu-west-1a", "eu-west-1b"}
	if err := c.Validate(); err != nil {
		t.Errorf("complete existing VPC config: %v", err)
	}
}

// TestConfigRejectsMeaninglessKeys: a key the chosen writer or network
// makes unused is an error naming it, whether it came from cdk.json or -c;
// the stock cdk.json (every default) passes with either writer.
func TestConfigRejectsMeaninglessKeys(t *testing.T) {
	stock := readStockContext(t)
	for _, tc := range []struct {
		name    string
		ctx     map[string]any
		wantKey string // "" = valid
	}{
		{"stock cdk.json", nil, ""},
		{"stock cdk.json, provisioned", map[string]any{"writer": "provisioned"}, ""},
		{"stock cdk.json, provisioned with its class", map[string]any{"writer": "provisioned", "instanceClass": "db.r7g.xlarge"}, ""},
		{"class with serverless-v2", map[string]any{"instanceClass": "db.r7g.xlarge"}, "instanceClass"},
		{"class with serverless-v2 from -c", map[string]any{"writer": "serverless-v2", "instanceClass": "db.t4g.medium"}, "instanceClass"},
		{"minCapacity with provisioned", map[string]any{"writer": "provisioned", "minCapacity": "1"}, "minCapacity"},
		{"maxCapacity with provisioned", map[string]any{"writer": "provisioned", "maxCapacity": 8.0}, "maxCapacity"},
		{"capacities with serverless-v2", map[string]any{"minCapacity": 1.0, "maxCapacity": 8.0}, ""},
		{"subnetIds without vpcId", map[string]any{"subnetIds": []any{"subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"}}, "subnetIds"},
		{"availabilityZones without vpcId", map[string]any{"availabilityZones": "eu-west-1a,eu-west-1b"}, "availabilityZones"},
		{"no endpoint without vpcId", map[string]any{"secretsManagerEndpoint": false}, "secretsManagerEndpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := map[string]any{}
			for k, v := range stock {
				ctx[k] = v
			}
			for k, v := range tc.ctx {
				ctx[k] = v
			}
			_, err := ConfigFromContext(func(k string) any { return ctx[k] })
			if tc.wantKey == "" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != tc.wantKey {
				t.Fatalf("error %v, want one naming %q", err, tc.wantKey)
			}
			if !strings.Contains(err.Error(), "allowed:") {
				t.Errorf("does not say what is allowed: %v", err)
			}
		})
	}
}

// readStockContext is the committed cdk.json's context.
func readStockContext(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Context
}

// TestUnknownKeySuggestsClosest: a typo names the key meant; a key far from
// every known one gets no guess; CDK's own keys and the stock cdk.json pass.
func TestUnknownKeySuggestsClosest(t *testing.T) {
	for _, tc := range []struct {
		key, suggest string // suggest "" = no guess; "ok" = accepted
	}{
		{"userNmae", "userName"},
		{"username", "userName"},
		{"UserName", "userName"},
		{"instanceType", "instanceClass"},
		{"minCapcity", "minCapacity"},
		{"vpcID", "vpcId"},
		{"grant", "grants"},
		{"functionMemoryMB", "functionMemoryMb"},
		{"deletionProtect", "deletionProtection"},
		{"region", ""},
		{"function", ""}, // three keys start so: no guess
		{"maxConnectionsPerSecond", "maxNewConnectionsPerSecond"},
		{"x", ""},
		{"@aws-cdk/core:newStyleStackSynthesis", "ok"},
		{"availability-zones:account=123456789012:region=eu-west-1", "ok"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			err := CheckKeys(map[string]any{tc.key: "v"})
			if tc.suggest == "ok" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != tc.key {
				t.Fatalf("error %v does not name %q", err, tc.key)
			}
			hasGuess := strings.Contains(err.Error(), "did you mean")
			if tc.suggest == "" && hasGuess {
				t.Errorf("guessed for a key like no other: %v", err)
			}
			if tc.suggest != "" && !strings.Contains(err.Error(), `did you mean "`+tc.suggest+`"?`) {
				t.Errorf("%v does not suggest %q", err, tc.suggest)
			}
		})
	}
	if err := CheckKeys(readStockContext(t)); err != nil {
		t.Errorf("stock cdk.json: %v", err)
	}
}
