package sqlident

import (
	"regexp"
	"strings"
)

// UserNamePattern is the allow-list for user names: MySQL 8 limits user names
// to 32 characters.
const UserNamePattern = `^[A-Za-z][A-Za-z0-9_]{0,31}$`

// DatabaseNamePattern is the allow-list for database (schema) names: MySQL
// limits identifiers to 64 characters.
const DatabaseNamePattern = `^[A-Za-z][A-Za-z0-9_]{0,63}$`

var (
	userNameRE     = regexp.MustCompile(UserNamePattern)
	databaseNameRE = regexp.MustCompile(DatabaseNamePattern)
)

// ValidateUserName returns nil if name may be used as the name of the
// IAM-authenticated database user, and an [*InvalidError] otherwise.
//
// A valid name matches [UserNamePattern], is not one of [ReservedAccounts]
// and does not start with one of [ReservedAccountPrefixes], and is not a
// MySQL reserved word (see [IsReservedWord]). The account and keyword checks
// ignore case.
//
// Reserved words are refused even though rdsiam always quotes names: the
// name also ends up in application code, IAM policies and ad-hoc SQL typed by
// people, where an unquoted `select`@`%` fails with a baffling syntax error.
func ValidateUserName(name string) error {
	const what = "user name"
	if !userNameRE.MatchString(name) {
		return &InvalidError{What: what, Value: name,
			Reason:  "must match " + UserNamePattern,
			Allowed: "letters, digits, underscore; starts with a letter; at most 32 characters"}
	}
	if reason := reservedAccountReason(name); reason != "" {
		return &InvalidError{What: what, Value: name, Reason: reason,
			Allowed: "any other name; reserved: " + strings.Join(ReservedAccounts(), ", ") +
				"; reserved prefixes: " + strings.Join(ReservedAccountPrefixes(), ", ")}
	}
	if IsReservedWord(name) {
		return &InvalidError{What: what, Value: name,
			Reason:  "is a MySQL reserved word",
			Allowed: "a name that is not a keyword, e.g. " + name + "_user"}
	}
	return nil
}

// ValidateDatabaseName returns nil if name may be used as the application
// database (schema) name, and an [*InvalidError] otherwise.
//
// A valid name matches [DatabaseNamePattern], is not one of [SystemSchemas]
// and is not a MySQL reserved word (see [IsReservedWord]); both checks ignore
// case, because whether schema names are case-sensitive depends on the
// server's lower_case_table_names setting.
func ValidateDatabaseName(name string) error {
	const what = "database name"
	if !databaseNameRE.MatchString(name) {
		return &InvalidError{What: what, Value: name,
			Reason:  "must match " + DatabaseNamePattern,
			Allowed: "letters, digits, underscore; starts with a letter; at most 64 characters"}
	}
	if isSystemSchema(name) {
		return &InvalidError{What: what, Value: name,
			Reason:  "is a system schema",
			Allowed: "any other name; system schemas: " + strings.Join(SystemSchemas(), ", ")}
	}
	if IsReservedWord(name) {
		return &InvalidError{What: what, Value: name,
			Reason:  "is a MySQL reserved word",
			Allowed: "a name that is not a keyword, e.g. " + name + "_db"}
	}
	return nil
}
