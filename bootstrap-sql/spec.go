package usersql

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

// Spec describes the database user that rdsiam manages.
type Spec struct {
	// User is the MySQL user name; it logs in from any host ('%') with
	// AWSAuthenticationPlugin. Rules: sqlident.ValidateUserName.
	User string
	// Database is the database (schema) the user gets privileges on; it is
	// created if missing. Rules: sqlident.ValidateDatabaseName.
	Database string
	// Privileges are database-level privileges granted on Database.*, in
	// any case and order. Rules: sqlident.NormalizePrivileges. May be empty
	// when Tables is not.
	Privileges []string
	// Tables are table-level grants on tables of Database. Rules:
	// sqlident.NormalizeTableGrants.
	Tables []sqlident.TableGrant
}

// Validate returns nil if s can be turned into statements, or an error
// listing every invalid field; each part is a *sqlident.InvalidError
// (reachable with errors.As) naming the bad value and what is allowed.
func (s Spec) Validate() error {
	_, err := s.Normalize()
	return err
}

// Normalize returns a copy of s with Privileges and Tables in canonical
// form (upper case, single spaces, de-duplicated, sorted; tables sorted by
// name), or the error Validate describes. A user needs at least one
// database-level privilege or one table grant. s itself is not modified.
func (s Spec) Normalize() (Spec, error) {
	userErr := sqlident.ValidateUserName(s.User)
	dbErr := sqlident.ValidateDatabaseName(s.Database)
	var privs []string
	var privErr error
	switch {
	case len(s.Privileges) > 0:
		privs, privErr = sqlident.NormalizePrivileges(s.Privileges)
	case len(s.Tables) == 0:
		privErr = &sqlident.InvalidError{What: "privileges", Value: "",
			Reason: "must list at least one database-level privilege or one table grant",
			Allowed: "database-level: " + strings.Join(sqlident.AllowedPrivileges(), ", ") +
				"; per table: " + strings.Join(sqlident.AllowedTablePrivileges(), ", ")}
	}
	tables, tableErr := sqlident.NormalizeTableGrants(s.Tables)
	if err := errors.Join(userErr, dbErr, privErr, tableErr); err != nil {
		return Spec{}, err
	}
	return Spec{User: s.User, Database: s.Database, Privileges: privs, Tables: tables}, nil
}

// String describes s for logs and error messages. It holds no secrets: a
// Spec contains only names.
func (s Spec) String() string {
	out := fmt.Sprintf("user %q on database %q with %q", s.User, s.Database, s.Privileges)
	for _, t := range s.Tables {
		out += fmt.Sprintf(", %q on table %q", t.Privileges, t.Table)
	}
	return out
}
