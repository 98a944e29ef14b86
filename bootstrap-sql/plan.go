package usersql

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

// step names one template and the statement details around it; plans are
// lists of steps, rendered together by build.
type step struct {
	file       string
	purpose    string
	privileges []string // for grant/revoke templates
	database   string   // overrides the spec's database (revoke on the old one)
	table      string   // for the table-level templates, validated
	hints      map[uint16]string
	role       string // quoted role, for revoke_role.sql
	mariaDB    bool   // render MariaDB's dialect
	tolerate   []uint16
}

// build renders steps for the normalized spec n.
func build(n Spec, steps []step) ([]Statement, error) {
	out := make([]Statement, 0, len(steps))
	for _, st := range steps {
		target := n
		if st.database != "" {
			target.Database = st.database
		}
		v := valuesFor(target, st.privileges)
		v.Role, v.MariaDB = st.role, st.mariaDB
		if st.table != "" {
			v.Table = sqlident.QuoteIdentifier(st.table)
		}
		sql, err := render(st.file, v)
		if err != nil {
			return nil, fmt.Errorf("user %q: %s: %w", n.User, st.purpose, err)
		}
		out = append(out, Statement{SQL: sql, Purpose: st.purpose, TolerateErrors: slices.Clone(st.tolerate),
			Hints: maps.Clone(st.hints)})
	}
	return out, nil
}

// Step constructors, named after the statement they produce.

func createDatabase(db string) step {
	return step{file: "create_database.sql", purpose: "create database " + db}
}
func createUser() step { return step{file: "create_user.sql", purpose: "create user"} }
func alterUserIAM() step {
	return step{file: "alter_user_iam.sql", purpose: "switch user to IAM authentication"}
}
func requireSSL() step { return step{file: "require_ssl.sql", purpose: "require TLS for user"} }
func revokeAll() step {
	return step{file: "revoke_all.sql", purpose: "revoke all privileges", tolerate: revokeTolerates}
}
func grant(privs []string, db string) step {
	return step{file: "grant.sql", purpose: "grant " + strings.Join(privs, ", ") + " on " + db,
		privileges: privs, database: db}
}
func revoke(privs []string, db string) step {
	return step{file: "revoke.sql", purpose: "revoke " + strings.Join(privs, ", ") + " on " + db,
		privileges: privs, database: db, tolerate: revokeTolerates}
}
func grantTable(privs []string, db, table string) step {
	return step{file: "grant_table.sql", purpose: "grant " + strings.Join(privs, ", ") + " on " + db + "." + table,
		privileges: privs, database: db, table: table,
		hints: map[uint16]string{ErrNoSuchTable: "table " + db + "." + table + " does not exist: MySQL grants privileges on a table " +
			"only once it exists (unless CREATE is among them); create the table before the user " +
			"(make the user's resource depend on what creates it), or grant on the database"}}
}
func revokeTable(privs []string, db, table string) step {
	return step{file: "revoke_table.sql", purpose: "revoke " + strings.Join(privs, ", ") + " on " + db + "." + table,
		privileges: privs, database: db, table: table, tolerate: revokeTolerates}
}

// grantsOn grants n's database-level privileges (if any) and table grants
// on database db; revokesOn revokes them.
func grantsOn(n Spec, db string) []step  { return perLevel(n, db, grant, grantTable) }
func revokesOn(o Spec, db string) []step { return perLevel(o, db, revoke, revokeTable) }

// perLevel makes one database-level step for s.Privileges (if any) and one
// table-level step per table of s, all on database db.
func perLevel(s Spec, db string, onDB func([]string, string) step, onTable func([]string, string, string) step) []step {
	var out []step
	if len(s.Privileges) > 0 {
		out = append(out, onDB(s.Privileges, db))
	}
	for _, t := range s.Tables {
		out = append(out, onTable(t.Privileges, db, t.Table))
	}
	return out
}

func createSampleTable(db string) step {
	return step{file: "create_sample_table.sql", purpose: "create sample table " + db + "." + SampleTableName,
		database: db, table: SampleTableName}
}
func dropUser() step { return step{file: "drop_user.sql", purpose: "drop user"} }

// SampleTableName is the sample app's table: the query function's actions
// read and write it.
const SampleTableName = "items"

// SampleTable returns the statements that create the sample app's table
// `items` in db, and db itself, if missing (idempotent, data kept). The
// table belongs to the sample app, not to a user: its own resource
// (userprops.SampleTableResourceType) runs them.
func SampleTable(db string) ([]Statement, error) {
	if err := sqlident.ValidateDatabaseName(db); err != nil {
		return nil, fmt.Errorf("plan sample table: %w", err)
	}
	return build(Spec{Database: db}, []step{createDatabase(db), createSampleTable(db)})
}

// Create returns the statements that bring a new user to the state s
// describes, in order:
//
//  1. create the database if missing;
//  2. create the user for IAM authentication if missing, and switch it to IAM
//     authentication in case it already existed with a password;
//  3. require TLS for the user;
//  4. revoke everything it holds, then grant exactly s.Privileges on the
//     database and each of s.Tables on its table, so a pre-existing user
//     does not keep stray privileges.
//
// Every statement is idempotent, so running the list again (a redelivered
// request) is safe. It returns an error naming every invalid field of s.
func Create(s Spec) ([]Statement, error) {
	n, err := s.Normalize()
	if err != nil {
		return nil, fmt.Errorf("plan create: %w", err)
	}
	return build(n, createSteps(n))
}

