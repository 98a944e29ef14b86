package dbuser

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"

	usersql "github.com/rdsiam/rdsiam/bootstrap-sql"
	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

// iamPlugin is the authentication plugin of every account rdsiam manages.
const iamPlugin = "AWSAuthenticationPlugin"

// ErrGrantsDiffer is wrapped by the error a Create or Update returns when the
// account, read back after the statements ran and after one repair, still
// holds more than (or other than) its spec.
var ErrGrantsDiffer = errors.New("account differs from its spec")

// VerifyError lists every way the account differs from its spec.
type VerifyError struct {
	Account  string   // `user`@'%'
	Findings []string // e.g. "role `admin`@`%`", "SELECT on `other`.*"
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("account %s read back after repair still differs from its spec: %s",
		e.Account, strings.Join(e.Findings, "; "))
}

func (e *VerifyError) Unwrap() error { return ErrGrantsDiffer }

// server is what the handler needs to know about the server it manages.
type server struct {
	dialect usersql.Dialect
	// foldNames: lower_case_table_names is not 0, so database names in
	// grants compare without regard to case.
	foldNames bool
}

func readServer(ctx context.Context, conn *sql.Conn) (server, error) {
	var version string
	var lctn sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT VERSION(), @@lower_case_table_names").Scan(&version, &lctn); err != nil {
		return server{}, fmt.Errorf("read server version: %w", err)
	}
	s := server{foldNames: lctn.Valid && lctn.Int64 != 0}
	if strings.Contains(strings.ToLower(version), "mariadb") {
		s.dialect = usersql.MariaDB
	}
	return s, nil
}

// accountState is what mysql.user says about the user name.
type accountState struct {
	exists          bool   // the managed account user@'%'
	plugin, sslType string // of user@'%'
	otherHosts      []string
}

func readAccount(ctx context.Context, conn *sql.Conn, user string) (accountState, error) {
	q, err := usersql.AccountHosts(user)
	if err != nil {
		return accountState{}, err
	}
	rows, err := conn.QueryContext(ctx, q.SQL, q.Args...)
	if err != nil {
		return accountState{}, fmt.Errorf("user %q: %s: %w", user, q.Purpose, err)
	}
	defer rows.Close()
	var a accountState
	for rows.Next() {
		var host string
		var plugin, ssl sql.NullString
		if err := rows.Scan(&host, &plugin, &ssl); err != nil {
			return accountState{}, fmt.Errorf("user %q: %s: %w", user, q.Purpose, err)
		}
		if host == usersql.AccountHost {
			a.exists, a.plugin, a.sslType = true, plugin.String, ssl.String
		} else {
			a.otherHosts = append(a.otherHosts, host)
		}
	}
	if err := rows.Err(); err != nil {
		return accountState{}, fmt.Errorf("user %q: %s: %w", user, q.Purpose, err)
	}
	slices.Sort(a.otherHosts)
	return a, nil
}

// readGrants runs SHOW GRANTS for the account and parses each line; lines
// of an unknown shape come back as findings.
func readGrants(ctx context.Context, conn *sql.Conn, user string) ([]grantLine, []string, error) {
	q, err := usersql.ShowGrants(user)
	if err != nil {
		return nil, nil, err
	}
	rows, err := conn.QueryContext(ctx, q.SQL)
	if err != nil {
		return nil, nil, fmt.Errorf("user %q: %s: %w", user, q.Purpose, err)
	}
	defer rows.Close()
	var lines []grantLine
	var unknown []string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, nil, fmt.Errorf("user %q: %s: %w", user, q.Purpose, err)
		}
		g, err := parseGrantLine(raw)
		if err != nil {
			unknown = append(unknown, err.Error())
			continue
		}
		lines = append(lines, g)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("user %q: %s: %w", user, q.Purpose, err)
	}
	return lines, unknown, nil
}

// readBack is the account as the server reports it after the statements.
type readBack struct {
	account accountState
	lines   []grantLine
	unknown []string
}

