package dbuser

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

const testSecretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rdsiam-master-AbCdEf"

// goodProps returns valid properties as CloudFormation delivers them: every
// scalar a string.
func goodProps() map[string]any {
	return map[string]any{
		"ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:provider",
		"SecretArn":    testSecretArn,
		"Endpoint":     "db.cluster-abc123.eu-west-1.rds.amazonaws.com",
		"Port":         "3306",
		"UserName":     "app_user",
		"DatabaseName": "appdb",
		"Privileges":   []any{"select", "INSERT"},
	}
}

func with(base map[string]any, key string, v any) map[string]any {
	m := maps.Clone(base)
	m[key] = v
	return m
}

func without(base map[string]any, key string) map[string]any {
	m := maps.Clone(base)
	delete(m, key)
	return m
}

func TestParsePropertiesGood(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]any
		check func(t *testing.T, p Properties)
	}{
		{"strings as CloudFormation sends them", goodProps(), func(t *testing.T, p Properties) {
			if p.Port != 3306 || p.RetainOnDelete || p.Wait != 0 || p.ConnectTimeout != 0 {
				t.Errorf("got %+v", p)
			}
			if !slices.Equal(p.Spec.Privileges, []string{"INSERT", "SELECT"}) {
				t.Errorf("privileges not normalized: %q", p.Spec.Privileges)
			}
			if p.Spec.User != "app_user" || p.Spec.Database != "appdb" || p.SecretArn != testSecretArn {
				t.Errorf("got %+v", p)
			}
		}},
		{"port defaults to 3306", without(goodProps(), "Port"), func(t *testing.T, p Properties) {
			if p.Port != DefaultPort {
				t.Errorf("Port = %d, want %d", p.Port, DefaultPort)
			}
		}},
		{"port as JSON number", with(goodProps(), "Port", float64(3307)), func(t *testing.T, p Properties) {
			if p.Port != 3307 {
				t.Errorf("Port = %d, want 3307", p.Port)
			}
		}},
		{"port as json.Number", with(goodProps(), "Port", json.Number("3308")), func(t *testing.T, p Properties) {
			if p.Port != 3308 {
				t.Errorf("Port = %d, want 3308", p.Port)
			}
		}},
		{"retain as string", with(goodProps(), "RetainOnDelete", "True"), func(t *testing.T, p Properties) {
			if !p.RetainOnDelete {
				t.Error("RetainOnDelete = false, want true")
			}
		}},
		{"retain as bool", with(goodProps(), "RetainOnDelete", true), func(t *testing.T, p Properties) {
			if !p.RetainOnDelete {
				t.Error("RetainOnDelete = false, want true")
			}
		}},
		{"retain false", with(goodProps(), "RetainOnDelete", "false"), func(t *testing.T, p Properties) {
			if p.RetainOnDelete {
				t.Error("RetainOnDelete = true, want false")
			}
		}},
		{"timeouts", with(with(goodProps(), "WaitSeconds", "45"), "ConnectTimeoutSeconds", float64(7)), func(t *testing.T, p Properties) {
			if p.Wait != 45*time.Second || p.ConnectTimeout != 7*time.Second {
				t.Errorf("Wait = %v, ConnectTimeout = %v", p.Wait, p.ConnectTimeout)
			}
		}},
		{"privileges as []string", with(goodProps(), "Privileges", []string{"update"}), func(t *testing.T, p Properties) {
			if !slices.Equal(p.Spec.Privileges, []string{"UPDATE"}) {
				t.Errorf("privileges = %q", p.Spec.Privileges)
			}
		}},
		{"IP endpoint", with(goodProps(), "Endpoint", "127.0.0.1"), func(t *testing.T, p Properties) {
			if p.Endpoint != "127.0.0.1" {
				t.Errorf("Endpoint = %q", p.Endpoint)
			}
		}},
		{"no ServiceToken", without(goodProps(), "ServiceToken"), func(t *testing.T, p Properties) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseProperties(tt.props)
			if err != nil {
				t.Fatalf("ParseProperties: %v", err)
			}
			tt.check(t, p)
		})
	}
}