func createSteps(n Spec) []step {
	return append([]step{
		createDatabase(n.Database),
		createUser(),
		alterUserIAM(),
		requireSSL(),
		revokeAll(),
	}, grantsOn(n, n.Database)...)
}

// Update returns the statements that move a user from old to new. new must
// be valid; the error names every invalid field.
//
// Same user, same database: ensure IAM authentication and TLS, then GRANT the
// privileges new adds, on the database and per table, then REVOKE the ones it
// drops (all of a table's when new no longer names it). Granting before
// revoking means that a failure midway leaves the user with more privileges,
// never fewer than either version needs, and a retry completes the change.
//
// Same user, database changed: ensure IAM authentication and TLS, create the
// new database, grant new's privileges and table grants on it, and only then
// revoke old's on the old database. The old database itself is kept.
//
// User changed: Create(new). The old user is not touched here: the dbuser
// Lambda derives the physical resource id from the user name, so a rename is
// a replacement, and CloudFormation later sends a Delete with the old
// properties, which drops the old user.
//
// Old invalid: Create(new). This happens when CloudFormation rolls back an
// update whose new properties were rejected: the rejected values then arrive
// as old. Nothing can have been applied for them, and Create converges on new
// from any state.
//
// Database or a granted table renamed in letter case only: ErrCaseOnlyRename.
// On a server that folds names (lower_case_table_names=1, and some Aurora
// clusters are created so) the two names are one database or table, and
// granting on the new then revoking on the old would strip the grant.
//
// REVOKE statements tolerate ErrNonexistingGrant and ErrNonexistingTableGrant,
// so the same Update can run twice. Update assumes the user still exists; if
// it was dropped by hand, the IAM ALTER USER fails (MySQL error 1396).
func Update(old, new Spec) ([]Statement, error) {
	n, err := new.Normalize()
	if err != nil {
		return nil, fmt.Errorf("plan update: new properties: %w", err)
	}
	o, err := old.Normalize()
	if err != nil || o.User != n.User {
		return build(n, createSteps(n))
	}
	steps := []step{alterUserIAM(), requireSSL()}
	if o.Database != n.Database && strings.EqualFold(o.Database, n.Database) {
		return nil, fmt.Errorf("plan update: database %q renamed to %q: %w", o.Database, n.Database, ErrCaseOnlyRename)
	}
	if o.Database != n.Database {
		steps = append(steps, createDatabase(n.Database))
		steps = append(steps, grantsOn(n, n.Database)...)
		steps = append(steps, revokesOn(o, o.Database)...)
		return build(n, steps)
	}
	if err := caseOnlyTableRename(o.Tables, n.Tables); err != nil {
		return nil, err
	}
	if added := minus(n.Privileges, o.Privileges); len(added) > 0 {
		steps = append(steps, grant(added, n.Database))
	}
	for _, t := range n.Tables {
		if added := minus(t.Privileges, tablePrivileges(o.Tables, t.Table)); len(added) > 0 {
			steps = append(steps, grantTable(added, n.Database, t.Table))
		}
	}
	if removed := minus(o.Privileges, n.Privileges); len(removed) > 0 {
		steps = append(steps, revoke(removed, n.Database))
	}
	for _, t := range o.Tables {
		if removed := minus(t.Privileges, tablePrivileges(n.Tables, t.Table)); len(removed) > 0 {
			steps = append(steps, revokeTable(removed, n.Database, t.Table))
		}
	}
	return build(n, steps)
}

// tablePrivileges returns the privileges grants give on table (exact name),
// or nil.
func tablePrivileges(grants []sqlident.TableGrant, table string) []string {
	for _, g := range grants {
		if g.Table == table {
			return g.Privileges
		}
	}
	return nil
}

// caseOnlyTableRename refuses a new table grant whose table an old one
// names in another letter case only; see Update.
func caseOnlyTableRename(old, new []sqlident.TableGrant) error {
	for _, n := range new {
		for _, o := range old {
			if o.Table != n.Table && strings.EqualFold(o.Table, n.Table) && tablePrivileges(new, o.Table) == nil {
				return fmt.Errorf("plan update: table %q renamed to %q: %w", o.Table, n.Table, ErrCaseOnlyRename)
			}
		}
	}
	return nil
}

// ErrCaseOnlyRename refuses an Update whose database name changes only in
// letter case; see Update.
var ErrCaseOnlyRename = errors.New("the names differ only in letter case, which is the same database or table on a server with lower_case_table_names=1 (renaming would revoke its grants); choose a name that differs in more than case, or keep the old spelling")

// minus returns the elements of a that are not in b, keeping a's order.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// Delete returns the statement that drops the user s.User with all its
// grants: DROP USER IF EXISTS, so deleting twice, or deleting a user that
// was never created, succeeds. The database and its data are kept. Only
// s.User is validated, so a Delete still works when the rest of an old
// configuration no longer passes validation.
func Delete(s Spec) ([]Statement, error) {
	if err := sqlident.ValidateUserName(s.User); err != nil {
		return nil, fmt.Errorf("plan delete: %w", err)
	}
	return build(Spec{User: s.User}, []step{dropUser()})
}
