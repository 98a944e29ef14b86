package sqlident

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxShownValue bounds how much of a bad value an error message repeats.
// Errors end up in CloudFormation events, whose status reason is limited in
// length; a multi-kilobyte value would push the useful part of the message out.
const maxShownValue = 80

// InvalidError reports a value that breaks a validation rule.
//
// Error() reads like
//
//	user name "dro;p": must match ^[A-Za-z][A-Za-z0-9_]{0,31}$ (letters, digits, underscore; starts with a letter; at most 32 characters)
//
// The value is shown in Go %q syntax so that spaces, quotes, NUL bytes and
// invisible Unicode are visible in the message.
type InvalidError struct {
	What    string // what the value is, e.g. "user name", "privilege"
	Value   string // the rejected value, exactly as given
	Reason  string // the rule it broke, e.g. "is a reserved account"
	Allowed string // what would be accepted; may be empty
}

// Error returns `<What> "<Value>": <Reason> (<Allowed>)`, leaving out the
// parenthesised part when Allowed is empty. Values longer than 80 bytes are
// shortened and their length is given instead.
func (e *InvalidError) Error() string {
	var b strings.Builder
	b.WriteString(e.What)
	b.WriteByte(' ')
	b.WriteString(shownValue(e.Value))
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.Allowed != "" {
		b.WriteString(" (")
		b.WriteString(e.Allowed)
		b.WriteByte(')')
	}
	return b.String()
}

// shownValue quotes v, cutting it at a rune boundary if it is long.
func shownValue(v string) string {
	if len(v) <= maxShownValue {
		return strconv.Quote(v)
	}
	cut := maxShownValue
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strconv.Quote(v[:cut]) + "... (" + strconv.Itoa(len(v)) + " bytes)"
}
