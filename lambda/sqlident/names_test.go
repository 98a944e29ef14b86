package sqlident

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkInvalid fails t unless err is an *InvalidError for value whose message
// names the value and contains wantReason.
func checkInvalid(t *testing.T, err error, what, value, wantReason string) {
	t.Helper()
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("got error %v (%T), want *InvalidError", err, err)
	}
	if inv.What != what || inv.Value != value {
		t.Errorf("got What=%q Value=%q, want What=%q Value=%q", inv.What, inv.Value, what, value)
	}
	if !strings.Contains(inv.Reason, wantReason) {
		t.Errorf("reason %q does not contain %q", inv.Reason, wantReason)
	}
	if msg := err.Error(); len(value) <= maxShownValue && !strings.Contains(msg, strconv.Quote(value)) {
		t.Errorf("message %q does not show the value as %s", msg, strconv.Quote(value))
	}
}

func TestValidateUserName(t *testing.T) {
	const (
		pattern  = "must match"
		account  = "reserved account"
		prefix   = "reserved prefix"
		reserved = "reserved word"
	)
	tests := []struct {
		name       string
		wantReason string // "" means valid
	}{
		{"a", ""},
		{"app_user", ""},
		{"App_User_2", ""},
		{"z" + strings.Repeat("9", 31), ""}, // exactly 32
		{"user", ""},                        // a keyword, but not reserved
		{"password", ""},
		{"rdsuser", ""}, // only "rds_" is a reserved prefix
		{"awsome", ""},

		{"", pattern},
		{"z" + strings.Repeat("9", 32), pattern}, // 33
		{"1abc", pattern},
		{"_abc", pattern},
		{"dro;p", pattern},
		{"a;DROP USER x", pattern},
		{"a b", pattern},
		{" a", pattern},
		{"a ", pattern},
		{"a\n", pattern},
		{"\na", pattern},
		{"a\tb", pattern},
		{"a'b", pattern},
		{"a`b", pattern},
		{`a"b`, pattern},
		{`a\b`, pattern},
		{"a\x00", pattern},
		{"a-b", pattern},
		{"a.b", pattern},
		{"a@b", pattern},
		{"a%", pattern},
		{"mysql.sys", pattern},
		{"mysql.session", pattern},
		{"mysql.infoschema", pattern},
		{"ü", pattern},
		{"usér", pattern},
		{"ａ", pattern}, // full-width a
		{"a\u200b", pattern},

		{"root", account},
		{"ROOT", account},
		{"Admin", account},
		{"rdsadmin", account},
		{"RdsRepladmin", account},
		{"rdsproxyadmin", account},
		{"rdstopmgr", account},
		{"mysql", account},
		{"rds_anything", prefix},
		{"AWS_LAMBDA_ACCESS", prefix},

		{"select", reserved},
		{"Select", reserved},
		{"TABLE", reserved},
		{"order", reserved},
		{"key", reserved},
		{"ssl", reserved},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.name), func(t *testing.T) {
			err := ValidateUserName(tt.name)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("ValidateUserName(%q) = %v, want nil", tt.name, err)
				}
				return
			}
			checkInvalid(t, err, "user name", tt.name, tt.wantReason)
		})
	}
}

func TestValidateDatabaseName(t *testing.T) {
	const (
		pattern  = "must match"
		system   = "system schema"
		reserved = "reserved word"
	)
	tests := []struct {
		name       string
		wantReason string
	}{
		{"a", ""},
		{"appdb", ""},
		{"App_DB_2", ""},
		{"d" + strings.Repeat("_", 63), ""}, // exactly 64
		{"user", ""},
		{"root", ""},    // reserved as an account, fine as a schema
		{"sysdata", ""}, // only the exact schema names are refused

		{"", pattern},
		{"d" + strings.Repeat("_", 64), pattern}, // 65
		{"9db", pattern},
		{"a;DROP DATABASE x", pattern},
		{"db name", pattern},
		{"db`x", pattern},
		{"db'x", pattern},
		{"db\x00", pattern},
		{"db-1", pattern},
		{"db.x", pattern},
		{"dbé", pattern},
		{"db\n", pattern},

		{"mysql", system},
		{"MySQL", system},
		{"information_schema", system},
		{"PERFORMANCE_SCHEMA", system},
		{"sys", system},
		{"tmp", system},
		{"innodb", system},

		{"select", reserved},
		{"Group", reserved},
		{"database", reserved},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.name), func(t *testing.T) {
			err := ValidateDatabaseName(tt.name)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("ValidateDatabaseName(%q) = %v, want nil", tt.name, err)
				}
				return
			}
			checkInvalid(t, err, "database name", tt.name, tt.wantReason)
		})
	}
}

