package stacks

import (
	"strings"
	"testing"
)

// The zero props are refused before any construct is made, naming every
// missing field, and a port that is not a TCP port is refused naming it.
func TestUserProviderPropsRefused(t *testing.T) {
	tests := []struct {
		name  string
		props UserProviderProps
		want  []string
	}{
		{"zero value", UserProviderProps{}, []string{"user provider Users", "Cluster, AdminSecret, Vpc, Binary required"}},
		{"only the binary", UserProviderProps{Binary: GoBinary{Dir: "/x"}}, []string{"Cluster, AdminSecret, Vpc required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewUserProvider(nil, "Users", tt.props)
			if err == nil || p != nil {
				t.Fatalf("NewUserProvider = %v, %v; want an error", p, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestDatabaseUserPropsZeroValueRefused(t *testing.T) {
	u, err := NewDatabaseUser(nil, "AppUser", DatabaseUserProps{})
	if err == nil || u != nil || !strings.Contains(err.Error(), "Provider is required") {
		t.Errorf("NewDatabaseUser(zero props) = %v, %v; want Provider is required", u, err)
	}
}

func TestReadOnlyGrantsAreAllowedAndFresh(t *testing.T) {
	a := ReadOnlyGrants()
	a[0] = "DROP"
	if got := ReadOnlyGrants(); got[0] != "SELECT" || len(got) != 2 || got[1] != "SHOW VIEW" {
		t.Errorf("ReadOnlyGrants() = %v after a caller changed its copy, want [SELECT SHOW VIEW]", got)
	}
}

// Grants and table grants are checked at synth time with the handler's
// rules, before any construct exists; each error names the bad value and
// what is allowed.
func TestDatabaseUserGrantsValidatedAtSynth(t *testing.T) {
	base := DatabaseUserProps{Provider: &UserProvider{users: map[string]string{}}, UserName: "reports_ro", DatabaseName: "orders"}
	with := func(grants []string, tables ...TableGrant) DatabaseUserProps {
		p := base
		p.Grants, p.TableGrants = grants, tables
		return p
	}
	tests := []struct {
		name  string
		props DatabaseUserProps
		want  []string
	}{
		{"no grants at all", with(nil), []string{"database user Reports", "at least one database-level privilege or one table grant", "per table: ALTER"}},
		{"database prefix on a table", with(nil, TableGrant{Table: "orders.items", Privileges: []string{"SELECT"}}),
			[]string{`table name "orders.items"`, "items, not appdb.items"}},
		{"quote in a table", with(nil, TableGrant{Table: "items`", Privileges: []string{"SELECT"}}), []string{`table name "items` + "`" + `"`, "must match"}},
		{"database-only privilege on a table", with(nil, TableGrant{Table: "items", Privileges: []string{"EXECUTE"}}),
			[]string{"table items", `privilege "EXECUTE"`, "database-level privilege", "allowed: ALTER"}},
		{"grant option on a table", with([]string{"SELECT"}, TableGrant{Table: "items", Privileges: []string{"GRANT OPTION"}}),
			[]string{`privilege "GRANT OPTION"`, "pass its privileges on"}},
		{"table twice", with(nil, TableGrant{Table: "items", Privileges: []string{"SELECT"}}, TableGrant{Table: "Items", Privileges: []string{"INSERT"}}),
			[]string{`"Items"`, "named twice"}},
		{"every bad field at once", DatabaseUserProps{Provider: base.Provider, UserName: "root", DatabaseName: "mysql", Grants: []string{"ALL"}},
			[]string{`user name "root"`, `database name "mysql"`, `privilege "ALL"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := NewDatabaseUser(nil, "Reports", tt.props)
			if err == nil || u != nil {
				t.Fatalf("NewDatabaseUser = %v, %v; want an error", u, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
