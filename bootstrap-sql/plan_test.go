package usersql

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

// forms builds the expected statements from names, using the statement
// forms the local test server accepts. Keeping them here, apart from the
// templates, means a template edit that changes a form fails the tests.
type forms struct{ user string }

func (f forms) account() string {
	return sqlident.QuoteIdentifier(f.user) + "@" + sqlident.QuoteString("%")
}
func (f forms) createDatabase(db string) string {
	return "CREATE DATABASE IF NOT EXISTS " + sqlident.QuoteIdentifier(db)
}
func (f forms) createUser() string {
	return "CREATE USER IF NOT EXISTS " + f.account() + " IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'"
}
func (f forms) alterIAM() string {
	return "ALTER USER " + f.account() + " IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'"
}
func (f forms) requireSSL() string { return "ALTER USER " + f.account() + " REQUIRE SSL" }
func (f forms) revokeAll() string {
	return "REVOKE ALL PRIVILEGES, GRANT OPTION FROM " + f.account()
}

// pattern is how a database-level GRANT/REVOKE must name db: `_` escaped,
// since it is a wildcard there (valid names hold no `%` or backslash).
func pattern(db string) string { return "`" + strings.ReplaceAll(db, "_", `\_`) + "`" }
func (f forms) grant(privs []string, db string) string {
	return "GRANT " + strings.Join(privs, ", ") + " ON " + pattern(db) + ".* TO " + f.account()
}
func (f forms) revoke(privs []string, db string) string {
	return "REVOKE " + strings.Join(privs, ", ") + " ON " + pattern(db) + ".* FROM " + f.account()
}
func (f forms) dropUser() string { return "DROP USER IF EXISTS " + f.account() }
func (f forms) sampleTable(db string) string {
	return "CREATE TABLE IF NOT EXISTS " + sqlident.QuoteIdentifier(db) +
		".`items` (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, `name` VARCHAR(200) NOT NULL, `created_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
}

// createForms is what Create must return for a normalized spec.
func createForms(s Spec) []string {
	f := forms{s.User}
	return []string{
		f.createDatabase(s.Database),
		f.createUser(),
		f.alterIAM(),
		f.requireSSL(),
		f.revokeAll(),
		f.grant(s.Privileges, s.Database),
	}
}

func sqlOf(stmts []Statement) []string {
	out := make([]string, len(stmts))
	for i, s := range stmts {
		out[i] = s.SQL
	}
	return out
}

func diffSQL(t *testing.T, got []Statement, want []string) {
	t.Helper()
	g := sqlOf(got)
	if slices.Equal(g, want) {
		return
	}
	t.Errorf("got %d statements, want %d", len(g), len(want))
	for i := 0; i < max(len(g), len(want)); i++ {
		var gi, wi string
		if i < len(g) {
			gi = g[i]
		}
		if i < len(want) {
			wi = want[i]
		}
		if gi != wi {
			t.Errorf("statement %d:\n got: %s\nwant: %s", i, gi, wi)
		}
	}
}

// The exact text for the documented example: this is the contract with the
// local MySQL stand-in, so it is spelled out once in full.
func TestCreateExampleMatchesServerForms(t *testing.T) {
	got, err := Create(Spec{User: "app_user", Database: "appdb", Privileges: []string{"insert", "SELECT"}})
	if err != nil {
		t.Fatal(err)
	}
	diffSQL(t, got, []string{
		"CREATE DATABASE IF NOT EXISTS `appdb`",
		"CREATE USER IF NOT EXISTS `app_user`@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'",
		"ALTER USER `app_user`@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'",
		"ALTER USER `app_user`@'%' REQUIRE SSL",
		"REVOKE ALL PRIVILEGES, GRANT OPTION FROM `app_user`@'%'",
		"GRANT INSERT, SELECT ON `appdb`.* TO `app_user`@'%'",
	})
}