// The message format is part of the contract with the CDK app, whose users
// read it in `cdk synth` output.
func TestInvalidErrorMessage(t *testing.T) {
	err := ValidateUserName("dro;p")
	want := `user name "dro;p": must match ^[A-Za-z][A-Za-z0-9_]{0,31}$ (letters, digits, underscore; starts with a letter; at most 32 characters)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	noAllowed := &InvalidError{What: "thing", Value: "x", Reason: "is bad"}
	if got, want := noAllowed.Error(), `thing "x": is bad`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestInvalidErrorShortensLongValues(t *testing.T) {
	for _, value := range []string{
		strings.Repeat("x", 5000),
		strings.Repeat("é", 500), // 2-byte runes: the cut must not split one
	} {
		msg := (&InvalidError{What: "user name", Value: value, Reason: "is bad"}).Error()
		if len(msg) > 200 {
			t.Errorf("message is %d bytes, want it shortened: %.60q...", len(msg), msg)
		}
		if !strings.Contains(msg, strconv.Itoa(len(value))+" bytes") {
			t.Errorf("message %q does not give the value's length %d", msg, len(value))
		}
		if !utf8.ValidString(msg) {
			t.Errorf("message %q is not valid UTF-8", msg)
		}
	}
}

// Every reserved word that fits the name patterns must be refused by both
// validators, in any letter case.
func TestReservedWordsRefused(t *testing.T) {
	if len(reservedWordSet) < 200 {
		t.Fatalf("only %d reserved words loaded; the list looks truncated", len(reservedWordSet))
	}
	for word := range reservedWordSet {
		for _, w := range []string{word, strings.ToLower(word)} {
			if userNameRE.MatchString(w) {
				if err := ValidateUserName(w); err == nil {
					t.Errorf("ValidateUserName(%q) = nil, want reserved-word error", w)
				}
			}
			if err := ValidateDatabaseName(w); err == nil {
				t.Errorf("ValidateDatabaseName(%q) = nil, want reserved-word error", w)
			}
		}
	}
}

func TestIsReservedWord(t *testing.T) {
	tests := []struct {
		word string
		want bool
	}{
		{"SELECT", true},
		{"select", true},
		{"sElEcT", true},
		{"current_user", true},
		{"user", false},
		{"password", false},
		{"selected", false},
		{"", false},
		{"ſelect", false}, // Unicode folds ſ to S; keywords are ASCII only
		{"select\x00", false},
	}
	for _, tt := range tests {
		if got := IsReservedWord(tt.word); got != tt.want {
			t.Errorf("IsReservedWord(%q) = %v, want %v", tt.word, got, tt.want)
		}
	}
}

// The exported lists are documented as sorted, lower case and copies.
func TestExportedListsAreSortedLowerCopies(t *testing.T) {
	lists := map[string]func() []string{
		"ReservedAccounts":        ReservedAccounts,
		"ReservedAccountPrefixes": ReservedAccountPrefixes,
		"SystemSchemas":           SystemSchemas,
	}
	for name, fn := range lists {
		got := fn()
		for i, s := range got {
			if s != strings.ToLower(s) {
				t.Errorf("%s()[%d] = %q is not lower case", name, i, s)
			}
			if i > 0 && got[i-1] >= s {
				t.Errorf("%s() is not sorted: %q before %q", name, got[i-1], s)
			}
		}
		got[0] = "changed"
		if fn()[0] == "changed" {
			t.Errorf("%s() returned the package's own slice", name)
		}
	}
}