func TestParsePropertiesBad(t *testing.T) {
	tests := []struct {
		name     string
		props    map[string]any
		property string // the property the error must name
		mention  string // text the message must contain (the value or the rule)
	}{
		{"missing SecretArn", without(goodProps(), "SecretArn"), "SecretArn", "missing"},
		{"missing Endpoint", without(goodProps(), "Endpoint"), "Endpoint", "missing"},
		{"missing UserName", without(goodProps(), "UserName"), "UserName", "missing"},
		{"missing DatabaseName", without(goodProps(), "DatabaseName"), "DatabaseName", "missing"},
		{"missing Privileges", without(goodProps(), "Privileges"), "Privileges", "missing"},
		{"empty UserName", with(goodProps(), "UserName", ""), "UserName", "empty"},
		{"nil properties", nil, "SecretArn", "missing"},

		{"UserName number", with(goodProps(), "UserName", float64(7)), "UserName", "number 7"},
		{"DatabaseName object", with(goodProps(), "DatabaseName", map[string]any{"a": "b"}), "DatabaseName", "an object"},
		{"Privileges string", with(goodProps(), "Privileges", "SELECT,INSERT"), "Privileges", `"SELECT,INSERT" is not a list`},
		{"Privileges element number", with(goodProps(), "Privileges", []any{"SELECT", float64(1)}), "Privileges", "element 1"},
		{"Privileges empty", with(goodProps(), "Privileges", []any{}), "Privileges", "at least one"},
		{"RetainOnDelete yes", with(goodProps(), "RetainOnDelete", "yes"), "RetainOnDelete", `"yes"`},
		{"RetainOnDelete number", with(goodProps(), "RetainOnDelete", float64(1)), "RetainOnDelete", "number 1"},
		{"SecretArn name only", with(goodProps(), "SecretArn", "rdsiam-master"), "SecretArn", `"rdsiam-master"`},
		{"SecretArn other service", with(goodProps(), "SecretArn", "arn:aws:ssm:eu-west-1:123456789012:parameter/x"), "SecretArn", "not a secret ARN"},

		{"bad user name", with(goodProps(), "UserName", "a;DROP USER x"), "UserName", `"a;DROP USER x"`},
		{"reserved user", with(goodProps(), "UserName", "rdsadmin"), "UserName", "reserved account"},
		{"system database", with(goodProps(), "DatabaseName", "mysql"), "DatabaseName", "system schema"},
		{"backtick database", with(goodProps(), "DatabaseName", "db`x"), "DatabaseName", "db`x"},
		{"ALL privileges", with(goodProps(), "Privileges", []any{"ALL"}), "Privileges", `"ALL"`},

		{"unknown key", with(goodProps(), "Password", "x"), "Password", "unknown property"},
		{"two unknown keys", with(with(goodProps(), "userName", "x"), "Extra", 1.0), "Extra, userName", "unknown property"},
		{"empty key", with(goodProps(), "", "x"), `""`, "unknown property"},
		{"key with a newline", with(goodProps(), "a\nb", "x"), `"a\nb"`, "unknown property"},
		{"huge key", with(goodProps(), strings.Repeat("k", 1000), "x"), `"` + strings.Repeat("k", 64) + `"...`, "unknown property"},

		{"port zero", with(goodProps(), "Port", "0"), "Port", "out of range"},
		{"port too big", with(goodProps(), "Port", "65536"), "Port", "out of range"},
		{"port negative number", with(goodProps(), "Port", float64(-1)), "Port", "out of range"},
		{"port text", with(goodProps(), "Port", "33a6"), "Port", `"33a6" is not a whole number`},
		{"port fraction", with(goodProps(), "Port", 3306.5), "Port", "not a whole number"},
		{"port huge number", with(goodProps(), "Port", 1e300), "Port", "not a whole number"},
		{"port bool", with(goodProps(), "Port", true), "Port", "boolean true"},
		{"WaitSeconds too long", with(goodProps(), "WaitSeconds", "901"), "WaitSeconds", "1-900"},
		{"ConnectTimeoutSeconds zero", with(goodProps(), "ConnectTimeoutSeconds", "0"), "ConnectTimeoutSeconds", "1-120"},

		{"endpoint with port", with(goodProps(), "Endpoint", "db.example.com:3306"), "Endpoint", `"db.example.com:3306"`},
		{"endpoint URL", with(goodProps(), "Endpoint", "mysql://db.example.com"), "Endpoint", "not a host name"},
		{"endpoint space", with(goodProps(), "Endpoint", "db example.com"), "Endpoint", "not a host name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProperties(tt.props)
			if err == nil {
				t.Fatal("ParseProperties accepted bad properties")
			}
			if !hasPropertyError(err, tt.property) {
				t.Errorf("error %q has no *PropertyError for %q", err, tt.property)
			}
			if !strings.Contains(err.Error(), "property "+tt.property+":") || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not name property %s and %q", err, tt.property, tt.mention)
			}
		})
	}
}

// hasPropertyError walks a joined error tree for a *PropertyError naming prop.
func hasPropertyError(err error, prop string) bool {
	var pe *PropertyError
	if errors.As(err, &pe) && pe.Property == prop {
		return true
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if hasPropertyError(e, prop) {
				return true
			}
		}
	}
	return false
}

// Every bad property is reported at once, and identifier errors keep their
// type for callers.
func TestParsePropertiesReportsAll(t *testing.T) {
	props := with(with(with(goodProps(), "UserName", "root"), "Port", "x"), "Bogus", "1")
	_, err := ParseProperties(props)
	for _, prop := range []string{"UserName", "Port", "Bogus"} {
		if !hasPropertyError(err, prop) {
			t.Errorf("error %q does not report %s", err, prop)
		}
	}
	var inv *sqlident.InvalidError
	if !errors.As(err, &inv) || inv.Value != "root" {
		t.Errorf("error %q does not wrap the *sqlident.InvalidError for the user name", err)
	}
}

func TestOldSpec(t *testing.T) {
	cur, err := ParseProperties(goodProps())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		old      map[string]any
		wantUser string // "" means the zero Spec (plan from scratch)
	}{
		{"same cluster", goodProps(), "app_user"},
		{"same cluster, port as number", with(goodProps(), "Port", float64(3306)), "app_user"},
		{"endpoint changed", with(goodProps(), "Endpoint", "other.cluster-x.eu-west-1.rds.amazonaws.com"), ""},
		{"port changed", with(goodProps(), "Port", "3307"), ""},
		{"privileges not a list", with(goodProps(), "Privileges", "SELECT"), ""},
		{"missing", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := oldSpec(tt.old, cur)
			if got.User != tt.wantUser {
				t.Errorf("oldSpec().User = %q, want %q (spec %v)", got.User, tt.wantUser, got)
			}
		})
	}
}