// The sample table is the sample app's own resource: the database if
// missing, then the table, naming the database as an identifier (not the
// escaped grant pattern); a bad name is refused before anything is rendered.
func TestSampleTable(t *testing.T) {
	tests := []struct {
		db      string
		want    []string
		wantErr bool
	}{
		{db: "appdb", want: []string{forms{}.createDatabase("appdb"), forms{}.sampleTable("appdb")}},
		{db: "app_db", want: []string{"CREATE DATABASE IF NOT EXISTS `app_db`",
			"CREATE TABLE IF NOT EXISTS `app_db`.`items` (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, `name` VARCHAR(200) NOT NULL, `created_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"}},
		{db: "app`db", wantErr: true},
		{db: "", wantErr: true},
	}
	for _, tt := range tests {
		st, err := SampleTable(tt.db)
		if (err != nil) != tt.wantErr {
			t.Errorf("SampleTable(%q) error = %v, want error %v", tt.db, err, tt.wantErr)
			continue
		}
		if err == nil {
			diffSQL(t, st, tt.want)
			checkTolerations(t, st)
		}
	}
}

func TestCreate(t *testing.T) {
	tests := []struct {
		spec     Spec
		wantPriv []string
	}{
		{Spec{User: "app_user", Database: "appdb", Privileges: []string{"SELECT"}}, []string{"SELECT"}},
		{Spec{User: "Reporting", Database: "Sales_2024", Privileges: []string{"show view", " select", "SELECT"}}, []string{"SELECT", "SHOW VIEW"}},
		{Spec{User: "user", Database: "items", Privileges: []string{"create temporary  tables", "lock tables"}}, []string{"CREATE TEMPORARY TABLES", "LOCK TABLES"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec.User, func(t *testing.T) {
			got, err := Create(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			want := Spec{User: tt.spec.User, Database: tt.spec.Database, Privileges: tt.wantPriv}
			diffSQL(t, got, createForms(want))
			checkTolerations(t, got)
		})
	}
}

func TestUpdate(t *testing.T) {
	const user, db, otherDB = "app_user", "appdb", "otherdb"
	f := forms{user}
	spec := func(u, d string, privs ...string) Spec { return Spec{User: u, Database: d, Privileges: privs} }
	tests := []struct {
		name     string
		old, new Spec
		want     []string
	}{
		{
			name: "added only",
			old:  spec(user, db, "SELECT"),
			new:  spec(user, db, "SELECT", "INSERT"),
			want: []string{f.alterIAM(), f.requireSSL(), f.grant([]string{"INSERT"}, db)},
		},
		{
			name: "removed only",
			old:  spec(user, db, "SELECT", "INSERT", "DELETE"),
			new:  spec(user, db, "select"),
			want: []string{f.alterIAM(), f.requireSSL(), f.revoke([]string{"DELETE", "INSERT"}, db)},
		},
		{
			name: "added and removed",
			old:  spec(user, db, "SELECT", "INSERT"),
			new:  spec(user, db, "SELECT", "UPDATE", "DELETE"),
			want: []string{f.alterIAM(), f.requireSSL(),
				f.grant([]string{"DELETE", "UPDATE"}, db), f.revoke([]string{"INSERT"}, db)},
		},
		{
			name: "no change after normalization",
			old:  spec(user, db, "SELECT", "INSERT"),
			new:  spec(user, db, " insert", "select", "SELECT"),
			want: []string{f.alterIAM(), f.requireSSL()},
		},
		{
			name: "database changed",
			old:  spec(user, db, "SELECT", "DELETE"),
			new:  spec(user, otherDB, "INSERT", "SELECT"),
			want: []string{f.alterIAM(), f.requireSSL(),
				f.createDatabase(otherDB), f.grant([]string{"INSERT", "SELECT"}, otherDB),
				f.revoke([]string{"DELETE", "SELECT"}, db)},
		},
		{
			name: "user changed",
			old:  spec(user, db, "SELECT"),
			new:  spec("new_user", db, "SELECT", "INSERT"),
			want: createForms(spec("new_user", db, "INSERT", "SELECT")),
		},
		{
			name: "user and database changed",
			old:  spec(user, db, "SELECT"),
			new:  spec("new_user", otherDB, "SELECT"),
			want: createForms(spec("new_user", otherDB, "SELECT")),
		},
		{
			// MySQL user names are case-sensitive: this is another account.
			name: "user name case changed",
			old:  spec(user, db, "SELECT"),
			new:  spec("App_User", db, "SELECT"),
			want: createForms(spec("App_User", db, "SELECT")),
		},
		{
			name: "old invalid (rollback of a rejected update)",
			old:  spec(user, "select", "SELECT"),
			new:  spec(user, db, "SELECT"),
			want: createForms(spec(user, db, "SELECT")),
		},
		{
			name: "old empty",
			old:  Spec{},
			new:  spec(user, db, "SELECT"),
			want: createForms(spec(user, db, "SELECT")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Update(tt.old, tt.new)
			if err != nil {
				t.Fatal(err)
			}
			diffSQL(t, got, tt.want)
			checkTolerations(t, got)
		})
	}
}

// checkTolerations requires every REVOKE, and nothing else, to tolerate
// exactly the "grant does not exist" errors, and every statement to have a
// purpose.
func checkTolerations(t *testing.T, stmts []Statement) {
	t.Helper()
	for _, s := range stmts {
		if s.Purpose == "" {
			t.Errorf("statement %q has no purpose", s.SQL)
		}
		var want []uint16
		if strings.HasPrefix(s.SQL, "REVOKE ") {
			want = []uint16{1141, 1147}
		}
		if !slices.Equal(s.TolerateErrors, want) {
			t.Errorf("statement %q tolerates %v, want %v", s.SQL, s.TolerateErrors, want)
		}
	}
}

// In an Update of the same user, no privilege may be revoked before all
// grants have run, so a failure midway never leaves the user short.
func TestUpdateGrantsBeforeRevoking(t *testing.T) {
	pairs := [][2]Spec{
		{{User: "u", Database: "d", Privileges: []string{"SELECT", "INSERT"}}, {User: "u", Database: "d", Privileges: []string{"UPDATE"}}},
		{{User: "u", Database: "d", Privileges: []string{"SELECT"}}, {User: "u", Database: "e", Privileges: []string{"SELECT"}}},
		{{User: "u", Database: "d", Privileges: []string{"ALTER", "DROP"}}, {User: "u", Database: "d", Privileges: []string{"DROP", "EVENT", "INDEX"}}},
	}
	for _, p := range pairs {
		got, err := Update(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		lastGrant, firstRevoke := -1, len(got)
		for i, s := range got {
			if strings.HasPrefix(s.SQL, "GRANT ") {
				lastGrant = i
			}
			if strings.HasPrefix(s.SQL, "REVOKE ") && i < firstRevoke {
				firstRevoke = i
			}
		}
		if lastGrant < 0 || firstRevoke == len(got) || lastGrant > firstRevoke {
			t.Errorf("Update(%v, %v): want grants, then revokes; got %q", p[0], p[1], sqlOf(got))
		}
	}
}

func TestDelete(t *testing.T) {
	for _, user := range []string{"app_user", "Reporting", "user"} {
		got, err := Delete(Spec{User: user})
		if err != nil {
			t.Fatalf("Delete(%q): %v", user, err)
		}
		diffSQL(t, got, []string{forms{user}.dropUser()})
		checkTolerations(t, got)
	}
	// Only the user matters: an old configuration whose other fields no
	// longer validate must still be deletable.
	if _, err := Delete(Spec{User: "app_user", Database: "mysql", Privileges: []string{"ALL"}}); err != nil {
		t.Errorf("Delete with invalid database and privileges: %v", err)
	}
}

func TestBadSpecsRejected(t *testing.T) {
	good := Spec{User: "app_user", Database: "appdb", Privileges: []string{"SELECT"}}
	tests := []struct {
		name     string
		spec     Spec
		badValue string
	}{
		{"empty user", Spec{User: "", Database: "appdb", Privileges: []string{"SELECT"}}, ""},
		{"injection in user", Spec{User: "a;DROP USER x", Database: "appdb", Privileges: []string{"SELECT"}}, "a;DROP USER x"},
		{"backtick in user", Spec{User: "a`b", Database: "appdb", Privileges: []string{"SELECT"}}, "a`b"},
		{"reserved user", Spec{User: "root", Database: "appdb", Privileges: []string{"SELECT"}}, "root"},
		{"quote in database", Spec{User: "app_user", Database: "db'x", Privileges: []string{"SELECT"}}, "db'x"},
		{"system database", Spec{User: "app_user", Database: "mysql", Privileges: []string{"SELECT"}}, "mysql"},
		{"reserved database", Spec{User: "app_user", Database: "table", Privileges: []string{"SELECT"}}, "table"},
		{"no privileges", Spec{User: "app_user", Database: "appdb", Privileges: nil}, ""},
		{"ALL privileges", Spec{User: "app_user", Database: "appdb", Privileges: []string{"SELECT", "ALL PRIVILEGES"}}, "ALL PRIVILEGES"},
		{"global privilege", Spec{User: "app_user", Database: "appdb", Privileges: []string{"SUPER"}}, "SUPER"},
		{"privilege injection", Spec{User: "app_user", Database: "appdb", Privileges: []string{"SELECT ON *.* TO x; --"}}, "SELECT ON *.* TO x; --"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := map[string]func() ([]Statement, error){
				"Validate":   func() ([]Statement, error) { return nil, tt.spec.Validate() },
				"Create":     func() ([]Statement, error) { return Create(tt.spec) },
				"Update new": func() ([]Statement, error) { return Update(good, tt.spec) },
			}
			for name, call := range calls {
				stmts, err := call()
				if err == nil {
					t.Errorf("%s accepted %v", name, tt.spec)
					continue
				}
				if stmts != nil {
					t.Errorf("%s returned statements with the error", name)
				}
				var inv *sqlident.InvalidError
				if !errors.As(err, &inv) || inv.Value != tt.badValue {
					t.Errorf("%s error %v: want *sqlident.InvalidError for %q", name, err, tt.badValue)
				}
				if !strings.Contains(err.Error(), strconv.Quote(tt.badValue)) {
					t.Errorf("%s error %q does not name %q", name, err, tt.badValue)
				}
			}
		})
	}
	if _, err := Delete(Spec{User: "x`; DROP DATABASE appdb; --"}); err == nil {
		t.Error("Delete accepted an invalid user name")
	}
}

// Validate reports every bad field at once, so a user fixes them in one go.
func TestValidateReportsAllFields(t *testing.T) {
	err := Spec{User: "bad user", Database: "bad-db", Privileges: []string{"SUPER"}}.Validate()
	if err == nil {
		t.Fatal("Validate accepted three bad fields")
	}
	for _, v := range []string{`"bad user"`, `"bad-db"`, `"SUPER"`} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error %q does not mention %s", err, v)
		}
	}
}

