package mariadb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rdsiam/rdsiam/auroralocal"
)

// internalAccounts are the server's own accounts, left out of Users:
// mariadb.sys owns system views, root@localhost is the lane's plumbing.
var internalAccounts = map[[2]string]bool{{"mariadb.sys", "localhost"}: true, {"root", "localhost"}: true}

// MasterDB opens a pool logged in as the master over TLS (verifying the
// server's certificate for Host()), as an operator would. Close it.
func (s *Server) MasterDB() (*sql.DB, error) {
	return auroralocal.OpenDB(s.Addr(), s.Host(), s.CAPool(), s.MasterUser(), s.MasterPassword())
}

// Users lists the accounts (not roles, not the server's own internal
// accounts) as the master reads them from mysql.user, sorted by name then
// host. RequireSSL is ssl_type = 'ANY' (REQUIRE SSL).
func (s *Server) Users() ([]auroralocal.User, error) {
	db, err := s.MasterDB()
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, "SELECT User, Host, plugin, ssl_type FROM mysql.user WHERE is_role = 'N' ORDER BY User, Host")
	if err != nil {
		return nil, fmt.Errorf("mariadb: reading mysql.user: %w", err)
	}
	defer rows.Close()
	var users []auroralocal.User
	for rows.Next() {
		var u auroralocal.User
		var sslType string
		if err := rows.Scan(&u.Name, &u.Host, &u.Plugin, &sslType); err != nil {
			return nil, err
		}
		if internalAccounts[[2]string{u.Name, u.Host}] {
			continue
		}
		u.RequireSSL = sslType == "ANY"
		users = append(users, u)
	}
	return users, rows.Err()
}

// Grants returns what SHOW GRANTS FOR user@host (as the master) says the
// account holds, in the stand-in's line format, sorted:
//
//	"SELECT ON appdb.*"        one line per privilege and scope
//	"GRANT OPTION ON appdb.*"  WITH GRANT OPTION at that scope
//	"ROLE app_role"            a granted role
//	"DEFAULT ROLE app_role"    the account's default role
//
// USAGE (no privilege) gives no line. Names keep SHOW GRANTS' escapes
// (app\_db) but lose their backticks. An unknown account is an error.
func (s *Server) Grants(user, host string) ([]string, error) {
	db, err := s.MasterDB()
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return ShowGrants(db, user, host)
}

// ShowGrants runs SHOW GRANTS FOR user@host on db and parses it as
// Server.Grants describes.
func ShowGrants(db *sql.DB, user, host string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, "SHOW GRANTS FOR "+quoteString(user)+"@"+quoteString(host))
	if err != nil {
		return nil, fmt.Errorf("mariadb: SHOW GRANTS FOR '%s'@'%s': %w", user, host, err)
	}
	defer rows.Close()
	lines := []string{}
	for rows.Next() {
		var stmt string
		if err := rows.Scan(&stmt); err != nil {
			return nil, err
		}
		parsed, err := parseGrant(stmt)
		if err != nil {
			return nil, err
		}
		lines = append(lines, parsed...)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(lines)
	return lines, nil
}

// parseGrant turns one SHOW GRANTS line into Grants lines.
func parseGrant(stmt string) ([]string, error) {
	if rest, ok := strings.CutPrefix(stmt, "SET DEFAULT ROLE "); ok {
		role, _, _ := strings.Cut(rest, " FOR ")
		return []string{"DEFAULT ROLE " + unquote(role)}, nil
	}
	rest, ok := strings.CutPrefix(stmt, "GRANT ")
	if !ok {
		return nil, fmt.Errorf("mariadb: unexpected SHOW GRANTS line %q", stmt)
	}
	privs, after, ok := cutTopLevel(rest, " ON ")
	if !ok { // GRANT `role` TO `user`@`host`
		role, _, _ := strings.Cut(rest, " TO ")
		return []string{"ROLE " + unquote(role)}, nil
	}
	scopeText, tail, _ := strings.Cut(after, " TO ")
	scope := unquoteScope(scopeText)
	var out []string
	for _, p := range splitTopLevel(privs) {
		if p != "USAGE" {
			out = append(out, p+" ON "+scope)
		}
	}
	if strings.HasSuffix(tail, " WITH GRANT OPTION") {
		out = append(out, "GRANT OPTION ON "+scope)
	}
	return out, nil
}

// cutTopLevel is strings.Cut outside parentheses and backticks.
func cutTopLevel(s, sep string) (before, after string, found bool) {
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '`':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.HasPrefix(s[i:], sep):
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

// splitTopLevel splits a privilege list on ", " outside parentheses
// (column lists).
func splitTopLevel(s string) []string {
	var out []string
	for {
		before, after, found := cutTopLevel(s, ", ")
		out = append(out, before)
		if !found {
			return out
		}
		s = after
	}
}

// unquoteScope turns `db`.`table` into db.table (and `db`.* into db.*).
func unquoteScope(s string) string {
	db, table, _ := cutTopLevel(s, ".")
	return unquote(db) + "." + unquote(table)
}

// unquote removes one level of backtick quoting.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	return s
}
