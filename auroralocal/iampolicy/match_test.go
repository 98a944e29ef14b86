package iampolicy

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatch(t *testing.T) {
	const arn = "arn:aws:rds-db:eu-west-1:123456789012:dbuser:cluster-ABC/app_user"
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{arn, arn, true},
		{"*", arn, true},
		{"*", "", true},
		{"", "", true},
		{"", "x", false},
		{"x", "", false},
		{"?", "", false},
		{"?", "é", true}, // one rune, two bytes
		{"??", "é", false},
		{"arn:aws:rds-db:*", arn, true}, // '*' spans ':' and '/'
		{"arn:aws:rds-db:*:*:dbuser:*/app_user", arn, true},                  // several stars
		{"arn:aws:rds-db:*:*:dbuser:*/other", arn, false},                    // suffix differs
		{"arn:aws:rds-db:eu-west-?:123456789012:dbuser:*", arn, true},        // '?' one char
		{"arn:aws:rds-db:eu-west-??:123456789012:dbuser:*", arn, false},      // '?' not zero chars
		{strings.ToUpper(arn), arn, false},                                   // case-sensitive
		{"arn:aws:rds-db:*app_user", arn, true},                              // star must backtrack
		{"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false}, // many backtracks
		{"*user", arn, true},
		{"*use", arn, false},
		{"a*", "a", true},
		{"*?", "", false},
		{"**", "", true},
	}
	for _, tc := range tests {
		if got := Match(tc.pattern, tc.value); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
}

func TestMatchFold(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"rds-db:connect", "rds-db:connect", true},
		{"RDS-DB:Connect", "rds-db:connect", true},
		{"rds-db:connect", "RDS-DB:CONNECT", true},
		{"Rds-Db:*", "rds-db:connect", true},
		{"rds-db:conn?ct", "RDS-DB:CONNECT", true},
		{"rds-db:connect", "rds-db:connects", false},
		{"rds:*", "rds-db:connect", false},
		{"É", "é", false}, // only ASCII folds
	}
	for _, tc := range tests {
		if got := MatchFold(tc.pattern, tc.value); got != tc.want {
			t.Errorf("MatchFold(%q, %q) = %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
}

// FuzzMatch checks the matcher against its definition. The seed corpus lives
// in testdata/fuzz/FuzzMatch; run `go test -fuzz=FuzzMatch` to explore more.
func FuzzMatch(f *testing.F) {
	f.Fuzz(func(t *testing.T, pattern, value string) {
		// Match takes O(len(pattern)*len(value)) time in the worst case.
		// IAM caps policies at 10,240 characters and ARNs at 2,048, so
		// larger inputs only slow the fuzzer down without testing anything
		// IAM could send.
		if len(pattern) > 10240 || len(value) > 2048 {
			t.Skip("longer than IAM allows")
		}
		got := Match(pattern, value) // must not panic

		if !strings.ContainsAny(pattern, "*?") {
			if got != (pattern == value) {
				t.Fatalf("Match(%q, %q) = %v; a pattern without wildcards must match exactly itself", pattern, value, got)
			}
			if !Match(pattern, pattern) {
				t.Fatalf("Match(%q, itself) = false", pattern)
			}
		}
		if !Match("*", value) {
			t.Fatalf("Match(\"*\", %q) = false", value)
		}

		// Against an independent definition: the same glob as a regexp.
		// regexp rejects invalid UTF-8 patterns, so compare only valid text,
		// and only short text: regexp's NFA is far slower than Match on
		// star-heavy patterns and would stall the fuzzer on long inputs.
		if utf8.ValidString(pattern) && utf8.ValidString(value) && len(pattern) <= 64 && len(value) <= 256 {
			if want := globRegexp(pattern).MatchString(value); got != want {
				t.Fatalf("Match(%q, %q) = %v, regexp says %v", pattern, value, got, want)
			}
		}

		// MatchFold is Match after folding ASCII letters on both sides.
		if fold, want := MatchFold(pattern, value), Match(lowerASCII(pattern), lowerASCII(value)); fold != want {
			t.Fatalf("MatchFold(%q, %q) = %v, want %v", pattern, value, fold, want)
		}
	})
}

func globRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
