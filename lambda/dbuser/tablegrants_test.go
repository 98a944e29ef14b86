package dbuser

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	usersql "github.com/rdsiam/rdsiam/bootstrap-sql"
	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

func tableGrant(table string, privs ...any) map[string]any {
	return map[string]any{"Table": table, "Privileges": privs}
}

func tableProps(grants ...any) map[string]any {
	return with(without(goodProps(), PropPrivileges), PropTableGrants, grants)
}

func TestParseTableGrants(t *testing.T) {
	tests := []struct {
		name       string
		props      map[string]any
		wantPrivs  []string
		wantTables []sqlident.TableGrant
		wantErr    []string // substrings; nil means valid
	}{
		{name: "tables only, normalized and sorted",
			props:      tableProps(tableGrant("t2", "insert", "SELECT"), tableGrant("t1", "select")),
			wantTables: []sqlident.TableGrant{{Table: "t1", Privileges: []string{"SELECT"}}, {Table: "t2", Privileges: []string{"INSERT", "SELECT"}}}},
		{name: "database and tables",
			props:      with(goodProps(), PropTableGrants, []any{tableGrant("t1", "UPDATE")}),
			wantPrivs:  []string{"INSERT", "SELECT"},
			wantTables: []sqlident.TableGrant{{Table: "t1", Privileges: []string{"UPDATE"}}}},
		{name: "empty Privileges list beside tables",
			props:      with(tableProps(tableGrant("t1", "SELECT")), PropPrivileges, []any{}),
			wantTables: []sqlident.TableGrant{{Table: "t1", Privileges: []string{"SELECT"}}}},
		{name: "neither", props: without(goodProps(), PropPrivileges),
			wantErr: []string{"property Privileges", "required unless TableGrants"}},
		{name: "empty tables, no privileges", props: tableProps(),
			wantErr: []string{"property Privileges", "required unless TableGrants"}},
		{name: "not a list", props: with(goodProps(), PropTableGrants, "t1:SELECT"),
			wantErr: []string{"property TableGrants", `"t1:SELECT" is not a list`}},
		{name: "element not an object", props: tableProps("t1"),
			wantErr: []string{"property TableGrants", `element 0 is "t1", not an object`}},
		{name: "unknown key", props: tableProps(map[string]any{"Table": "t1", "Privileges": []any{"SELECT"}, "Database": "other"}),
			wantErr: []string{"element 0: unknown key Database (allowed: Table, Privileges)"}},
		{name: "no table", props: tableProps(map[string]any{"Privileges": []any{"SELECT"}}),
			wantErr: []string{"element 0", "Table: missing"}},
		{name: "privileges not a list", props: tableProps(map[string]any{"Table": "t1", "Privileges": "SELECT"}),
			wantErr: []string{`element 0 (table "t1")`, "not a list of strings"}},
		{name: "database prefix", props: tableProps(tableGrant("appdb.t1", "SELECT")),
			wantErr: []string{"property TableGrants", `table name "appdb.t1"`, "not appdb.items"}},
		{name: "injection in a table name", props: tableProps(tableGrant("t1` TO x; --", "SELECT")),
			wantErr: []string{"property TableGrants", "must match"}},
		{name: "database-only privilege", props: tableProps(tableGrant("t1", "EXECUTE")),
			wantErr: []string{"property TableGrants", "table t1", `"EXECUTE"`, "database-level privilege"}},
		{name: "grant option", props: tableProps(tableGrant("t1", "SELECT", "GRANT OPTION")),
			wantErr: []string{"table t1", "pass its privileges on"}},
		{name: "table twice", props: tableProps(tableGrant("t1", "SELECT"), tableGrant("T1", "INSERT")),
			wantErr: []string{`"T1"`, "named twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseProperties(tt.props)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(p.Spec.Privileges, tt.wantPrivs) || !reflect.DeepEqual(p.Spec.Tables, tt.wantTables) {
					t.Errorf("got privileges %q tables %+v, want %q %+v", p.Spec.Privileges, p.Spec.Tables, tt.wantPrivs, tt.wantTables)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %v", tt.props)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// The old table grants reach Update's plan, so a dropped table is revoked.
func TestOldSpecTables(t *testing.T) {
	cur, err := ParseProperties(tableProps(tableGrant("t2", "SELECT")))
	if err != nil {
		t.Fatal(err)
	}
	old := oldSpec(tableProps(tableGrant("t1", "SELECT")), cur)
	if !reflect.DeepEqual(old.Tables, []sqlident.TableGrant{{Table: "t1", Privileges: []string{"SELECT"}}}) {
		t.Errorf("old tables %+v", old.Tables)
	}
	if got := oldSpec(with(goodProps(), PropTableGrants, "bad"), cur); got.User != "" {
		t.Errorf("unreadable old TableGrants gave %v, want the zero Spec (plan from scratch)", got)
	}
}

// SHOW GRANTS compared with a spec holding SELECT on app_db and SELECT,
// INSERT on app_db.t1: table lines name the database as it is, unescaped.
func TestFindingsTables(t *testing.T) {
	spec := usersql.Spec{User: "app_user", Database: "app_db", Privileges: []string{"SELECT"},
		Tables: []sqlident.TableGrant{{Table: "t1", Privileges: []string{"INSERT", "SELECT"}}}}
	iam := accountState{exists: true, plugin: iamPlugin, sslType: "ANY"}
	usage := "GRANT USAGE ON *.* TO `app_user`@`%`"
	db := "GRANT SELECT ON `app\\_db`.* TO `app_user`@`%`"
	t1 := "GRANT SELECT, INSERT ON `app_db`.`t1` TO `app_user`@`%`"
	tests := []struct {
		name  string
		lines []string
		fold  bool
		want  []string
	}{
		{"exact", []string{usage, db, t1}, false, nil},
		{"another table", []string{usage, db, t1, "GRANT SELECT ON `app_db`.`t2` TO `app_user`@`%`"}, false,
			[]string{"SELECT on `app_db`.`t2`"}},
		{"more on the table", []string{usage, db, "GRANT SELECT, INSERT, DELETE ON `app_db`.`t1` TO `app_user`@`%`"}, false,
			[]string{"DELETE on `app_db`.`t1`"}},
		{"a column grant is not the table's", []string{usage, db, t1, "GRANT UPDATE (`name`) ON `app_db`.`t1` TO `app_user`@`%`"}, false,
			[]string{"UPDATE ( `name` ) on `app_db`.`t1`"}},
		{"the same table in another database", []string{usage, db, t1, "GRANT SELECT ON `other`.`t1` TO `app_user`@`%`"}, false,
			[]string{"SELECT on `other`.`t1`"}},
		{"an escaped table-level database is another database", []string{usage, db, "GRANT SELECT, INSERT ON `app\\_db`.`t1` TO `app_user`@`%`"}, false,
			[]string{"SELECT on `app\\_db`.`t1`", "INSERT on `app\\_db`.`t1`", "missing INSERT on `app_db`.`t1`", "missing SELECT on `app_db`.`t1`"}},
		{"a routine named like the table", []string{usage, db, t1, "GRANT EXECUTE ON PROCEDURE `app_db`.`t1` TO `app_user`@`%`"}, false,
			[]string{"EXECUTE on PROCEDURE `app_db`.`t1`"}},
		{"grant option on the table", []string{usage, db, t1 + " WITH GRANT OPTION"}, false,
			[]string{"GRANT OPTION on `app_db`.`t1`"}},
		{"table grant missing", []string{usage, db, "GRANT SELECT ON `app_db`.`t1` TO `app_user`@`%`"}, false,
			[]string{"missing INSERT on `app_db`.`t1`"}},
		{"case folded server", []string{usage, db, "GRANT SELECT, INSERT ON `APP_DB`.`T1` TO `app_user`@`%`"}, true, nil},
		{"case sensitive server", []string{usage, db, "GRANT SELECT, INSERT ON `app_db`.`T1` TO `app_user`@`%`"}, false,
			[]string{"SELECT on `app_db`.`T1`", "INSERT on `app_db`.`T1`", "missing INSERT on `app_db`.`t1`", "missing SELECT on `app_db`.`t1`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := readBack{account: iam}
			for _, l := range tt.lines {
				g, err := parseGrantLine(l)
				if err != nil {
					t.Fatal(err)
				}
				rb.lines = append(rb.lines, g)
			}
			if got := rb.findings(spec, server{foldNames: tt.fold}); !slices.Equal(got, tt.want) {
				t.Errorf("findings\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// Create, Update and drift repair on the fake server: the table grants
// are applied, changed exactly, read back, and a stray one is removed.
func TestHandlerTableGrants(t *testing.T) {
	hn := newHarness()
	v1 := tableProps(tableGrant("t1", "SELECT"), tableGrant("t2", "SELECT", "INSERT"))
	if _, err := hn.h.Handle(context.Background(), event(RequestCreate, v1)); err != nil {
		t.Fatal(err)
	}
	wantGrants := func(want map[string][]string) {
		t.Helper()
		got := map[string][]string{}
		for level, privs := range hn.db.grants["app_user"] {
			if len(privs) > 0 {
				got[level] = slices.Sorted(slices.Values(privs))
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("grants %v, want %v", got, want)
		}
	}
	wantGrants(map[string][]string{"`appdb`.`t1`": {"SELECT"}, "`appdb`.`t2`": {"INSERT", "SELECT"}})
	if strings.Contains(hn.logs.String(), "repairing") {
		t.Errorf("the read-back of a correct Create found drift: %s", hn.logs)
	}

	// t1 dropped, t2 loses INSERT, the database gains SELECT.
	v2 := with(tableProps(tableGrant("t2", "SELECT")), PropPrivileges, []any{"SELECT"})
	upd := event(RequestUpdate, v2)
	upd.OldResourceProperties, upd.PhysicalResourceID = v1, "dbuser:app_user"
	before := len(hn.db.statements())
	if _, err := hn.h.Handle(context.Background(), upd); err != nil {
		t.Fatal(err)
	}
	ran := hn.db.statements()[before:]
	for _, want := range []string{
		"GRANT SELECT ON `appdb`.* TO `app_user`@'%'",
		"REVOKE SELECT ON `appdb`.`t1` FROM `app_user`@'%'",
		"REVOKE INSERT ON `appdb`.`t2` FROM `app_user`@'%'",
	} {
		if !slices.Contains(ran, want) {
			t.Errorf("Update did not run %q: %q", want, ran)
		}
	}
	if has(ran, "REVOKE ALL PRIVILEGES") {
		t.Errorf("an exact Update needed a repair: %q", ran)
	}
	wantGrants(map[string][]string{"`appdb`.*": {"SELECT"}, "`appdb`.`t2`": {"SELECT"}})

	// A table grant added by hand is drift: repaired on the next Update.
	hn.db.grants["app_user"]["`appdb`.`secrets`"] = []string{"SELECT"}
	upd.OldResourceProperties = v2
	if _, err := hn.h.Handle(context.Background(), upd); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(hn.logs.String(), "SELECT on `appdb`.`secrets`") {
		t.Errorf("the stray table grant was not reported")
	}
	wantGrants(map[string][]string{"`appdb`.*": {"SELECT"}, "`appdb`.`t2`": {"SELECT"}})
}

// A table that does not exist yet fails the Create with MySQL's 1146 and
// what to do about it, and the half-made account is dropped again.
func TestHandlerMissingTable(t *testing.T) {
	hn := newHarness()
	hn.db.failOn = map[string]error{"GRANT SELECT ON `appdb`.`orders`": &mysql.MySQLError{Number: 1146, Message: "Table 'appdb.orders' doesn't exist"}}
	_, err := hn.h.Handle(context.Background(), event(RequestCreate, tableProps(tableGrant("orders", "SELECT"))))
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1146 {
		t.Fatalf("Create: %v, want the MySQL 1146", err)
	}
	for _, want := range []string{"appdb.orders does not exist", "depend on what creates it", "dropped again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if hn.db.accounts["app_user"] {
		t.Error("the account of the failed Create is still there")
	}
}