func TestNormalize(t *testing.T) {
	in := Spec{User: "app_user", Database: "appdb", Privileges: []string{"select", "INSERT", "insert"}}
	orig := slices.Clone(in.Privileges)
	got, err := in.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"INSERT", "SELECT"}; !slices.Equal(got.Privileges, want) || got.User != in.User || got.Database != in.Database {
		t.Errorf("Normalize() = %v, want privileges %q and names unchanged", got, want)
	}
	if !slices.Equal(in.Privileges, orig) {
		t.Errorf("Normalize modified its receiver: %q", in.Privileges)
	}
}

func TestReset(t *testing.T) {
	s := Spec{User: "app_user", Database: "app_db", Privileges: []string{"SELECT"}}
	f := forms{s.User}
	tests := []struct {
		name    string
		held    Held
		dialect Dialect
		want    []string
	}{
		{"nothing held", Held{}, MySQL, []string{f.alterIAM(), f.requireSSL(), f.revokeAll(), f.grant(s.Privileges, s.Database)}},
		{"MySQL roles", Held{Roles: []Role{{"admin", "%"}, {"o'dd`role", "10.%"}}}, MySQL, []string{
			f.alterIAM(), f.requireSSL(),
			"REVOKE `admin`@'%' FROM " + f.account(),
			"REVOKE `o'dd``role`@'10.%' FROM " + f.account(),
			"SET DEFAULT ROLE NONE TO " + f.account(),
			f.revokeAll(), f.grant(s.Privileges, s.Database)}},
		{"MariaDB role", Held{Roles: []Role{{Name: "admin"}}, DefaultRole: true}, MariaDB, []string{
			f.alterIAM(), f.requireSSL(),
			"REVOKE `admin` FROM " + f.account(),
			"SET DEFAULT ROLE NONE FOR " + f.account(),
			f.revokeAll(), f.grant(s.Privileges, s.Database)}},
		{"MariaDB default role left after its role", Held{DefaultRole: true}, MariaDB, []string{
			f.alterIAM(), f.requireSSL(), "SET DEFAULT ROLE NONE FOR " + f.account(),
			f.revokeAll(), f.grant(s.Privileges, s.Database)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Reset(s, tt.held, tt.dialect)
			if err != nil {
				t.Fatal(err)
			}
			diffSQL(t, got, tt.want)
		})
	}
	if _, err := Reset(Spec{User: "app_user", Database: "appdb", Privileges: []string{"ALL"}}, Held{}, MySQL); err == nil {
		t.Error("Reset accepted an invalid spec")
	}
}

