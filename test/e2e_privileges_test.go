package test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"rdsiam/auroralocal/fromstack"
	bootstrapsql "rdsiam/bootstrap-sql"
	"rdsiam/lambda/dbuser"
	"rdsiam/lambda/iamdb"
)

// The least-privilege promise, end to end: exactly the configured privileges
// on exactly one database, nothing inherited from an account that existed
// before, nothing left behind, and what was applied read back.

// iamDB logs in as user with a fresh token from the query role, as the
// function would, over TLS.
func iamDB(t *testing.T, l *fromstack.Local, user string) *sql.DB {
	t.Helper()
	creds := credentials.NewStaticCredentialsProvider(l.QueryKeys.AccessKeyID, l.QueryKeys.SecretAccessKey, "")
	tok, err := iamdb.BuildToken(context.Background(), l.Server.Endpoint(), l.Server.Region(), user, creds, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return openDirect(t, l, user, tok, true)
}

func mustExecAll(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// An account that existed before (a password user holding a role with ALL
// ON *.* and grants elsewhere) is refused by default, with nothing changed;
// adopted on request it loses its password, role and stray grants; and
// Delete keeps it, since the stack did not create it.
func TestE2EExistingAccount(t *testing.T) {
	l := deployLocal(t)
	master := masterDB(t, l)
	mustExecAll(t, master,
		"CREATE DATABASE IF NOT EXISTS appdb",
		"CREATE DATABASE IF NOT EXISTS otherdb",
		"CREATE USER 'app_user'@'%' IDENTIFIED BY 'an-old-password-1'",
		"GRANT SELECT, DELETE ON appdb.* TO 'app_user'@'%'",
		"GRANT SELECT ON otherdb.* TO 'app_user'@'%'",
		"CREATE ROLE 'power_role'",
		"GRANT ALL ON *.* TO 'power_role'",
		"GRANT 'power_role' TO 'app_user'@'%'",
	)
	id := l.Stack.UserIDs[0]
	props, err := l.UserProperties(id)
	if err != nil {
		t.Fatal(err)
	}
	h := l.BootstrapHandler(nil)

	// Refused, naming the account and the switch; nothing changed.
	_, err = h.Handle(context.Background(), l.UserEvent("Create", id, "", props, nil))
	if !errors.Is(err, dbuser.ErrExistingUser) || !strings.Contains(err.Error(), "`app_user`@'%'") || !strings.Contains(err.Error(), "existingUser") {
		t.Fatalf("Create over an existing account: %v, want ErrExistingUser naming it and the switch", err)
	}
	if err := openDirect(t, l, "app_user", "an-old-password-1", true).Ping(); err != nil {
		t.Errorf("the refused Create changed the account: its password no longer logs in: %v", err)
	}

	// Adopted: IAM only, exactly the configured grants, no role.
	props["ExistingUser"] = "adopt"
	created := deliverTwice(t, h, l.UserEvent("Create", id, "", props, nil))
	wantUsers(t, l.Server, map[string][]string{"app_user": grantLines("appdb", "INSERT", "SELECT")})
	grants := showGrants(t, master, "app_user")
	if strings.Contains(grants, "power_role") {
		t.Errorf("the adopted account still holds the role: %s", grants)
	}
	mustWhoami(t, l, l.QueryKeys, "app_user")
	if err := openDirect(t, l, "app_user", "an-old-password-1", true).Ping(); err == nil {
		t.Errorf("the old password still logs in")
	}
	// Over an IAM login the role's ALL ON *.* is gone.
	user := iamDB(t, l, "app_user")
	for _, stmt := range []string{"CREATE DATABASE evil", "CREATE USER 'evil'@'%' IDENTIFIED BY 'x-1234567'", "SELECT * FROM otherdb.t"} {
		if _, err := user.Exec(stmt); err == nil {
			t.Errorf("adopted account could still run %q", stmt)
		}
	}

	// Delete keeps the adopted account.
	deliverTwice(t, h, l.UserEvent("Delete", id, created.PhysicalResourceID, props, nil))
	wantUsers(t, l.Server, map[string][]string{"app_user": grantLines("appdb", "INSERT", "SELECT")})
}

func showGrants(t *testing.T, db *sql.DB, user string) string {
	t.Helper()
	q, err := bootstrapsql.ShowGrants(user)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(q.SQL)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, s)
	}
	return strings.Join(lines, "\n")
}

