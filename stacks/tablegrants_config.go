package stacks

import (
	"errors"
	"fmt"
	"strings"

	usersql "github.com/rdsiam/rdsiam/bootstrap-sql"
	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

// The tableGrants key: the app user's table-level grants
// (DatabaseUserProps.TableGrants), checked by the same sqlident and usersql
// rules as the construct and the handler, so the synth refuses exactly what
// the deployment would.

// tableGrantsAllowed describes the key for the docs and for errors.
var tableGrantsAllowed = fmt.Sprintf(`a JSON array of at most %d objects {"table": "<name>", "privileges": ["SELECT", ...]}, `+
	`e.g. [{"table":"items","privileges":["SELECT"]}]; each table named alone (items, not appdb.items) and once: `+
	"`%s`, not a MySQL reserved word; privileges per table: %s (not ALL, not GRANT OPTION); [] for none",
	sqlident.MaxTableGrants, sqlident.TableNamePattern, strings.Join(sqlident.AllowedTablePrivileges(), ", "))

// tableGrantsRule is sqlident.NormalizeTableGrants, whose error names every
// bad entry's table (one line each, joined here).
var tableGrantsRule = rule[[]TableGrant]{allowed: tableGrantsAllowed, check: func(v []TableGrant) *problem {
	if _, err := sqlident.NormalizeTableGrants(v); err != nil {
		return &problem{Reason: strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	return nil
}}

// validateUserGrants applies the user custom resource's own rule between
// grants and tableGrants (usersql.Spec.Normalize): the user needs at least
// one database-level privilege or one table grant. Each key's entries have
// passed their own rule already, so that is the only refusal left.
func (c Config) validateUserGrants() error {
	_, err := usersql.Spec{User: c.UserName, Database: c.DatabaseName, Privileges: c.Grants, Tables: c.TableGrants}.Normalize()
	if err == nil {
		return nil
	}
	var ie *sqlident.InvalidError
	if !errors.As(err, &ie) {
		return fmt.Errorf("context keys grants and tableGrants: %w", err)
	}
	return &ConfigError{Key: "grants", Value: c.Grants, Reason: "tableGrants is [] too, and a user " + ie.Reason,
		Allowed: "at least one privilege, or [] with at least one entry in tableGrants (" + strings.TrimPrefix(ie.Allowed, "allowed: ") + ")"}
}
