// Package sqlident validates and quotes the MySQL identifiers and privilege
// names that rdsiam puts into SQL statements.
//
// The same rules run twice: at CDK synth time, so a bad name fails `cdk synth`
// with a readable message instead of a half-deployed stack, and again in the
// Lambda that runs the SQL, because CloudFormation properties can be changed
// outside CDK. Validation is an allow-list (a letter followed by letters,
// digits and underscores) rather than a block-list of dangerous characters:
// that alphabet cannot express quoting, comments or statement separators, so
// a value that validates cannot change the shape of a statement.
//
// Quoting ([QuoteIdentifier], [QuoteString]) is applied even to validated
// values. Validation and quoting are independent defences, and quoting also
// keeps names that happen to be keywords from being parsed as keywords.
//
// Every validation error is an [*InvalidError] naming the bad value, the rule
// it broke and what is allowed.
package sqlident
