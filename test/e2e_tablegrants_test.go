package test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/auroralocal/fromstack"
)

// Table-level grants, end to end on each engine: a user with SELECT on
// app_db.t1 reads t1 and nothing else, and cannot write it; an Update
// grants and revokes exactly what changed; a grant added by hand is
// repaired; a table that does not exist fails the deployment naming it and
// changes nothing. The database holds `_`, which is a wildcard in a
// database-level grant but not in a table-level one: an escaped name there
// would grant on a database called app\_db (MariaDB: 1146).
func TestE2ETableGrants(t *testing.T) { forEachEngine(t, testTableGrants) }

// tableGrants is the TableGrants property: table, privileges, table, ...
func tableGrants(pairs ...any) []any {
	var out []any
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, map[string]any{"Table": pairs[i], "Privileges": pairs[i+1]})
	}
	return out
}

// wantAllowed runs each statement as user over a fresh IAM login and
// checks it is allowed, or refused with a table-access error (1142).
func wantAllowed(t *testing.T, l *fromstack.Local, user string, stmts map[string]bool) {
	t.Helper()
	db := iamDB(t, l, user)
	for stmt, allowed := range stmts {
		_, err := db.Exec(stmt)
		switch {
		case allowed && err != nil:
			t.Errorf("%s as %s: %v, want allowed", stmt, user, err)
		case !allowed && mysqlNumber(err) != auroralocal.ErrNumTableAccessDenied && mysqlNumber(err) != auroralocal.ErrNumDBAccessDenied:
			t.Errorf("%s as %s: %v, want refused with %d (or %d)", stmt, user, err, auroralocal.ErrNumTableAccessDenied, auroralocal.ErrNumDBAccessDenied)
		}
	}
}

func testTableGrants(t *testing.T, l *fromstack.Local) {
	master := masterDB(t, l)
	mustExecAll(t, master,
		"CREATE DATABASE app_db",
		"CREATE TABLE app_db.t1 (id INT PRIMARY KEY)", "INSERT INTO app_db.t1 VALUES (1)",
		"CREATE TABLE app_db.t2 (id INT PRIMARY KEY)", "INSERT INTO app_db.t2 VALUES (2)",
		"CREATE DATABASE app1db", "CREATE TABLE app1db.t1 (id INT PRIMARY KEY)")
	id, v1 := userProps(t, l)
	delete(v1, "Privileges")
	v1["DatabaseName"] = "app_db"
	v1["TableGrants"] = tableGrants("t1", []any{"select"})
	// The handler's log says when the read-back found drift: an exact
	// plan must never need the repair.
	var logs bytes.Buffer
	h := l.ProviderHandler(slog.New(slog.NewTextHandler(&logs, nil)))
	wantRepair := func(want bool) {
		t.Helper()
		if got := strings.Contains(logs.String(), "repairing"); got != want {
			t.Errorf("read-back repaired the account: %v, want %v; log:\n%s", got, want, logs.String())
		}
		logs.Reset()
	}

	created := deliverTwice(t, h, l.UserEvent("Create", id, "", v1, nil))
	wantUsers(t, l.Server, map[string][]string{"app_user": {"SELECT ON app_db.t1"}})
	wantRepair(false)
	wantAllowed(t, l, "app_user", map[string]bool{
		"SELECT * FROM app_db.t1":          true,
		"SELECT * FROM app_db.t2":          false,
		"INSERT INTO app_db.t1 VALUES (9)": false,
		"DELETE FROM app_db.t1":            false,
		"SELECT * FROM app1db.t1":          false,
	})
	var n int
	if err := iamDB(t, l, "app_user").QueryRow("SELECT COUNT(*) FROM app_db.t1").Scan(&n); err != nil || n != 1 {
		t.Errorf("reading t1: %d rows, %v", n, err)
	}

	// t1 gains INSERT, t2 is added: granted exactly.
	v2 := clone(v1)
	v2["TableGrants"] = tableGrants("t1", []any{"SELECT", "INSERT"}, "t2", []any{"SELECT"})
	deliverTwice(t, h, l.UserEvent("Update", id, created.PhysicalResourceID, v2, v1))
	wantUsers(t, l.Server, map[string][]string{"app_user": {"INSERT ON app_db.t1", "SELECT ON app_db.t1", "SELECT ON app_db.t2"}})
	wantRepair(false)
	wantAllowed(t, l, "app_user", map[string]bool{
		"INSERT INTO app_db.t1 VALUES (10)": true,
		"SELECT * FROM app_db.t2":           true,
		"INSERT INTO app_db.t2 VALUES (10)": false,
	})

	// t1 is dropped from the spec: all its privileges are revoked.
	v3 := clone(v1)
	v3["TableGrants"] = tableGrants("t2", []any{"SELECT"})
	deliverTwice(t, h, l.UserEvent("Update", id, created.PhysicalResourceID, v3, v2))
	wantUsers(t, l.Server, map[string][]string{"app_user": {"SELECT ON app_db.t2"}})
	wantRepair(false)
	wantAllowed(t, l, "app_user", map[string]bool{"SELECT * FROM app_db.t1": false, "SELECT * FROM app_db.t2": true})

	// Drift: a table grant added by hand is removed on the next Update.
	mustExecAll(t, master, "GRANT SELECT, DELETE ON app_db.t1 TO 'app_user'@'%'")
	deliverTwice(t, h, l.UserEvent("Update", id, created.PhysicalResourceID, v3, v3))
	wantUsers(t, l.Server, map[string][]string{"app_user": {"SELECT ON app_db.t2"}})
	wantRepair(true)

	// A table that does not exist: refused by the engine, named in the
	// error with what to do, and the account keeps what it had.
	v4 := clone(v3)
	v4["TableGrants"] = tableGrants("t2", []any{"SELECT"}, "orders", []any{"SELECT"})
	_, err := h.Handle(context.Background(), l.UserEvent("Update", id, created.PhysicalResourceID, v4, v3))
	if err == nil || !strings.Contains(err.Error(), "app_db.orders does not exist") || !strings.Contains(err.Error(), "1146") {
		t.Errorf("grant on a missing table: %v, want MySQL error 1146 naming app_db.orders", err)
	}
	wantUsers(t, l.Server, map[string][]string{"app_user": {"SELECT ON app_db.t2"}})

	deliverTwice(t, h, l.UserEvent("Delete", id, created.PhysicalResourceID, v3, nil))
	wantUsers(t, l.Server, map[string][]string{})
	var left int
	if err := master.QueryRow("SELECT COUNT(*) FROM app_db.t1").Scan(&left); err != nil || left != 2 {
		t.Errorf("the data did not survive the user: %d rows, %v", left, err)
	}
}
