package sqlident

import (
	"errors"
	"strings"
	"testing"
)

// Seeds live in testdata/fuzz/<FuzzName>/; `go test` runs them as ordinary
// test cases, `go test -fuzz=FuzzValidateUserName` explores beyond them.

// FuzzValidateUserName checks that nothing able to change a statement's
// shape ever validates, and that rejections are always *InvalidError.
func FuzzValidateUserName(f *testing.F) {
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateUserName(name)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Value != name {
				t.Fatalf("ValidateUserName(%q) = %v, want *InvalidError carrying the value", name, err)
			}
			return
		}
		if strings.ContainsAny(name, "'`\"; \t\r\n\x00\\-/*#@%.") {
			t.Fatalf("ValidateUserName accepted %q, which contains SQL syntax", name)
		}
		if len(name) == 0 || len(name) > 32 {
			t.Fatalf("ValidateUserName accepted %q of length %d", name, len(name))
		}
		if QuoteIdentifier(name) != "`"+name+"`" {
			t.Fatalf("valid name %q needed escaping: %q", name, QuoteIdentifier(name))
		}
	})
}

// FuzzValidateDatabaseName is FuzzValidateUserName for database names.
func FuzzValidateDatabaseName(f *testing.F) {
	f.Fuzz(func(t *testing.T, name string) {
		if err := ValidateDatabaseName(name); err != nil {
			return
		}
		if strings.ContainsAny(name, "'`\"; \t\r\n\x00\\-/*#@%.") || len(name) == 0 || len(name) > 64 {
			t.Fatalf("ValidateDatabaseName accepted %q", name)
		}
	})
}

// FuzzQuoteIdentifier checks that any input quotes to exactly one identifier
// that reads back as the input.
func FuzzQuoteIdentifier(f *testing.F) {
	f.Fuzz(func(t *testing.T, name string) {
		q := QuoteIdentifier(name)
		if len(q) < 2 || q[0] != '`' || q[len(q)-1] != '`' {
			t.Fatalf("QuoteIdentifier(%q) = %q, not enclosed in backticks", name, q)
		}
		got, err := unquoteIdentifier(q)
		if err != nil {
			t.Fatalf("QuoteIdentifier(%q) = %q: %v", name, q, err)
		}
		if got != name {
			t.Fatalf("QuoteIdentifier(%q) = %q reads back as %q", name, q, got)
		}
	})
}

// FuzzQuoteString checks that any input quotes to exactly one string literal
// that reads back as the input.
func FuzzQuoteString(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		q := QuoteString(s)
		got, err := unquoteString(q)
		if err != nil {
			t.Fatalf("QuoteString(%q) = %s: %v", s, q, err)
		}
		if got != s {
			t.Fatalf("QuoteString(%q) = %s reads back as %q", s, q, got)
		}
	})
}

// FuzzValidateTableName is FuzzValidateUserName for table names, and
// checks that an accepted name never needs more than quoting: nothing in
// it is a GRANT wildcard or a qualifier.
func FuzzValidateTableName(f *testing.F) {
	for _, s := range []string{"items", "app_db.items", "t%", "t`x", "select"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateTableName(name)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Value != name {
				t.Fatalf("ValidateTableName(%q) = %v, want *InvalidError carrying the value", name, err)
			}
			return
		}
		if strings.ContainsAny(name, "'`\"; \t\r\n\x00\\-/*#@%.") || len(name) == 0 || len(name) > 64 {
			t.Fatalf("ValidateTableName accepted %q", name)
		}
		if QuoteIdentifier(name) != "`"+name+"`" {
			t.Fatalf("valid name %q needed escaping: %q", name, QuoteIdentifier(name))
		}
	})
}
