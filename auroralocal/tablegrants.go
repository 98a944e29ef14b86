package auroralocal

import (
	"context"
	"slices"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// ErrNumNoSuchTable is ER_NO_SUCH_TABLE: among others, a table-level GRANT
// on a table that does not exist.
const ErrNumNoSuchTable = 1146

// Table-level grants: GMS v0.20 keeps and enforces them, but differs from
// MySQL (and MariaDB) in two ways the stand-in corrects:
//
//   - GRANT ... ON db.tbl on a table that does not exist: MySQL refuses
//     with 1146 unless CREATE is among the privileges (the grant then lets
//     the user create it); GMS grants anyway. The stand-in refuses, so a
//     stack that grants on a table before creating it fails here as on
//     Aurora.
//   - REVOKE ... ON db.* that leaves the account no database-level
//     privilege: GMS then forgets the account's table grants in db as well
//     (PrivilegeSet.RemoveDatabase drops the database's whole entry);
//     MySQL keeps them. The stand-in restores them after GMS ran.
//
// Table names compare without regard to case, as GMS does and as a server
// with lower_case_table_names=1 (what the stand-in reports) would.

// tableGrants runs a GRANT or REVOKE through GMS via run with the two
// corrections above; any other statement goes to run unchanged.
func (h *connHandler) tableGrants(ctx context.Context, query string, run func() (string, error)) (string, error) {
	if !startsWithKeywords(query, "GRANT") && !startsWithKeywords(query, "REVOKE") {
		return run()
	}
	parsed, _, err := sqlparser.ParseOne(ctx, query)
	if err != nil {
		return run()
	}
	switch st := parsed.(type) {
	case *sqlparser.GrantPrivilege:
		lvl := st.PrivilegeLevel
		if st.ObjectType == sqlparser.GrantObjectType_Any && lvl.Database != "" && lvl.Database != "*" && lvl.TableRoutine != "*" &&
			!grantsCreate(st.Privileges) && !h.s.tableExists(lvl.Database, lvl.TableRoutine) {
			return "", mysql.NewSQLError(ErrNumNoSuchTable, "42S02", "Table '%s.%s' doesn't exist", lvl.Database, lvl.TableRoutine)
		}
	case *sqlparser.RevokePrivilege:
		lvl := st.PrivilegeLevel
		if lvl.Database != "" && lvl.Database != "*" && lvl.TableRoutine == "*" {
			kept := h.s.tableGrantsIn(lvl.Database, st.From)
			rest, err := run()
			if err == nil {
				h.s.restoreTableGrants(lvl.Database, kept)
			}
			return rest, err
		}
	}
	return run()
}

// grantsCreate reports whether privs hold CREATE or ALL, which MySQL lets
// a table-level GRANT name a missing table for.
func grantsCreate(privs []sqlparser.Privilege) bool {
	return slices.ContainsFunc(privs, func(p sqlparser.Privilege) bool {
		return p.Type == sqlparser.PrivilegeType_Create || p.Type == sqlparser.PrivilegeType_All
	})
}

// tableExists reports whether table db.tbl exists in the engine.
func (s *Server) tableExists(db, tbl string) bool {
	ctx := sql.NewEmptyContext()
	d, err := s.provider.Database(ctx, db)
	if err != nil {
		return false
	}
	// The table map, not GetTableInsensitive: that one reads the table's
	// data through a client session, which this check has none of.
	tables, ok := d.(interface{ Tables() map[string]sql.Table })
	if !ok {
		return false
	}
	_, found := sql.GetTableInsensitive(tbl, tables.Tables())
	return found
}

// heldTables are an account's table-level privileges in one database.
type heldTables struct {
	account mysql_db.UserPrimaryKey
	tables  map[string][]sql.PrivilegeType
}

// tableGrantsIn reads the table-level privileges the accounts hold in db.
func (s *Server) tableGrantsIn(db string, accounts []sqlparser.AccountName) []heldTables {
	rd := s.mysqlDb.Reader()
	defer rd.Close()
	var out []heldTables
	for _, a := range accounts {
		pk := mysql_db.UserPrimaryKey{User: a.Name, Host: a.Host}
		if a.AnyHost || a.Host == "" {
			pk.Host = "%"
		}
		u, ok := rd.GetUser(pk)
		if !ok {
			continue
		}
		held := heldTables{account: pk, tables: map[string][]sql.PrivilegeType{}}
		for _, t := range u.PrivilegeSet.Database(db).GetTables() {
			if privs := t.ToSlice(); len(privs) > 0 {
				held.tables[t.Name()] = privs
			}
		}
		if len(held.tables) > 0 {
			out = append(out, held)
		}
	}
	return out
}

// restoreTableGrants gives the accounts back the table-level privileges
// tableGrantsIn read (adding a privilege an account holds is a no-op).
func (s *Server) restoreTableGrants(db string, held []heldTables) {
	if len(held) == 0 {
		return
	}
	ed := s.mysqlDb.Editor()
	defer ed.Close() // also bumps GMS's cache counter so sessions re-read privileges
	for _, h := range held {
		u, ok := ed.GetUser(h.account)
		if !ok {
			continue
		}
		for tbl, privs := range h.tables {
			u.PrivilegeSet.AddTable(db, tbl, privs...)
		}
	}
}
