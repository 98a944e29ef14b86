package sqlident

import (
	"slices"
	"strings"
)

// allowedPrivileges are the privileges that MySQL can grant at database level
// (GRANT ... ON db.*) and that an application account may reasonably hold.
// They are all scoped to the one database, so no combination lets the user
// read other schemas, manage accounts or touch the server.
var allowedPrivileges = []string{
	"ALTER",
	"ALTER ROUTINE",
	"CREATE",
	"CREATE ROUTINE",
	"CREATE TEMPORARY TABLES",
	"CREATE VIEW",
	"DELETE",
	"DROP",
	"EVENT",
	"EXECUTE",
	"INDEX",
	"INSERT",
	"LOCK TABLES",
	"REFERENCES",
	"SELECT",
	"SHOW VIEW",
	"TRIGGER",
	"UPDATE",
}

// refusedPrivileges explains why well-known privileges that are not allowed
// are refused, so the error says more than "unknown".
var refusedPrivileges = map[string]string{
	"ALL":            "grants every privilege, including dropping the database; list only what the application needs",
	"ALL PRIVILEGES": "grants every privilege, including dropping the database; list only what the application needs",
	"GRANT OPTION":   "would let the user pass its privileges on to other accounts",
	"USAGE":          "means no privileges; the user can always log in, so leave it out",
	"PROXY":          "lets the user act as another account",
	// Global-only privileges: MySQL cannot grant them on one database, and
	// each of them reaches far beyond it.
	"CREATE ROLE":        globalOnly,
	"CREATE TABLESPACE":  globalOnly,
	"CREATE USER":        globalOnly,
	"DROP ROLE":          globalOnly,
	"FILE":               globalOnly,
	"PROCESS":            globalOnly,
	"RELOAD":             globalOnly,
	"REPLICATION CLIENT": globalOnly,
	"REPLICATION SLAVE":  globalOnly,
	"SHOW DATABASES":     globalOnly,
	"SHUTDOWN":           globalOnly,
	"SUPER":              globalOnly,
}

const globalOnly = "is a global privilege: it cannot be granted on one database and reaches the whole server"

// dynamicAdminSuffix marks MySQL 8 dynamic privileges (BACKUP_ADMIN,
// SYSTEM_VARIABLES_ADMIN, ...), which are all global.
const dynamicAdminSuffix = "_ADMIN"

// AllowedPrivileges returns the privilege names NormalizePrivileges accepts,
// sorted, in the canonical spelling it returns. The result is a new slice the
// caller may modify.
func AllowedPrivileges() []string { return slices.Clone(allowedPrivileges) }

// NormalizePrivileges returns privs in canonical form: each name trimmed,
// upper-cased, with runs of inner white space collapsed to one space; then
// de-duplicated and sorted. Every name must be one of [AllowedPrivileges].
//
// It returns an [*InvalidError] for an empty list, an empty or non-ASCII
// name, or a name that is not allowed; for ALL, GRANT OPTION and global
// privileges such as SUPER the error says why they are refused. The input
// slice is not modified.
func NormalizePrivileges(privs []string) ([]string, error) {
	if len(privs) == 0 {
		return nil, &InvalidError{What: "privileges", Value: "",
			Reason: "must list at least one privilege", Allowed: "allowed: " + strings.Join(allowedPrivileges, ", ")}
	}
	return normalize(privs, allowedPrivileges, refusalReason)
}

// normalize canonicalizes privs (see NormalizePrivileges) against allowed;
// refusal explains a name that is not in allowed.
func normalize(privs, allowed []string, refusal func(name string) string) ([]string, error) {
	allowedText := "allowed: " + strings.Join(allowed, ", ")
	out := make([]string, 0, len(privs))
	for _, raw := range privs {
		upper, ascii := asciiUpper(raw)
		if !ascii {
			return nil, &InvalidError{What: "privilege", Value: raw,
				Reason: "must contain only ASCII letters and spaces", Allowed: allowedText}
		}
		name := strings.Join(strings.Fields(upper), " ")
		if name == "" {
			return nil, &InvalidError{What: "privilege", Value: raw,
				Reason: "is empty", Allowed: allowedText}
		}
		if !slices.Contains(allowed, name) {
			return nil, &InvalidError{What: "privilege", Value: raw,
				Reason: refusal(name), Allowed: allowedText}
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// refusalReason explains why the normalized name is not allowed.
func refusalReason(name string) string {
	if reason, ok := refusedPrivileges[name]; ok {
		return reason
	}
	if strings.HasSuffix(name, dynamicAdminSuffix) {
		return globalOnly
	}
	return unknownPrivilege
}

const unknownPrivilege = "is not a database-level privilege rdsiam can grant"
