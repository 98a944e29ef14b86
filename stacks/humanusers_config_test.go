package stacks

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestHumanUsersRejected: each bad "humanUsers" value fails with an error
// that names the exact key (down to the entry and field) and the bad value.
func TestHumanUsersRejected(t *testing.T) {
	long := strings.Repeat("s", 100)
	cases := []struct {
		name    string
		ctx     map[string]any
		wantKey string
		naming  string // the bad value the message must quote
	}{
		{"not a list", map[string]any{"humanUsers": 3.0}, "humanUsers", "3"},
		{"bad JSON string", map[string]any{"humanUsers": `[{"name":"a"`}, "humanUsers", `[{\"name\":\"a\"`},
		{"typo in a field", map[string]any{"humanUsers": `[{"name":"ro","grant":["SELECT"]}]`}, "humanUsers", "grant"},
		{"list of strings", map[string]any{"humanUsers": []any{"ro"}}, "humanUsers", "ro"},
		{"reserved name", map[string]any{"humanUsers": `[{"name":"root","grants":["SELECT"]}]`}, "humanUsers[0].name", "root"},
		{"quote in name", map[string]any{"humanUsers": `[{"name":"x'@'%","grants":["SELECT"]}]`}, "humanUsers[0].name", `x'@'%`},
		{"empty grants", map[string]any{"humanUsers": `[{"name":"ro","grants":[]}]`}, "humanUsers[0].grants", "[]"},
		{"ALL", map[string]any{"humanUsers": `[{"name":"ro","grants":["ALL"]}]`}, "humanUsers[0].grants", "ALL"},
		{"unknown privilege", map[string]any{"humanUsers": []any{
			map[string]any{"name": "ro", "grants": []any{"SELECT"}},
			map[string]any{"name": "rw", "grants": []any{"SELECT", "FILE"}},
		}}, "humanUsers[1].grants", "FILE"},
		{"same as the function's user", map[string]any{"humanUsers": `[{"name":"APP_USER","grants":["SELECT"]}]`}, "humanUsers[0].name", "APP_USER"},
		{"duplicate ignoring case", map[string]any{"humanUsers": `[{"name":"ro","grants":["SELECT"]},{"name":"RO","grants":["SELECT"]}]`}, "humanUsers[1].name", "RO"},
		{"policy name too long", map[string]any{"stackName": long, "humanUsers": `[{"name":"people_readonly_users","grants":["SELECT"]}]`}, "humanUsers[0].name", "people_readonly_users"},
		{"bastion policy name too long", map[string]any{"stackName": strings.Repeat("s", 120), "ssmBastion": true, "humanUsers": "[]"}, "stackName", "-bastion-session"},
		{"too many", map[string]any{"humanUsers": strings.Repeat(`{"name":"u","grants":["SELECT"]},`, 10) + `{}`}, "humanUsers", ""},
		{"cloudShellAccess not a bool", map[string]any{"cloudShellAccess": "sure"}, "cloudShellAccess", "sure"},
		{"ssmBastion not a bool", map[string]any{"ssmBastion": 1.0}, "ssmBastion", "1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "too many" {
				tc.ctx["humanUsers"] = "[" + strings.TrimSuffix(tc.ctx["humanUsers"].(string), ",{}") + `,{"name":"v","grants":["SELECT"]}]`
			}
			_, err := ConfigFromContext(func(k string) any { return tc.ctx[k] })
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if ce.Key != tc.wantKey {
				t.Errorf("key = %q, want %q (%v)", ce.Key, tc.wantKey, err)
			}
			if !strings.Contains(err.Error(), tc.naming) || !strings.Contains(err.Error(), "allowed:") {
				t.Errorf("message does not name %q and what is allowed: %v", tc.naming, err)
			}
		})
	}
}

func TestHumanUsersAccepted(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  any
		want []HumanUser
	}{
		{"default", nil, DefaultHumanUsers()},
		{"none, from the CLI", "[]", []HumanUser{}},
		{"none, from cdk.json", []any{}, []HumanUser{}},
		{"two, from cdk.json", []any{
			map[string]any{"name": "people_ro", "grants": []any{"SELECT"}},
			map[string]any{"name": "oncall", "grants": []any{"SELECT", "UPDATE"}},
		}, []HumanUser{{"people_ro", []string{"SELECT"}}, {"oncall", []string{"SELECT", "UPDATE"}}}},
		{"one, from the CLI", `[{"name":"analyst","grants":["select","show view"]}]`, []HumanUser{{"analyst", []string{"select", "show view"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ConfigFromContext(func(k string) any {
				if k == "humanUsers" {
					return tc.raw
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.HumanUsers, tc.want) {
				t.Errorf("HumanUsers = %+v, want %+v", c.HumanUsers, tc.want)
			}
		})
	}
}
