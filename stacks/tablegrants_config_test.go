package stacks

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/rdsiam/rdsiam/lambda/sqlident"
	"github.com/rdsiam/rdsiam/lambda/userprops"
)

// contextOf is a CDK context holding ctx and nothing else.
func contextOf(ctx map[string]any) func(string) any {
	return func(k string) any { return ctx[k] }
}

// TestTableGrantsAccepted: tableGrants from cdk.json (JSON types) and from
// `-c` (a JSON string) give the same Config, and grants may be [] with it.
func TestTableGrantsAccepted(t *testing.T) {
	items := []TableGrant{{Table: "items", Privileges: []string{"SELECT"}}}
	for _, tc := range []struct {
		name       string
		ctx        map[string]any
		wantTables []TableGrant
		wantGrants []string
	}{
		{"default", nil, []TableGrant{}, []string{"SELECT", "INSERT"}},
		{"none, from the CLI", map[string]any{"tableGrants": "[]"}, []TableGrant{}, []string{"SELECT", "INSERT"}},
		{"one, from cdk.json", map[string]any{"tableGrants": []any{
			map[string]any{"table": "items", "privileges": []any{"SELECT"}},
		}}, items, []string{"SELECT", "INSERT"}},
		{"two, from the CLI, in any case", map[string]any{"tableGrants": ` [{"table":"items","privileges":["select","show view"]},{"table":"Orders","privileges":["INSERT"]}] `},
			[]TableGrant{{Table: "items", Privileges: []string{"select", "show view"}}, {Table: "Orders", Privileges: []string{"INSERT"}}},
			[]string{"SELECT", "INSERT"}},
		{"grants [] from cdk.json with a table", map[string]any{"grants": []any{}, "tableGrants": []any{
			map[string]any{"table": "items", "privileges": []any{"SELECT"}},
		}}, items, []string{}},
		{"grants [] from the CLI with a table", map[string]any{"grants": "[]", "tableGrants": `[{"table":"items","privileges":["SELECT"]}]`},
			items, []string{}},
		{"grants empty from the CLI with a table", map[string]any{"grants": "", "tableGrants": `[{"table":"items","privileges":["SELECT"]}]`},
			items, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ConfigFromContext(contextOf(tc.ctx))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.TableGrants, tc.wantTables) || !reflect.DeepEqual(c.Grants, tc.wantGrants) {
				t.Errorf("TableGrants = %+v, Grants = %q; want %+v, %q", c.TableGrants, c.Grants, tc.wantTables, tc.wantGrants)
			}
		})
	}
}

// TestTableGrantsRejected: each bad tableGrants (or grants without it)
// fails ConfigFromContext with a ConfigError naming the key, the bad value
// and what is allowed; the tableGrants cases are refused by the
// construct's own rule as well (sqlident.NormalizeTableGrants), so the
// synth refuses what the deployment would.
func TestTableGrantsRejected(t *testing.T) {
	many := make([]string, sqlident.MaxTableGrants+1)
	for i := range many {
		many[i] = `{"table":"t` + strings.Repeat("x", i) + `","privileges":["SELECT"]}`
	}
	for _, tc := range []struct {
		name      string
		ctx       map[string]any
		wantKey   string
		naming    []string // in the message: the bad value, and why
		construct bool     // NormalizeTableGrants refuses the value too
	}{
		{"qualified table name", map[string]any{"tableGrants": `[{"table":"appdb.items","privileges":["SELECT"]}]`},
			"tableGrants", []string{`"appdb.items"`, "items, not appdb.items"}, true},
		{"quote in table name", map[string]any{"tableGrants": "[{\"table\":\"items`; DROP\",\"privileges\":[\"SELECT\"]}]"},
			"tableGrants", []string{"items`; DROP"}, true},
		{"reserved word", map[string]any{"tableGrants": `[{"table":"select","privileges":["SELECT"]}]`},
			"tableGrants", []string{`"select"`, "reserved word"}, true},
		{"unknown privilege", map[string]any{"tableGrants": `[{"table":"items","privileges":["FILE"]}]`},
			"tableGrants", []string{"table items", `"FILE"`}, true},
		{"database-only privilege", map[string]any{"tableGrants": `[{"table":"items","privileges":["SELECT","EXECUTE"]}]`},
			"tableGrants", []string{"table items", `"EXECUTE"`, "database-level privilege"}, true},
		{"ALL", map[string]any{"tableGrants": `[{"table":"items","privileges":["ALL"]}]`},
			"tableGrants", []string{`"ALL"`}, true},
		{"no privileges", map[string]any{"tableGrants": `[{"table":"items","privileges":[]}]`},
			"tableGrants", []string{"table items", "at least one privilege"}, true},
		{"duplicate table", map[string]any{"tableGrants": `[{"table":"items","privileges":["SELECT"]},{"table":"Items","privileges":["INSERT"]}]`},
			"tableGrants", []string{`"Items"`, "named twice"}, true},
		{"too many", map[string]any{"tableGrants": "[" + strings.Join(many, ",") + "]"},
			"tableGrants", []string{"101 entries"}, true},
		{"typo in a field", map[string]any{"tableGrants": `[{"table":"items","privilege":["SELECT"]}]`},
			"tableGrants", []string{`"privilege"`}, false},
		{"not a list", map[string]any{"tableGrants": 3.0}, "tableGrants", []string{"3"}, false},
		{"bad JSON string", map[string]any{"tableGrants": `[{"table":"items"`}, "tableGrants", []string{`[{\"table\":\"items\"`}, false},
		{"grants [] without tableGrants", map[string]any{"grants": []any{}}, "grants", []string{"[]", "tableGrants"}, false},
		{"grants empty from the CLI without tableGrants", map[string]any{"grants": "", "tableGrants": "[]"}, "grants", []string{"[]", "tableGrants"}, false},
		{"bad grants still refused with tableGrants", map[string]any{"grants": "SUPER", "tableGrants": `[{"table":"items","privileges":["SELECT"]}]`},
			"grants", []string{"SUPER"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ConfigFromContext(contextOf(tc.ctx))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if ce.Key != tc.wantKey {
				t.Errorf("key = %q, want %q (%v)", ce.Key, tc.wantKey, err)
			}
			msg := err.Error()
			for _, s := range append(tc.naming, "allowed:") {
				if !strings.Contains(msg, s) {
					t.Errorf("message does not say %q: %v", s, msg)
				}
			}
			if tc.construct {
				var grants []TableGrant
				if err := json.Unmarshal([]byte(tc.ctx["tableGrants"].(string)), &grants); err != nil {
					t.Fatal(err)
				}
				if _, err := sqlident.NormalizeTableGrants(grants); err == nil {
					t.Errorf("the construct's rule accepts %+v, the key refuses it", grants)
				}
			}
		})
	}
}

