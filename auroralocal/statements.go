package auroralocal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// Account-management statements that GMS v0.20 cannot run as Aurora does:
//
//   - ALTER USER ... REQUIRE SSL|NONE: GMS's parser rejects it;
//   - CREATE USER ... REQUIRE SSL: GMS parses the clause but drops it;
//   - REVOKE ALL PRIVILEGES, GRANT OPTION FROM ...: GMS answers "not yet
//     implemented".
//
// The connection handler runs these itself against GMS's user table, with
// MySQL's privilege requirement (global CREATE USER) and error numbers.

// intercept runs query if it is one of the statements above. handled=false
// means GMS should run it; rest is the text after the first statement.
// Unless multi (the client negotiated CLIENT_MULTI_STATEMENTS), a query with
// more than one statement is a syntax error and nothing is executed.
func (h *connHandler) intercept(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn, multi bool) (handled bool, rest string, err error) {
	if handled, rest, err := h.alterUserRequire(c, query, callback, multi); handled {
		return true, rest, err
	}
	if handled, rest, err := h.setDefaultRoleNone(c, query, callback, multi); handled {
		return true, rest, err
	}
	return h.revokeAll(ctx, c, query, callback, multi)
}

// setDefaultRoleNone accepts SET DEFAULT ROLE NONE TO|FOR account: GMS
// cannot parse it and keeps no default roles, so there is nothing to clear;
// the caller still needs CREATE USER, as in MySQL.
func (h *connHandler) setDefaultRoleNone(c *mysql.Conn, query string, callback mysql.ResultSpoolFn, multi bool) (handled bool, rest string, err error) {
	if !startsWithKeywords(query, "SET", "DEFAULT", "ROLE") {
		return false, "", nil
	}
	stmt, rest, _ := strings.Cut(query, ";")
	if err := errIfMultiple(rest, multi); err != nil {
		return true, "", err
	}
	if !startsWithKeywords(stmt, "SET", "DEFAULT", "ROLE", "NONE") {
		return true, "", mysql.NewSQLError(ErrNumNotSupportedYet, mysql.SSUnknownSQLState,
			"auroralocal emulates only SET DEFAULT ROLE NONE (GMS keeps no default roles)")
	}
	if err := h.requireCreateUser(c); err != nil {
		return true, "", err
	}
	return true, rest, callback(&sqltypes.Result{}, false)
}

// errIfMultiple refuses a second statement when the client did not enable
// multi-statements, as MySQL does.
func errIfMultiple(rest string, multi bool) error {
	if multi || strings.TrimSpace(rest) == "" {
		return nil
	}
	return mysql.NewSQLError(ErrNumParse, sqlStateSyntaxOrAccess,
		"You have an error in your SQL syntax; multiple statements need CLIENT_MULTI_STATEMENTS")
}

// requireCreateUser returns ER_SPECIFIC_ACCESS_DENIED unless the connection's
// account holds the global CREATE USER privilege.
func (h *connHandler) requireCreateUser(c *mysql.Conn) error {
	who, _ := c.UserData.(sql.MysqlConnectionUser)
	if !h.s.hasGlobalPrivilege(who.User, who.Host, sql.PrivilegeType_CreateUser) {
		return mysql.NewSQLError(ErrNumSpecificAccessDenied, sqlStateSyntaxOrAccess,
			"Access denied; you need (at least one of) the CREATE USER privilege(s) for this operation")
	}
	return nil
}

// alterUserRequire executes ALTER USER ... REQUIRE SSL|NONE. handled=false
// means the query is something else. The caller must hold the CREATE USER
// privilege, as in MySQL.
func (h *connHandler) alterUserRequire(c *mysql.Conn, query string, callback mysql.ResultSpoolFn, multi bool) (handled bool, rest string, err error) {
	stmt, rest, matched, perr := parseAlterUserRequire(query)
	if !matched {
		return false, "", nil
	}
	if errors.Is(perr, errUnsupportedRequire) {
		return true, "", mysql.NewSQLError(ErrNumNotSupportedYet, mysql.SSUnknownSQLState,
			"This version of MySQL doesn't yet support 'ALTER USER ... REQUIRE X509/CIPHER/ISSUER/SUBJECT' (auroralocal emulates only REQUIRE SSL and REQUIRE NONE)")
	}
	if perr != nil {
		return true, "", mysql.NewSQLError(ErrNumParse, sqlStateSyntaxOrAccess,
			"You have an error in your SQL syntax; %v", perr)
	}
	if err := errIfMultiple(rest, multi); err != nil {
		return true, "", err
	}
	if err := h.requireCreateUser(c); err != nil {
		return true, "", err
	}
	// Check every account first so the statement is all-or-nothing, as in
	// MySQL.
	var missing []string
	for _, a := range stmt.Accounts {
		if !h.s.accountExists(a.Name, a.Host) {
			missing = append(missing, a.String())
		}
	}
	if len(missing) > 0 && !stmt.IfExists {
		return true, "", mysql.NewSQLError(ErrNumCannotUser, mysql.SSUnknownSQLState,
			"Operation ALTER USER failed for %s", strings.Join(missing, ","))
	}
	for _, a := range stmt.Accounts {
		if _, err := h.s.setRequireSSL(a.Name, a.Host, stmt.RequireSSL); err != nil {
			return true, "", mysql.NewSQLError(ErrNumUnknown, mysql.SSUnknownSQLState, "ALTER USER %s: %v", a, err)
		}
	}
	h.s.log.Info("auroralocal: ALTER USER REQUIRE", "accounts", fmt.Sprint(stmt.Accounts), "require_ssl", stmt.RequireSSL)
	return true, rest, callback(&sqltypes.Result{}, false)
}

