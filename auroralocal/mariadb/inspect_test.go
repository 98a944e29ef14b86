package mariadb

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseGrant(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"GRANT USAGE ON *.* TO `app_user`@`%` IDENTIFIED VIA AWSAuthenticationPlugin USING 'RDS' REQUIRE SSL", nil},
		{"GRANT SELECT, INSERT ON `appdb`.* TO `app_user`@`%`", []string{"SELECT ON appdb.*", "INSERT ON appdb.*"}},
		{"GRANT SELECT, CREATE ON `app\\_db`.* TO `u`@`%`", []string{`SELECT ON app\_db.*`, `CREATE ON app\_db.*`}},
		{"GRANT ALL PRIVILEGES ON *.* TO `admin`@`%` IDENTIFIED BY PASSWORD '*ABC' WITH GRANT OPTION",
			[]string{"ALL PRIVILEGES ON *.*", "GRANT OPTION ON *.*"}},
		{"GRANT SELECT (`a`, `b`), UPDATE ON `db`.`t` TO `u`@`%`", []string{"SELECT (`a`, `b`) ON db.t", "UPDATE ON db.t"}},
		{"GRANT SELECT ON `we``ird.db`.* TO `u`@`%`", []string{"SELECT ON we`ird.db.*"}},
		{"GRANT `powerful` TO `app_user`@`%`", []string{"ROLE powerful"}},
		{"SET DEFAULT ROLE `powerful` FOR `app_user`@`%`", []string{"DEFAULT ROLE powerful"}},
	} {
		got, err := parseGrant(tc.line)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseGrant(%q) = %q, %v; want %q", tc.line, got, err, tc.want)
		}
	}
	if _, err := parseGrant("REVOKE SELECT ON *.* FROM x"); err == nil {
		t.Error("a line that is not GRANT/SET DEFAULT ROLE parsed without error")
	}
}

func TestRequirement(t *testing.T) {
	missing := fmt.Errorf("%w: missing mariadbd", ErrNotInstalled)
	for _, tc := range []struct {
		installed          error
		ci                 string
		wantSkip, wantFail bool
	}{
		{nil, "", false, false},
		{nil, "true", false, false},
		{missing, "", true, false},
		{missing, "false", true, false},
		{missing, "true", false, true},
	} {
		skip, fail := requirement(tc.installed, tc.ci)
		if (skip != "") != tc.wantSkip || (fail != "") != tc.wantFail {
			t.Errorf("requirement(%v, CI=%q) = skip %q, fail %q", tc.installed, tc.ci, skip, fail)
		}
		if msg := skip + fail; tc.installed != nil && !strings.Contains(msg, "missing mariadbd") {
			t.Errorf("message %q does not say what is missing", msg)
		}
	}
}