// Grants and roles added by hand (drift) are found by the read-back on the
// next Update and removed; the user keeps working.
func TestE2EDriftRepaired(t *testing.T) {
	l := bootstrapDefault(t)
	master := masterDB(t, l)
	mustExecAll(t, master,
		"CREATE DATABASE IF NOT EXISTS otherdb",
		"GRANT DELETE ON otherdb.* TO 'app_user'@'%'",
		"GRANT DELETE ON appdb.* TO 'app_user'@'%'",
		"CREATE ROLE 'power_role'",
		"GRANT ALL ON *.* TO 'power_role'",
		"GRANT 'power_role' TO 'app_user'@'%'",
	)
	id := l.Stack.UserIDs[0]
	props, err := l.UserProperties(id)
	if err != nil {
		t.Fatal(err)
	}
	deliverTwice(t, l.BootstrapHandler(nil), l.UserEvent("Update", id, "dbuser:app_user", props, props))
	wantUsers(t, l.Server, map[string][]string{"app_user": grantLines("appdb", "INSERT", "SELECT")})
	if g := showGrants(t, master, "app_user"); strings.Contains(g, "power_role") || strings.Contains(g, "otherdb") {
		t.Errorf("drift left after Update:\n%s", g)
	}
	mustWhoami(t, l, l.QueryKeys, "app_user")
}

// A database name with `_` is granted as an escaped pattern: the user gets
// app_db and nothing that the unescaped wildcard would also match. (On
// Aurora and MariaDB `app_db`.* also covers app1db; the stand-in refuses an
// unescaped wildcard grant outright, so this test is red for a plan that
// does not escape. The wildcard itself is shown on the MariaDB lane.)
func TestE2EUnderscoreDatabaseIsExact(t *testing.T) {
	l := deployLocal(t)
	master := masterDB(t, l)
	mustExecAll(t, master, "CREATE DATABASE app1db", "CREATE TABLE app1db.t (id INT PRIMARY KEY)")
	id := l.Stack.UserIDs[0]
	props, err := l.UserProperties(id)
	if err != nil {
		t.Fatal(err)
	}
	props["DatabaseName"] = "app_db"
	props["Privileges"] = []any{"SELECT", "CREATE", "DROP"}
	deliverTwice(t, l.BootstrapHandler(nil), l.UserEvent("Create", id, "", props, nil))
	if g := showGrants(t, master, "app_user"); !strings.Contains(g, "`app\\_db`.*") {
		t.Errorf("grants do not name the escaped pattern:\n%s", g)
	}
	user := iamDB(t, l, "app_user")
	if _, err := user.Exec("CREATE TABLE app_db.mine (id INT PRIMARY KEY)"); err != nil {
		t.Errorf("CREATE in app_db: %v", err)
	}
	for _, stmt := range []string{"SELECT * FROM app1db.t", "DROP TABLE app1db.t", "CREATE DATABASE appXdb"} {
		if _, err := user.Exec(stmt); err == nil {
			t.Errorf("user granted on app_db could run %q", stmt)
		}
	}
}

// Renaming the database in letter case only is refused (on a server with
// lower_case_table_names=1 it would strip every grant) and changes nothing.
func TestE2ECaseOnlyRenameRefused(t *testing.T) {
	l := bootstrapDefault(t)
	id := l.Stack.UserIDs[0]
	props, err := l.UserProperties(id)
	if err != nil {
		t.Fatal(err)
	}
	renamed := clone(props)
	renamed["DatabaseName"] = "APPDB"
	_, err = l.BootstrapHandler(nil).Handle(context.Background(), l.UserEvent("Update", id, "dbuser:app_user", renamed, props))
	if !errors.Is(err, bootstrapsql.ErrCaseOnlyRename) {
		t.Fatalf("case-only rename: %v, want ErrCaseOnlyRename", err)
	}
	wantUsers(t, l.Server, map[string][]string{"app_user": grantLines("appdb", "INSERT", "SELECT")})
	mustWhoami(t, l, l.QueryKeys, "app_user")
}