func TestUpdateRefusesCaseOnlyRename(t *testing.T) {
	_, err := Update(Spec{User: "app_user", Database: "AppDB", Privileges: []string{"SELECT"}}, Spec{User: "app_user", Database: "appdb", Privileges: []string{"SELECT"}})
	if !errors.Is(err, ErrCaseOnlyRename) || !strings.Contains(err.Error(), `"AppDB"`) || !strings.Contains(err.Error(), `"appdb"`) {
		t.Fatalf("case-only rename: %v, want ErrCaseOnlyRename naming both names", err)
	}
	// A real rename is still planned.
	if _, err := Update(Spec{User: "app_user", Database: "AppDB", Privileges: []string{"SELECT"}}, Spec{User: "app_user", Database: "reports", Privileges: []string{"SELECT"}}); err != nil {
		t.Fatal(err)
	}
}

func TestRegistryStatements(t *testing.T) {
	setup, err := RegistrySetup()
	if err != nil || len(setup) != 2 || !strings.HasPrefix(setup[0].SQL, "CREATE DATABASE IF NOT EXISTS `rdsiam`") {
		t.Fatalf("RegistrySetup = %v, %v", setup, err)
	}
	claim, err := RegistryClaim("app_user", "stack/Res", true)
	if err != nil || !slices.Equal(claim.Args, []any{"app_user", "%", "stack/Res", 1}) || strings.Count(claim.SQL, "?") != 4 {
		t.Fatalf("RegistryClaim = %+v, %v", claim, err)
	}
	for _, st := range []func(string) (Statement, error){RegistryLookup, AccountHosts} {
		got, err := st("x'); DROP USER y; --")
		if err != nil || strings.Contains(got.SQL, "DROP") || got.Args[0] != "x'); DROP USER y; --" {
			t.Errorf("a user name reached the SQL text instead of an argument: %+v, %v", got, err)
		}
	}
	if _, err := ShowGrants("bad name"); err == nil {
		t.Error("ShowGrants accepted an invalid user name")
	}
}
