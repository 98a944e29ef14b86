package sqlident

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// TableNamePattern is the allow-list for table names: the same identifier
// rule as database names (MySQL limits both to 64 characters). A table is
// named alone; its database is the user's (see TableGrant).
const TableNamePattern = DatabaseNamePattern

var tableNameRE = regexp.MustCompile(TableNamePattern)

// MaxTableGrants bounds the table grants of one user: each is one GRANT
// statement, and the custom resource must finish well within its Lambda's
// time. A user that needs more tables wants a database-level grant.
const MaxTableGrants = 100

// ValidateTableName returns nil if name may be named in a table-level grant,
// and an [*InvalidError] otherwise: it must match [TableNamePattern] and not
// be a MySQL reserved word (see [IsReservedWord]), for the same reasons as
// [ValidateUserName].
//
// Unlike the database of a database-level grant, a table name in GRANT is
// never a pattern (MySQL and MariaDB match `_` and `%` there literally), so
// the name needs quoting only, no escaping.
func ValidateTableName(name string) error {
	const what = "table name"
	if !tableNameRE.MatchString(name) {
		return &InvalidError{What: what, Value: name,
			Reason: "must match " + TableNamePattern,
			Allowed: "letters, digits, underscore; starts with a letter; at most 64 characters; " +
				"the table alone, in the user's database (items, not appdb.items)"}
	}
	if IsReservedWord(name) {
		return &InvalidError{What: what, Value: name,
			Reason:  "is a MySQL reserved word",
			Allowed: "a name that is not a keyword, e.g. " + name + "_t"}
	}
	return nil
}

// allowedTablePrivileges are the privileges MySQL can grant on one table
// (GRANT ... ON db.table), less GRANT OPTION, which is refused everywhere.
var allowedTablePrivileges = []string{
	"ALTER",
	"CREATE",
	"CREATE VIEW",
	"DELETE",
	"DROP",
	"INDEX",
	"INSERT",
	"REFERENCES",
	"SELECT",
	"SHOW VIEW",
	"TRIGGER",
	"UPDATE",
}

const databaseOnly = "is a database-level privilege: MySQL cannot grant it on one table (give it in the database-level grants)"

// AllowedTablePrivileges returns the privilege names NormalizeTablePrivileges
// accepts, sorted, in canonical spelling. The result is a new slice.
func AllowedTablePrivileges() []string { return slices.Clone(allowedTablePrivileges) }

// NormalizeTablePrivileges is [NormalizePrivileges] for one table: every
// name must be one of [AllowedTablePrivileges]. Database-level privileges
// (EXECUTE, LOCK TABLES, ...) are refused saying so, ALL, GRANT OPTION and
// global privileges as NormalizePrivileges refuses them.
func NormalizeTablePrivileges(privs []string) ([]string, error) {
	if len(privs) == 0 {
		return nil, &InvalidError{What: "privileges", Value: "",
			Reason: "must list at least one privilege", Allowed: "allowed: " + strings.Join(allowedTablePrivileges, ", ")}
	}
	return normalize(privs, allowedTablePrivileges, func(name string) string {
		switch reason := refusalReason(name); {
		case slices.Contains(allowedPrivileges, name):
			return databaseOnly
		case reason == unknownPrivilege:
			return "is not a table-level privilege rdsiam can grant"
		default:
			return reason
		}
	})
}

// TableGrant is a table-level grant: Privileges on the table Table of the
// user's database (GRANT ... ON `db`.`Table`).
//
// The JSON names are those of the CDK app's tableGrants context key
// ({"table": "items", "privileges": ["SELECT"]}).
type TableGrant struct {
	// Table is the table's name alone. Rules: ValidateTableName.
	Table string `json:"table"`
	// Privileges are table-level privileges, in any case and order.
	// Rules: NormalizeTablePrivileges.
	Privileges []string `json:"privileges"`
}

// NormalizeTableGrants returns grants validated and in canonical form:
// privileges normalized, entries sorted by table. No grants is valid (nil).
// A table named twice, also in another letter case (one table on a server
// with lower_case_table_names=1), is refused, as are more than
// [MaxTableGrants] entries. The error joins one error per bad entry, each
// naming the table and wrapping an [*InvalidError]. grants is not modified.
func NormalizeTableGrants(grants []TableGrant) ([]TableGrant, error) {
	if len(grants) > MaxTableGrants {
		return nil, &InvalidError{What: "table grants", Value: fmt.Sprintf("%d entries", len(grants)),
			Reason:  fmt.Sprintf("are more than %d", MaxTableGrants),
			Allowed: "grant on the whole database instead"}
	}
	var errs []error
	out := make([]TableGrant, 0, len(grants))
	seen := map[string]string{}
	for _, g := range grants {
		if err := ValidateTableName(g.Table); err != nil {
			errs = append(errs, err)
			continue
		}
		if first, dup := seen[strings.ToLower(g.Table)]; dup {
			errs = append(errs, &InvalidError{What: "table name", Value: g.Table,
				Reason:  "is named twice (as " + first + ")",
				Allowed: "one entry per table, with all its privileges; names differing only in letter case are one table where lower_case_table_names=1"})
			continue
		}
		seen[strings.ToLower(g.Table)] = g.Table
		privs, err := NormalizeTablePrivileges(g.Privileges)
		if err != nil {
			errs = append(errs, fmt.Errorf("table %s: %w", g.Table, err))
			continue
		}
		out = append(out, TableGrant{Table: g.Table, Privileges: privs})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	slices.SortFunc(out, func(a, b TableGrant) int { return strings.Compare(a.Table, b.Table) })
	return out, nil
}
