package sqlident

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestNormalizePrivileges(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"SELECT"}, []string{"SELECT"}},
		{[]string{" select ", "Insert"}, []string{"INSERT", "SELECT"}},
		{[]string{"create   temporary\ttables"}, []string{"CREATE TEMPORARY TABLES"}},
		{[]string{"lock\ntables", "LOCK TABLES", "lock tables "}, []string{"LOCK TABLES"}},
		{[]string{"update", "delete", "UPDATE", "select"}, []string{"DELETE", "SELECT", "UPDATE"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, "|"), func(t *testing.T) {
			in := slices.Clone(tt.in)
			got, err := NormalizePrivileges(in)
			if err != nil {
				t.Fatalf("NormalizePrivileges(%q) error: %v", tt.in, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("NormalizePrivileges(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !slices.Equal(in, tt.in) {
				t.Errorf("input modified: %q, was %q", in, tt.in)
			}
		})
	}
}

// Every allowed privilege is accepted in any case and spacing, and comes
// back in its canonical spelling.
func TestNormalizePrivilegesAcceptsEveryAllowed(t *testing.T) {
	allowed := AllowedPrivileges()
	var messy []string
	for i := len(allowed) - 1; i >= 0; i-- {
		messy = append(messy, "  "+strings.ReplaceAll(strings.ToLower(allowed[i]), " ", " \t "))
	}
	got, err := NormalizePrivileges(messy)
	if err != nil {
		t.Fatalf("NormalizePrivileges(%q) error: %v", messy, err)
	}
	if !slices.Equal(got, allowed) {
		t.Errorf("got %q, want %q", got, allowed)
	}
	if !slices.IsSorted(allowed) {
		t.Errorf("AllowedPrivileges() = %q is not sorted", allowed)
	}
	allowed[0] = "SUPER"
	if AllowedPrivileges()[0] == "SUPER" {
		t.Error("AllowedPrivileges() returned the package's own slice")
	}
}

func TestNormalizePrivilegesRejects(t *testing.T) {
	const unknown = "not a database-level privilege"
	tests := []struct {
		in         []string
		badValue   string
		wantWhat   string
		wantReason string
	}{
		{nil, "", "privileges", "at least one"},
		{[]string{}, "", "privileges", "at least one"},
		{[]string{""}, "", "privilege", "is empty"},
		{[]string{"SELECT", "  \t"}, "  \t", "privilege", "is empty"},
		{[]string{"ALL"}, "ALL", "privilege", "every privilege"},
		{[]string{"all privileges"}, "all privileges", "privilege", "every privilege"},
		{[]string{"SELECT", "GRANT OPTION"}, "GRANT OPTION", "privilege", "other accounts"},
		{[]string{"usage"}, "usage", "privilege", "no privileges"},
		{[]string{"SUPER"}, "SUPER", "privilege", "global privilege"},
		{[]string{"file"}, "file", "privilege", "global privilege"},
		{[]string{"PROCESS"}, "PROCESS", "privilege", "global privilege"},
		{[]string{"create user"}, "create user", "privilege", "global privilege"},
		{[]string{"SHOW DATABASES"}, "SHOW DATABASES", "privilege", "global privilege"},
		{[]string{"SYSTEM_VARIABLES_ADMIN"}, "SYSTEM_VARIABLES_ADMIN", "privilege", "global privilege"},
		{[]string{"PROXY"}, "PROXY", "privilege", "another account"},
		{[]string{"FOO"}, "FOO", "privilege", unknown},
		{[]string{"SELECT, INSERT"}, "SELECT, INSERT", "privilege", unknown},
		{[]string{"SELECT;DROP USER x"}, "SELECT;DROP USER x", "privilege", unknown},
		{[]string{"SELECT ON *.*"}, "SELECT ON *.*", "privilege", unknown},
		{[]string{"SELECT\x00"}, "SELECT\x00", "privilege", unknown},
		{[]string{"ſelect"}, "ſelect", "privilege", "ASCII"},
		{[]string{"SELECT\u00a0INSERT"}, "SELECT\u00a0INSERT", "privilege", "ASCII"},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(strings.Join(tt.in, "|")), func(t *testing.T) {
			got, err := NormalizePrivileges(tt.in)
			if got != nil {
				t.Errorf("got %q with the error, want nil", got)
			}
			checkInvalid(t, err, tt.wantWhat, tt.badValue, tt.wantReason)
			if !strings.Contains(err.Error(), "allowed: SELECT") && !strings.Contains(err.Error(), "SELECT, ") {
				t.Errorf("message %q does not list the allowed privileges", err)
			}
		})
	}
}
