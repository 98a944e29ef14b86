package auroralocal

import (
	"reflect"
	"testing"
)

// Table-level grants behave as on MySQL: a GRANT on a missing table is
// refused with 1146 unless it grants CREATE, and revoking the last
// database-level privilege keeps the account's table grants.
func TestTableGrants(t *testing.T) {
	srv := startServer(t, Options{})
	db := masterDB(t, srv)
	mustExec(t, db,
		"CREATE DATABASE appdb", "CREATE TABLE appdb.t1 (id INT PRIMARY KEY)",
		"CREATE USER 'u1'@'%' IDENTIFIED BY 'pw-123456789'")
	steps := []struct {
		sql        string
		wantErr    int // MySQL error number, 0 for success
		wantGrants []string
	}{
		{"GRANT SELECT ON `appdb`.`t1` TO 'u1'@'%'", 0, []string{"SELECT ON appdb.t1"}},
		{"GRANT SELECT ON `appdb`.`missing` TO 'u1'@'%'", ErrNumNoSuchTable, []string{"SELECT ON appdb.t1"}},
		{"GRANT SELECT ON `nodb`.`t1` TO 'u1'@'%'", ErrNumNoSuchTable, []string{"SELECT ON appdb.t1"}},
		// In a table-level grant the database is no pattern: `app\_db` is
		// a database of that name, which does not exist.
		{"GRANT SELECT ON `app\\_db`.`t1` TO 'u1'@'%'", ErrNumNoSuchTable, []string{"SELECT ON appdb.t1"}},
		{"GRANT CREATE, SELECT ON `appdb`.`later` TO 'u1'@'%'", 0, []string{"CREATE ON appdb.later", "SELECT ON appdb.later", "SELECT ON appdb.t1"}},
		{"REVOKE CREATE, SELECT ON `appdb`.`later` FROM 'u1'@'%'", 0, []string{"SELECT ON appdb.t1"}},
		{"GRANT INSERT ON `appdb`.* TO 'u1'@'%'", 0, []string{"INSERT ON appdb.*", "SELECT ON appdb.t1"}},
		// GMS alone would drop appdb.t1 here, with the database's entry.
		{"REVOKE INSERT ON `appdb`.* FROM 'u1'@'%'", 0, []string{"SELECT ON appdb.t1"}},
	}
	for _, st := range steps {
		_, err := db.Exec(st.sql)
		if got := mysqlErrNumber(err); got != st.wantErr {
			t.Fatalf("%s: error %v (number %d), want number %d", st.sql, err, got, st.wantErr)
		}
		got, err := srv.Grants("u1", "%")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, st.wantGrants) {
			t.Errorf("after %s: grants %q, want %q", st.sql, got, st.wantGrants)
		}
	}

	// The table grant is enforced: t1 readable, not writable, nothing else.
	mustExec(t, db, "CREATE TABLE appdb.t2 (id INT PRIMARY KEY)")
	u := openDB(t, clientConfig(srv, "u1", "pw-123456789", true))
	if _, err := u.Exec("SELECT * FROM appdb.t1"); err != nil {
		t.Errorf("SELECT on the granted table: %v", err)
	}
	for _, q := range []string{"SELECT * FROM appdb.t2", "INSERT INTO appdb.t1 VALUES (1)"} {
		if _, err := u.Exec(q); mysqlErrNumber(err) != ErrNumTableAccessDenied {
			t.Errorf("%s: %v, want error %d", q, err, ErrNumTableAccessDenied)
		}
	}
}