func (h *Handler) readBack(ctx context.Context, conn *sql.Conn, user string) (readBack, error) {
	acct, err := readAccount(ctx, conn, user)
	if err != nil {
		return readBack{}, err
	}
	if !acct.exists {
		return readBack{account: acct}, nil
	}
	lines, unknown, err := readGrants(ctx, conn, user)
	return readBack{account: acct, lines: lines, unknown: unknown}, err
}

// held returns the roles and default role the read-back found, for Reset.
func (r readBack) held() usersql.Held {
	var h usersql.Held
	for _, g := range r.lines {
		switch g.kind {
		case lineRoles:
			h.Roles = append(h.Roles, g.roles...)
		case lineDefaultRole:
			h.DefaultRole = true
		}
	}
	return h
}

// findings compares the read-back with spec and returns every difference,
// in a stable order: anything beyond the spec (a global privilege, another
// database, a table or column grant the spec does not list, a role, GRANT
// OPTION), anything missing from it, and
// the authentication plugin and TLS requirement. No findings means the
// account holds exactly the spec.
func (r readBack) findings(spec usersql.Spec, srv server) []string {
	if !r.account.exists {
		return []string{"the account does not exist"}
	}
	var out []string
	if r.account.plugin != iamPlugin {
		out = append(out, fmt.Sprintf("authentication plugin %q, not %s", r.account.plugin, iamPlugin))
	}
	if !strings.EqualFold(r.account.sslType, "ANY") {
		out = append(out, fmt.Sprintf("REQUIRE SSL is not set (ssl_type %q)", r.account.sslType))
	}
	out = append(out, r.unknown...)
	got := map[string][]string{} // privileges found at each of the spec's levels: "" for the database, else the table
	for _, g := range r.lines {
		switch g.kind {
		case lineRoles:
			for _, role := range g.roles {
				out = append(out, "role "+role.String())
			}
		case lineDefaultRole:
			out = append(out, "a default role ("+g.raw+")")
		case linePrivileges:
			if g.grantOption {
				out = append(out, "GRANT OPTION on "+g.level)
			}
			table, allowed, atSpec := specLevel(g, spec, srv)
			for _, p := range g.privileges {
				switch {
				case g.level == "*.*" && p == "USAGE":
				case atSpec && slices.Contains(allowed, p):
					got[table] = append(got[table], p)
				default:
					out = append(out, p+" on "+g.level)
				}
			}
		}
		// Partial revokes only take privileges away; nothing to report.
	}
	for _, p := range spec.Privileges {
		if !slices.Contains(got[""], p) {
			out = append(out, "missing "+p+" on "+sqlident.QuoteDatabasePattern(spec.Database)+".*")
		}
	}
	for _, t := range spec.Tables {
		for _, p := range t.Privileges {
			if !slices.Contains(got[t.Table], p) {
				out = append(out, "missing "+p+" on "+sqlident.QuoteIdentifier(spec.Database)+"."+sqlident.QuoteIdentifier(t.Table))
			}
		}
	}
	return out
}

// specLevel reports whether a privilege line is at one of spec's levels —
// its database (`app\_db`.*, the escaped pattern, as SHOW GRANTS prints it)
// or one of its tables (`app_db`.`t`, neither name escaped) — and which:
// table is "" for the database, else the table as spec names it; privs are
// what spec grants there. Routine levels (PROCEDURE `db`.`p`) are never
// spec levels, and column privileges ("SELECT (`c`)") never match privs.
// Names compare without regard to case where the server folds them.
func specLevel(g grantLine, spec usersql.Spec, srv server) (table string, privs []string, ok bool) {
	if g.levelDB == "" || strings.Contains(g.level, " ") {
		return "", nil, false
	}
	same := func(a, b string) bool { return a == b || srv.foldNames && strings.EqualFold(a, b) }
	if g.levelTable == "*" {
		pattern := sqlident.QuoteDatabasePattern(spec.Database)
		return "", spec.Privileges, same(g.levelDB, pattern[1:len(pattern)-1])
	}
	if !same(g.levelDB, spec.Database) {
		return "", nil, false
	}
	for _, t := range spec.Tables {
		if same(g.levelTable, t.Table) {
			return t.Table, t.Privileges, true
		}
	}
	return "", nil, false
}

// mysqlErrNumber returns the MySQL error number in err, or 0.
func mysqlErrNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}
