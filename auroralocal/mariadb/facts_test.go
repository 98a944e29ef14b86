package mariadb

import (
	"database/sql"
	"slices"
	"testing"
)

// Engine facts the least-privilege work (issue 9) depends on, shown on a
// real MySQL-family server. They test MariaDB, not rdsiam: if a MariaDB
// update changed one, the handler's assumptions would need another look.

// TestFactUnderscoreIsAWildcardInDatabaseGrants: a database-level grant's
// name is a LIKE pattern. Granted SELECT, CREATE ON `app_db`.*, a user may
// create the schema app1db and tables in it; granted on `app\_db`.* (the
// escaped name), it may not — but may still use app_db itself.
func TestFactUnderscoreIsAWildcardInDatabaseGrants(t *testing.T) {
	srv := startServer(t, Options{})
	db := master(t, srv)
	mustExec(t, db,
		"CREATE DATABASE app_db",
		"CREATE USER 'wild'@'%' IDENTIFIED BY 'wild-password-1'",
		"GRANT SELECT, CREATE ON `app_db`.* TO 'wild'@'%'",
		"CREATE USER 'escaped'@'%' IDENTIFIED BY 'escaped-password-1'",
		"GRANT SELECT, CREATE ON `app\\_db`.* TO 'escaped'@'%'",
	)
	wild := open(t, srv, "wild", "wild-password-1", true)
	escaped := open(t, srv, "escaped", "escaped-password-1", true)

	for _, tc := range []struct {
		name    string
		db      *sql.DB
		stmt    string
		allowed bool
	}{
		{"unescaped grant: the named database", wild, "CREATE TABLE app_db.w (id INT)", true},
		{"unescaped grant: CREATE DATABASE app1db", wild, "CREATE DATABASE app1db", true},
		{"unescaped grant: a table in app1db", wild, "CREATE TABLE app1db.t (id INT)", true},
		{"unescaped grant: CREATE DATABASE appXdb", wild, "CREATE DATABASE appXdb", true},
		{"unescaped grant: a non-matching name", wild, "CREATE DATABASE appdb2", false},
		{"escaped grant: the named database", escaped, "CREATE TABLE app_db.e (id INT)", true},
		{"escaped grant: CREATE DATABASE app2db", escaped, "CREATE DATABASE app2db", false},
		{"escaped grant: a table in app1db", escaped, "CREATE TABLE app1db.e (id INT)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.db.Exec(tc.stmt)
			if tc.allowed && err != nil {
				t.Fatalf("%s: %v, want allowed", tc.stmt, err)
			}
			if !tc.allowed && errNumber(err) != 1044 && errNumber(err) != 1142 {
				t.Fatalf("%s: %v, want access denied (1044/1142)", tc.stmt, err)
			}
		})
	}
	// SHOW GRANTS keeps the escape: what a read-back must compare.
	grants, err := srv.Grants("escaped", "%")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`CREATE ON app\_db.*`, `SELECT ON app\_db.*`}; !slices.Equal(grants, want) {
		t.Errorf("escaped grants read back as %q, want %q", grants, want)
	}
}

// TestFactRevokeAllAndRoles: what REVOKE ALL PRIVILEGES, GRANT OPTION does
// to an existing account's roles on MariaDB 10.11, and what removes them.
//
// MariaDB drops the role grant with REVOKE ALL but keeps the account's
// DEFAULT ROLE: granting the role again later (a DBA's script, a second
// stack) makes it active at the next login without anyone setting it.
// MySQL 8.0 (Aurora MySQL 3) differs: REVOKE ALL covers privileges, not
// granted roles, so the role itself stays. On both, an explicit REVOKE of
// each granted role and SET DEFAULT ROLE NONE leave nothing; on MariaDB
// REVOKE of a role no longer granted is error 1962, so read the roles
// (SHOW GRANTS) before revoking.
func TestFactRevokeAllAndRoles(t *testing.T) {
	srv := startServer(t, Options{})
	db := master(t, srv)
	const pw = "app-user-password-1"
	adopt := func(t *testing.T) {
		mustExec(t, db,
			"DROP USER IF EXISTS 'app_user'@'%'",
			"CREATE USER 'app_user'@'%' IDENTIFIED BY '"+pw+"'",
			"GRANT powerful TO 'app_user'@'%'",
			"SET DEFAULT ROLE powerful FOR 'app_user'@'%'")
	}
	canCreateDatabase := func(t *testing.T, name string) bool {
		u := open(t, srv, "app_user", pw, true)
		_, err := u.Exec("CREATE DATABASE " + name)
		if err != nil && errNumber(err) != 1044 {
			t.Fatalf("CREATE DATABASE %s: %v", name, err)
		}
		return err == nil
	}
	wantGrants := func(t *testing.T, want ...string) {
		t.Helper()
		got, err := srv.Grants("app_user", "%")
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = []string{}
		}
		if !slices.Equal(got, want) {
			t.Errorf("grants %q, want %q", got, want)
		}
	}
	mustExec(t, db, "CREATE ROLE powerful", "GRANT ALL PRIVILEGES ON *.* TO powerful")

	t.Run("the role works before", func(t *testing.T) {
		adopt(t)
		wantGrants(t, "DEFAULT ROLE powerful", "ROLE powerful")
		if !canCreateDatabase(t, "taken1") {
			t.Fatal("the default role did not give CREATE")
		}
	})
	t.Run("REVOKE ALL drops the role grant but keeps the default role", func(t *testing.T) {
		adopt(t)
		mustExec(t, db, "REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'app_user'@'%'")
		wantGrants(t, "DEFAULT ROLE powerful")
		if canCreateDatabase(t, "taken2") {
			t.Error("CREATE DATABASE allowed after REVOKE ALL")
		}
		// Re-granted later, the kept default role is active at once.
		mustExec(t, db, "GRANT powerful TO 'app_user'@'%'")
		if !canCreateDatabase(t, "taken3") {
			t.Error("the re-granted role was not active at login: the default role did not survive REVOKE ALL")
		}
		_, err := db.Exec("REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'app_user'@'%'")
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Exec("REVOKE powerful FROM 'app_user'@'%'")
		if errNumber(err) != 1962 {
			t.Errorf("REVOKE of a role no longer granted: %v, want error 1962", err)
		}
	})
	t.Run("REVOKE each role and SET DEFAULT ROLE NONE leave nothing", func(t *testing.T) {
		adopt(t)
		mustExec(t, db,
			"REVOKE powerful FROM 'app_user'@'%'",
			"SET DEFAULT ROLE NONE FOR 'app_user'@'%'",
			"REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'app_user'@'%'")
		wantGrants(t)
		mustExec(t, db, "GRANT powerful TO 'app_user'@'%'", "REVOKE powerful FROM 'app_user'@'%'")
		if canCreateDatabase(t, "taken4") {
			t.Error("CREATE DATABASE allowed after the roles were removed")
		}
	})
}
