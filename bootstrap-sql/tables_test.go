package usersql

import (
	"errors"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

// Table-level statement forms. Neither name is a pattern in a table-level
// grant, so the database is quoted as it is, never escaped.
func (f forms) grantTable(privs []string, db, table string) string {
	return "GRANT " + strings.Join(privs, ", ") + " ON `" + db + "`.`" + table + "` TO " + f.account()
}
func (f forms) revokeTable(privs []string, db, table string) string {
	return "REVOKE " + strings.Join(privs, ", ") + " ON `" + db + "`.`" + table + "` FROM " + f.account()
}

func tables(pairs ...any) []sqlident.TableGrant {
	var out []sqlident.TableGrant
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, sqlident.TableGrant{Table: pairs[i].(string), Privileges: pairs[i+1].([]string)})
	}
	return out
}

func TestCreateWithTableGrants(t *testing.T) {
	f := forms{"app_user"}
	base := []string{f.createDatabase("app_db"), f.createUser(), f.alterIAM(), f.requireSSL(), f.revokeAll()}
	tests := []struct {
		name string
		spec Spec
		want []string
	}{
		{
			name: "tables only",
			spec: Spec{User: "app_user", Database: "app_db", Tables: tables("t2", []string{"insert", "select"}, "t1", []string{"SELECT"})},
			want: append(base[:5:5],
				"GRANT SELECT ON `app_db`.`t1` TO `app_user`@'%'",
				"GRANT INSERT, SELECT ON `app_db`.`t2` TO `app_user`@'%'"),
		},
		{
			name: "database and a table",
			spec: Spec{User: "app_user", Database: "app_db", Privileges: []string{"SELECT"}, Tables: tables("t1", []string{"UPDATE"})},
			want: append(base[:5:5], f.grant([]string{"SELECT"}, "app_db"), f.grantTable([]string{"UPDATE"}, "app_db", "t1")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Create(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			diffSQL(t, got, tt.want)
			checkTolerations(t, got)
		})
	}
}

// A table-level GRANT on a missing table fails with 1146; its statement
// carries the hint the handler adds to that error, naming the table.
func TestTableGrantExplainsMissingTable(t *testing.T) {
	got, err := Create(Spec{User: "app_user", Database: "appdb", Tables: tables("orders", []string{"SELECT"})})
	if err != nil {
		t.Fatal(err)
	}
	last := got[len(got)-1]
	if h := last.Hint(ErrNoSuchTable); !strings.Contains(h, "appdb.orders does not exist") || !strings.Contains(h, "depend") {
		t.Errorf("hint for 1146 on %q = %q", last.SQL, h)
	}
	if h := got[0].Hint(ErrNoSuchTable); h != "" {
		t.Errorf("%q has a table hint %q", got[0].SQL, h)
	}
}

func TestUpdateTableGrants(t *testing.T) {
	const user, db, otherDB = "app_user", "appdb", "otherdb"
	f := forms{user}
	spec := func(d string, privs []string, tbls ...any) Spec {
		return Spec{User: user, Database: d, Privileges: privs, Tables: tables(tbls...)}
	}
	sel := []string{"SELECT"}
	keep := []string{f.alterIAM(), f.requireSSL()}
	tests := []struct {
		name     string
		old, new Spec
		want     []string
		wantErr  error
	}{
		{
			name: "table added",
			old:  spec(db, sel),
			new:  spec(db, sel, "t1", []string{"INSERT"}),
			want: append(keep, f.grantTable([]string{"INSERT"}, db, "t1")),
		},
		{
			name: "table removed: all its privileges revoked",
			old:  spec(db, sel, "t1", []string{"INSERT", "UPDATE"}, "t2", sel),
			new:  spec(db, sel, "t2", sel),
			want: append(keep, f.revokeTable([]string{"INSERT", "UPDATE"}, db, "t1")),
		},
		{
			name: "a table's privileges changed; grants first",
			old:  spec(db, nil, "t1", []string{"SELECT", "DELETE"}),
			new:  spec(db, nil, "t1", []string{"select", "update"}),
			want: append(keep, f.grantTable([]string{"UPDATE"}, db, "t1"), f.revokeTable([]string{"DELETE"}, db, "t1")),
		},
		{
			name: "database grants replaced by a table grant",
			old:  spec(db, []string{"SELECT", "INSERT"}),
			new:  spec(db, nil, "items", sel),
			want: append(keep, f.grantTable(sel, db, "items"), f.revoke([]string{"INSERT", "SELECT"}, db)),
		},
		{
			name: "unchanged",
			old:  spec(db, nil, "t1", sel, "t2", sel),
			new:  spec(db, nil, "t2", sel, "t1", []string{"select"}),
			want: keep,
		},
		{
			name: "database changed: new grants on the new one, then old revoked on the old one",
			old:  spec(db, sel, "t1", sel),
			new:  spec(otherDB, nil, "t1", sel, "t2", []string{"INSERT"}),
			want: append(keep, f.createDatabase(otherDB),
				f.grantTable(sel, otherDB, "t1"), f.grantTable([]string{"INSERT"}, otherDB, "t2"),
				f.revoke(sel, db), f.revokeTable(sel, db, "t1")),
		},
		{
			name:    "table renamed in letter case only",
			old:     spec(db, nil, "Items", sel),
			new:     spec(db, nil, "items", sel),
			wantErr: ErrCaseOnlyRename,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Update(tt.old, tt.new)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || got != nil {
					t.Fatalf("Update = %q, %v; want %v", sqlOf(got), err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			diffSQL(t, got, tt.want)
			checkTolerations(t, got)
		})
	}
}

// The database of a table-level grant is not a pattern: escaped (`app\_db`)
// it would name a database called app\_db, which MariaDB refuses with 1146
// and a server with the table's grant would never match.
func TestTableGrantsDoNotEscape(t *testing.T) {
	s := Spec{User: "app_user", Database: "app_db", Privileges: []string{"SELECT"}, Tables: tables("t_1", []string{"INSERT"})}
	c, err := Create(s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Reset(s, Held{}, MariaDB)
	if err != nil {
		t.Fatal(err)
	}
	u, err := Update(Spec{User: "app_user", Database: "old_db", Tables: tables("t_1", []string{"SELECT"})}, s)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, st := range append(append(c, r...), u...) {
		if strings.Contains(st.SQL, "`.`t_1`") {
			n++
			if strings.Contains(st.SQL, `\_`) {
				t.Errorf("%s: a table-level grant escapes a name", st.SQL)
			}
		}
	}
	if n != 4 { // Create's grant, Reset's grant, Update's grant and revoke
		t.Errorf("checked %d table-level statements, want 4", n)
	}
}

func TestResetRegrantsTables(t *testing.T) {
	s := Spec{User: "app_user", Database: "appdb", Tables: tables("t1", []string{"SELECT"})}
	got, err := Reset(s, Held{}, MySQL)
	if err != nil {
		t.Fatal(err)
	}
	f := forms{s.User}
	diffSQL(t, got, []string{f.alterIAM(), f.requireSSL(), f.revokeAll(), f.grantTable([]string{"SELECT"}, "appdb", "t1")})
}

func TestSpecNeedsSomeGrant(t *testing.T) {
	err := Spec{User: "app_user", Database: "appdb"}.Validate()
	var inv *sqlident.InvalidError
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), "or one table grant") || !strings.Contains(err.Error(), "per table: ALTER") {
		t.Fatalf("no grants at all: %v, want an error naming both kinds", err)
	}
	err = Spec{User: "app_user", Database: "appdb", Tables: tables("appdb.t1", []string{"EXECUTE"})}.Validate()
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), `"appdb.t1"`) {
		t.Fatalf("bad table: %v, want an *InvalidError naming it", err)
	}
}