// TestAppUserTableGrants: the app's user gets tableGrants as the custom
// resource's TableGrants (normalized) and waits for the sample table, whose
// `items` it may grant on; without tableGrants it does not wait (the default
// template stays as it was).
func TestAppUserTableGrants(t *testing.T) {
	bins := map[string]GoBinary{}
	bin := fakeBinary(t)
	for name := range LambdaPackages() {
		bins[name] = bin
	}
	for _, tc := range []struct {
		name       string
		mutate     func(*Config)
		wantTables string // the TableGrants property as JSON; "null" when absent
		wantWait   bool
	}{
		{"default", func(*Config) {}, "null", false},
		{"both", func(c *Config) {
			c.TableGrants = []TableGrant{{Table: "audit_log", Privileges: []string{"INSERT"}}}
		}, `[{"Privileges":["INSERT"],"Table":"audit_log"}]`, true},
		{"table grants only", func(c *Config) {
			c.Grants = []string{}
			c.TableGrants = []TableGrant{{Table: "items", Privileges: []string{"select", "insert"}}}
		}, `[{"Privileges":["INSERT","SELECT"],"Table":"items"}]`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.HumanUsers = []HumanUser{} // only the app's user is a Custom::DatabaseUser
			tc.mutate(&cfg)
			s, err := NewRdsIamStack(awscdk.NewApp(nil), "T", RdsIamStackProps{Config: cfg, Binaries: bins})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(assertions.Template_FromStack(s.Stack, nil).ToJSON())
			if err != nil {
				t.Fatal(err)
			}
			var tmpl cfn
			if err := json.Unmarshal(raw, &tmpl); err != nil {
				t.Fatal(err)
			}
			user := tmpl.one(t, userprops.UserResourceType)
			if got := jsonText(prop(user, userprops.TableGrants)); got != tc.wantTables {
				t.Errorf("TableGrants = %s, want %s", got, tc.wantTables)
			}
			if got, want := jsonText(prop(user, userprops.Privileges)), jsonText(s.User.Grants); got != want {
				t.Errorf("Privileges = %s, want %s", got, want)
			}
			var table string
			for id, r := range tmpl["Resources"].(map[string]any) {
				if r.(map[string]any)["Type"] == userprops.SampleTableResourceType {
					table = id
				}
			}
			if table == "" {
				t.Fatal("no sample table in the template")
			}
			deps, _ := user["DependsOn"].([]any)
			if waits := slices.Contains(deps, any(table)); waits != tc.wantWait {
				t.Errorf("user DependsOn %v; waits for the sample table %s: %v, want %v", deps, table, waits, tc.wantWait)
			}
		})
	}
}
