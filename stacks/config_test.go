package stacks

import (
	"errors"
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
