package usersql

import "slices"

// MySQL error numbers that some statements tolerate.
const (
	// ErrNonexistingGrant (ER_NONEXISTING_GRANT, 1141) is returned by a
	// REVOKE of a database privilege the user does not hold.
	ErrNonexistingGrant uint16 = 1141
	// ErrNonexistingTableGrant (ER_NONEXISTING_TABLE_GRANT, 1147) is the
	// same for table-level grants.
	ErrNonexistingTableGrant uint16 = 1147
	// ErrNoSuchTable (ER_NO_SUCH_TABLE, 1146) is returned by a table-level
	// GRANT on a table that does not exist, unless CREATE is granted.
	ErrNoSuchTable uint16 = 1146
)

// revokeTolerates are the errors a REVOKE may fail with when the privilege is
// already gone. CloudFormation redelivers requests (and rolls updates back),
// so a REVOKE must succeed when an earlier delivery already ran it.
var revokeTolerates = []uint16{ErrNonexistingGrant, ErrNonexistingTableGrant}

// Statement is one SQL statement to execute on its own.
type Statement struct {
	// SQL is the complete statement, without a trailing semicolon. All
	// identifiers in it are backtick-quoted.
	SQL string
	// Purpose says briefly what the statement does, e.g. "create database
	// appdb", for error messages and logs. It contains no secrets.
	Purpose string
	// TolerateErrors lists MySQL error numbers that mean the statement's
	// goal is already met; the executor treats them as success.
	TolerateErrors []uint16
	// Hints explain what a MySQL error number means for this statement and
	// what to do; the executor adds the hint to the error.
	Hints map[uint16]string
	// Args are the values of the statement's ? placeholders (registry and
	// look-up statements only); names, never secrets.
	Args []any
}

// Hint returns what s.Hints says about MySQL error number code, or "".
func (s Statement) Hint(code uint16) string { return s.Hints[code] }

// Tolerates reports whether MySQL error number code is in s.TolerateErrors.
func (s Statement) Tolerates(code uint16) bool {
	return slices.Contains(s.TolerateErrors, code)
}
