package bootstrapsql

import (
	"errors"
	"fmt"

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
	// any case and order. Rules: sqlident.NormalizePrivileges.
	Privileges []string
}

// Validate returns nil if s can be turned into statements, or an error
// listing every invalid field; each part is a *sqlident.InvalidError
// (reachable with errors.As) naming the bad value and what is allowed.
func (s Spec) Validate() error {
	_, err := s.Normalize()
	return err
}

// Normalize returns a copy of s with Privileges in canonical form (upper
// case, single spaces, de-duplicated, sorted), or the error Validate
// describes. s itself is not modified.
func (s Spec) Normalize() (Spec, error) {
	userErr := sqlident.ValidateUserName(s.User)
	dbErr := sqlident.ValidateDatabaseName(s.Database)
	privs, privErr := sqlident.NormalizePrivileges(s.Privileges)
	if err := errors.Join(userErr, dbErr, privErr); err != nil {
		return Spec{}, err
	}
	return Spec{User: s.User, Database: s.Database, Privileges: privs}, nil
}

// String describes s for logs and error messages. It holds no secrets: a
// Spec contains only names.
func (s Spec) String() string {
	return fmt.Sprintf("user %q on database %q with %q", s.User, s.Database, s.Privileges)
}
