package sqlident

import "strings"

// QuoteIdentifier returns name as a MySQL quoted identifier: enclosed in
// backticks, with every backtick inside doubled. The result is safe to splice
// into SQL as one identifier whatever name holds, except that MySQL itself
// rejects identifiers containing NUL or ending in a space; callers validate
// names with [ValidateUserName] or [ValidateDatabaseName] first.
func QuoteIdentifier(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// stringEscaper escapes the characters that could end or corrupt a MySQL
// string literal. A quote is doubled rather than backslash-escaped because a
// doubled quote means one quote in every sql_mode, while \' would end the
// literal under NO_BACKSLASH_ESCAPES. Backslash, NUL, CR, LF and Ctrl-Z use
// MySQL's backslash escapes; under NO_BACKSLASH_ESCAPES they read back as two
// characters, which changes the value but can never end the literal early.
var stringEscaper = strings.NewReplacer(
	`\`, `\\`,
	`'`, `''`,
	"\x00", `\0`,
	"\n", `\n`,
	"\r", `\r`,
	"\x1a", `\Z`,
)

// QuoteString returns s as a single-quoted MySQL string literal, for values
// such as the account host '%' and the plugin argument 'RDS'. With the
// default sql_mode the literal reads back as exactly s.
func QuoteString(s string) string {
	return "'" + stringEscaper.Replace(s) + "'"
}

// grantPatternEscaper escapes the two characters that are wildcards in the
// database part of a database-level GRANT or REVOKE.
var grantPatternEscaper = strings.NewReplacer(`\`, `\\`, `_`, `\_`, `%`, `\%`)

// QuoteDatabasePattern returns database as it must appear in a
// database-level GRANT or REVOKE (`ON <here>.*`): quoted like
// [QuoteIdentifier], with `_` and `%` escaped as `\_` and `\%`.
//
// Why: in MySQL (and so Aurora MySQL) and MariaDB the database name of
// `GRANT ... ON db.*` is a LIKE pattern, so a grant on `app_db`.* also covers
// `app1db` and `appXdb`, and with CREATE or DROP the user could create or drop
// every matching schema. Escaped, the pattern matches exactly one database.
// With MySQL's partial_revokes on, `_` and `%` in grants are literal anyway,
// and an escaped one still means itself, so the escaped form is right in
// both modes. Use QuoteIdentifier, not this, for CREATE DATABASE, USE and
// table names: there a backslash would be part of the name.
func QuoteDatabasePattern(database string) string {
	return QuoteIdentifier(grantPatternEscaper.Replace(database))
}
