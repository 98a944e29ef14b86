package auroralocal

import (
	"errors"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
)

// ErrNumTableAccessDenied is ER_TABLEACCESS_DENIED_ERROR, what Aurora sends
// when a user lacks a table privilege (e.g. INSERT with SELECT only).
const ErrNumTableAccessDenied = 1142

// ErrNumDBAccessDenied is ER_DBACCESS_DENIED_ERROR (no access to a database).
const ErrNumDBAccessDenied = 1044

// translatePrivilegeError gives GMS's privilege failures the error numbers
// Aurora uses. GMS v0.20 reports them all as ER_UNKNOWN_ERROR (1105) with
// messages such as "command denied to user 'app_user'@'%'"; the messages
// are kept (they lack MySQL's command and table names), only the number and
// SQLSTATE change: 1142/42000 for command and table denials, 1044/42000 for
// database denials. Other errors pass through unchanged.
func translatePrivilegeError(err error) error {
	var se *mysql.SQLError
	if err == nil || !errors.As(err, &se) || se.Number() != ErrNumUnknown {
		return err
	}
	msg := se.Message
	switch {
	case strings.HasPrefix(msg, "command denied to user "),
		strings.HasPrefix(msg, "Access denied for user ") && strings.Contains(msg, " to table '"):
		return mysql.NewSQLError(ErrNumTableAccessDenied, sqlStateSyntaxOrAccess, "%s", msg)
	case strings.HasPrefix(msg, "Access denied for user ") && strings.Contains(msg, " to database '"):
		return mysql.NewSQLError(ErrNumDBAccessDenied, sqlStateSyntaxOrAccess, "%s", msg)
	}
	return err
}
