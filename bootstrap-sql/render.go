package usersql

import (
	"embed"
	"fmt"
	"strings"
	"sync"
	"text/template"

	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

// sqlFiles are the statement templates, one statement per file, named after
// what the statement does.
//
//go:embed *.sql
var sqlFiles embed.FS

// templates parses sqlFiles once. Parsing can only fail if a .sql file in
// this folder is broken, which the package tests catch; returning the error
// instead of panicking keeps even that case from crashing the Lambda.
var templates = sync.OnceValues(func() (*template.Template, error) {
	t, err := template.New("").Option("missingkey=error").ParseFS(sqlFiles, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("parse embedded SQL templates: %w", err)
	}
	return t, nil
})

// AccountHost is the host part of every account rdsiam manages: IAM
// authentication decides who may log in, so the account is not tied to a
// client address.
const AccountHost = "%"

// QuoteAccount returns the managed account for user, quoted for SQL:
// `user`@'%'.
func QuoteAccount(user string) string {
	return sqlident.QuoteIdentifier(user) + "@" + sqlident.QuoteString(AccountHost)
}

// sqlValues is the only data templates see. Every field is already validated
// and quoted, so it can be spliced into SQL as is; it is built only by
// valuesFor, from a Spec that passed Normalize.
type sqlValues struct {
	Account  string // `user`@'%'
	Database string // `database`
	// DatabasePattern is Database as a database-level GRANT/REVOKE must
	// name it: `app\_db`, see sqlident.QuoteDatabasePattern.
	DatabasePattern string
	Privileges      string // canonical privilege names joined by ", ", e.g. "INSERT, SELECT"
	Table           string // `table`, for the table-level templates
	Role            string // a quoted role, for revoke_role.sql
	Registry        string // `rdsiam`, the ownership registry schema
	MariaDB         bool   // the server speaks MariaDB's dialect where it differs
}

// valuesFor quotes the fields of n, which must come from Spec.Normalize. The
// privileges are passed separately because Update grants and revokes subsets
// of n.Privileges; they must be canonical names from
// sqlident.NormalizePrivileges, which are fixed keywords and need no quoting.
func valuesFor(n Spec, privileges []string) sqlValues {
	return sqlValues{
		Account:         QuoteAccount(n.User),
		Database:        sqlident.QuoteIdentifier(n.Database),
		DatabasePattern: sqlident.QuoteDatabasePattern(n.Database),
		Privileges:      strings.Join(privileges, ", "),
		Registry:        sqlident.QuoteIdentifier(sqlident.RegistrySchema),
	}
}

// render executes the template in file with v and returns the statement
// with surrounding white space removed.
func render(file string, v sqlValues) (string, error) {
	t, err := templates()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, file, v); err != nil {
		return "", fmt.Errorf("render %s: %w", file, err)
	}
	return strings.TrimSpace(b.String()), nil
}