// createUserRequire runs a statement through GMS via run and, if it was a
// CREATE USER ... REQUIRE SSL that succeeded, marks the accounts it created
// (not ones that already existed under IF NOT EXISTS) as requiring SSL. GMS
// itself parses the REQUIRE clause but drops it.
func (h *connHandler) createUserRequire(ctx context.Context, query string, run func() (string, error)) (string, error) {
	if !startsWithKeywords(query, "CREATE", "USER") {
		return run()
	}
	parsed, _, err := sqlparser.ParseOne(ctx, query)
	cu, ok := parsed.(*sqlparser.CreateUser)
	if err != nil || !ok || cu.TLSOptions == nil {
		return run()
	}
	t := cu.TLSOptions
	if t.X509 || t.Cipher != "" || t.Issuer != "" || t.Subject != "" {
		return "", mysql.NewSQLError(ErrNumNotSupportedYet, mysql.SSUnknownSQLState,
			"This version of MySQL doesn't yet support 'CREATE USER ... REQUIRE X509/CIPHER/ISSUER/SUBJECT' (auroralocal emulates only REQUIRE SSL and REQUIRE NONE)")
	}
	var created []accountName
	for _, u := range cu.Users {
		a := accountName{Name: u.AccountName.Name, Host: u.AccountName.Host}
		if a.Host == "" || u.AccountName.AnyHost {
			a.Host = "%"
		}
		if !h.s.accountExists(a.Name, a.Host) {
			created = append(created, a)
		}
	}
	rest, err := run()
	if err != nil || !t.SSL {
		return rest, err
	}
	for _, a := range created {
		if _, err := h.s.setRequireSSL(a.Name, a.Host, true); err != nil {
			return rest, mysql.NewSQLError(ErrNumUnknown, mysql.SSUnknownSQLState, "CREATE USER %s REQUIRE SSL: %v", a, err)
		}
	}
	return rest, nil
}

// revokeAll runs REVOKE ALL [PRIVILEGES], GRANT OPTION FROM account, ...:
// every global, database, table, column and routine privilege of each
// account is removed (roles granted to it stay, as in MySQL).
func (h *connHandler) revokeAll(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn, multi bool) (handled bool, rest string, err error) {
	if !startsWithKeywords(query, "REVOKE", "ALL") {
		return false, "", nil
	}
	parsed, end, err := sqlparser.ParseOne(ctx, query)
	ra, ok := parsed.(*sqlparser.RevokeAllPrivileges)
	if err != nil || !ok {
		return false, "", nil
	}
	if end >= 0 && end < len(query) {
		rest = strings.TrimLeft(query[end:], "; \t\r\n")
	}
	if err := errIfMultiple(rest, multi); err != nil {
		return true, "", err
	}
	if err := h.requireCreateUser(c); err != nil {
		return true, "", err
	}
	accounts := make([]accountName, len(ra.From))
	for i, a := range ra.From {
		accounts[i] = accountName{Name: a.Name, Host: a.Host}
		if a.AnyHost || a.Host == "" {
			accounts[i].Host = "%"
		}
		if !h.s.accountExists(accounts[i].Name, accounts[i].Host) {
			return true, "", mysql.NewSQLError(ErrNumRevokeGrants, mysql.SSUnknownSQLState,
				"Can't revoke all privileges for one or more of the requested users")
		}
	}
	for _, a := range accounts {
		if err := h.s.clearPrivileges(a.Name, a.Host); err != nil {
			return true, "", mysql.NewSQLError(ErrNumUnknown, mysql.SSUnknownSQLState, "REVOKE ALL FROM %s: %v", a, err)
		}
	}
	h.s.log.Info("auroralocal: REVOKE ALL PRIVILEGES, GRANT OPTION", "accounts", fmt.Sprint(accounts))
	return true, rest, callback(&sqltypes.Result{}, false)
}
