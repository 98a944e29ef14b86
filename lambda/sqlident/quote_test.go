package sqlident

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// unquoteIdentifier reads a backtick-quoted identifier the way MySQL does and
// fails on anything that is not exactly one such identifier.
func unquoteIdentifier(q string) (string, error) {
	if len(q) < 2 || q[0] != '`' || q[len(q)-1] != '`' {
		return "", errors.New("not enclosed in backticks")
	}
	inner := q[1 : len(q)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] == '`' {
			if i+1 >= len(inner) || inner[i+1] != '`' {
				return "", errors.New("lone backtick inside: identifier would end early")
			}
			i++
		}
		b.WriteByte(inner[i])
	}
	return b.String(), nil
}

// unquoteString reads a single-quoted literal the way MySQL does with the
// default sql_mode and fails unless q is exactly one literal.
func unquoteString(q string) (string, error) {
	if len(q) < 2 || q[0] != '\'' || q[len(q)-1] != '\'' {
		return "", errors.New("not enclosed in single quotes")
	}
	inner := q[1 : len(q)-1]
	unescape := map[byte]byte{'0': 0, 'n': '\n', 'r': '\r', 'Z': 0x1a, '\\': '\\', '\'': '\''}
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		switch c := inner[i]; c {
		case '\\':
			if i+1 >= len(inner) {
				return "", errors.New("backslash escapes the closing quote")
			}
			u, ok := unescape[inner[i+1]]
			if !ok {
				return "", errors.New("unexpected escape")
			}
			b.WriteByte(u)
			i++
		case '\'':
			if i+1 >= len(inner) || inner[i+1] != '\'' {
				return "", errors.New("lone quote inside: literal would end early")
			}
			b.WriteByte('\'')
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func TestQuoteIdentifier(t *testing.T) {
	tests := []struct{ in, want string }{
		{"appdb", "`appdb`"},
		{"", "``"},
		{"a`b", "`a``b`"},
		{"`", "````"},
		{"`; DROP USER x; --", "```; DROP USER x; --`"},
		{"it's", "`it's`"},
	}
	for _, tt := range tests {
		if got := QuoteIdentifier(tt.in); got != tt.want {
			t.Errorf("QuoteIdentifier(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestQuoteString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"RDS", `'RDS'`},
		{"%", `'%'`},
		{"", `''`},
		{"it's", `'it''s'`},
		{`a\`, `'a\\'`},
		{`\'`, `'\\'''`},
		{"nul\x00", `'nul\0'`},
		{"l1\nl2\r", `'l1\nl2\r'`},
		{"\x1a", `'\Z'`},
	}
	for _, tt := range tests {
		if got := QuoteString(tt.in); got != tt.want {
			t.Errorf("QuoteString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

var roundTripInputs = []string{
	"", "a", "app_user", "`", "``", "'", "''", `\`, `\'`, `'\`, "a`b'c\\d",
	"x\x00y", "\n\r\x1a", "ünïcödé", "`; DROP USER x; --", "' OR '1'='1",
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, in := range roundTripInputs {
		t.Run(strconv.Quote(in), func(t *testing.T) {
			if got, err := unquoteIdentifier(QuoteIdentifier(in)); err != nil || got != in {
				t.Errorf("identifier round trip: got %q, %v; want %q", got, err, in)
			}
			if got, err := unquoteString(QuoteString(in)); err != nil || got != in {
				t.Errorf("string round trip: got %q, %v; want %q", got, err, in)
			}
		})
	}
}

// The test helpers must themselves reject broken quoting, or the round-trip
// and fuzz tests could not fail.
func TestUnquoteHelpersRejectBrokenQuoting(t *testing.T) {
	for _, q := range []string{"", "`", "a", "`a`b`", "`a"} {
		if _, err := unquoteIdentifier(q); err == nil {
			t.Errorf("unquoteIdentifier(%q) accepted broken quoting", q)
		}
	}
	for _, q := range []string{"", "'", "'a'b'", `'a\'`, "'a"} {
		if _, err := unquoteString(q); err == nil {
			t.Errorf("unquoteString(%q) accepted broken quoting", q)
		}
	}
}
