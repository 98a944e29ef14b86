package sqlident

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestValidateTableName(t *testing.T) {
	const (
		pattern  = "must match"
		reserved = "reserved word"
	)
	tests := []struct {
		name       string
		wantReason string // "" means valid
	}{
		{"items", ""},
		{"Order_Lines_2", ""},
		{"t" + strings.Repeat("_", 63), ""}, // exactly 64
		{"user", ""},                        // keyword, not reserved
		{"mysql", ""},                       // a table may be called so; it lives in the user's database
		{"", pattern},
		{"t" + strings.Repeat("_", 64), pattern}, // 65
		{"appdb.items", pattern},
		{"`items`", pattern},
		{"items`; DROP TABLE x; --", pattern},
		{"it%", pattern}, // not a pattern in a table grant, and not allowed anyway
		{"*", pattern},
		{"1t", pattern},
		{"_t", pattern},
		{"t t", pattern},
		{"ítems", pattern},
		{"items\x00", pattern},
		{"select", reserved},
		{"Order", reserved},
		{"TABLE", reserved},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.name), func(t *testing.T) {
			err := ValidateTableName(tt.name)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("ValidateTableName(%q) = %v, want nil", tt.name, err)
				}
				return
			}
			checkInvalid(t, err, "table name", tt.name, tt.wantReason)
		})
	}
}

func TestNormalizeTablePrivileges(t *testing.T) {
	tests := []struct {
		in         []string
		want       []string
		wantReason string
	}{
		{in: []string{"select"}, want: []string{"SELECT"}},
		{in: []string{" show  view", "Insert", "SELECT", "select"}, want: []string{"INSERT", "SELECT", "SHOW VIEW"}},
		{in: AllowedTablePrivileges(), want: AllowedTablePrivileges()},
		{in: nil, wantReason: "at least one"},
		{in: []string{"EXECUTE"}, wantReason: "database-level privilege"},
		{in: []string{"lock tables"}, wantReason: "database-level privilege"},
		{in: []string{"CREATE ROUTINE"}, wantReason: "database-level privilege"},
		{in: []string{"CREATE TEMPORARY TABLES"}, wantReason: "database-level privilege"},
		{in: []string{"EVENT"}, wantReason: "database-level privilege"},
		{in: []string{"SELECT", "GRANT OPTION"}, wantReason: "pass its privileges on"},
		{in: []string{"ALL"}, wantReason: "every privilege"},
		{in: []string{"all privileges"}, wantReason: "every privilege"},
		{in: []string{"SUPER"}, wantReason: "global privilege"},
		{in: []string{"SELECT;DROP"}, wantReason: "not a table-level privilege"},
		{in: []string{" "}, wantReason: "is empty"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, "|"), func(t *testing.T) {
			got, err := NormalizeTablePrivileges(tt.in)
			if tt.wantReason == "" {
				if err != nil || !slices.Equal(got, tt.want) {
					t.Fatalf("NormalizeTablePrivileges(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			var inv *InvalidError
			if !errors.As(err, &inv) || !strings.Contains(inv.Reason, tt.wantReason) {
				t.Fatalf("NormalizeTablePrivileges(%q) error = %v, want *InvalidError with %q", tt.in, err, tt.wantReason)
			}
			if !strings.Contains(err.Error(), "SHOW VIEW") {
				t.Errorf("error %q does not list the allowed privileges", err)
			}
		})
	}
}

func TestNormalizeTableGrants(t *testing.T) {
	many := make([]TableGrant, MaxTableGrants+1)
	for i := range many {
		many[i] = TableGrant{Table: "t" + strconv.Itoa(i), Privileges: []string{"SELECT"}}
	}
	tests := []struct {
		name    string
		in      []TableGrant
		want    []TableGrant
		wantErr []string // substrings of the error; nil means valid
	}{
		{name: "none", in: nil, want: nil},
		{name: "sorted and normalized",
			in:   []TableGrant{{"t2", []string{"insert", "select"}}, {"t1", []string{"select"}}},
			want: []TableGrant{{"t1", []string{"SELECT"}}, {"t2", []string{"INSERT", "SELECT"}}}},
		{name: "bad name", in: []TableGrant{{"appdb.t1", []string{"SELECT"}}}, wantErr: []string{`"appdb.t1"`, "not appdb.items"}},
		{name: "bad privilege names the table", in: []TableGrant{{"t1", []string{"EXECUTE"}}},
			wantErr: []string{"table t1", `"EXECUTE"`, "database-level privilege"}},
		{name: "no privileges", in: []TableGrant{{"t1", nil}}, wantErr: []string{"table t1", "at least one"}},
		{name: "twice", in: []TableGrant{{"t1", []string{"SELECT"}}, {"t1", []string{"INSERT"}}}, wantErr: []string{`"t1"`, "named twice"}},
		{name: "twice in another case", in: []TableGrant{{"Items", []string{"SELECT"}}, {"items", []string{"INSERT"}}},
			wantErr: []string{`"items"`, "named twice (as Items)"}},
		{name: "every bad entry", in: []TableGrant{{"", []string{"SELECT"}}, {"t1", []string{"ALL"}}},
			wantErr: []string{`table name ""`, "table t1", `"ALL"`}},
		{name: "too many", in: many, wantErr: []string{"more than 100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeTableGrants(tt.in)
			if tt.wantErr == nil {
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("NormalizeTableGrants = %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("NormalizeTableGrants(%+v) = %+v, want an error", tt.in, got)
			}
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Errorf("error %v wraps no *InvalidError", err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
