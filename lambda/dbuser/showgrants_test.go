package dbuser

import (
	"slices"
	"testing"

	usersql "github.com/rdsiam/rdsiam/bootstrap-sql"
)

// SHOW GRANTS as MySQL 8.0 (Aurora MySQL 3), MariaDB 10.11 and the stand-in
// print it, compared with the spec SELECT, INSERT on app_db.
func TestFindings(t *testing.T) {
	spec := usersql.Spec{User: "app_user", Database: "app_db", Privileges: []string{"INSERT", "SELECT"}}
	iam := accountState{exists: true, plugin: iamPlugin, sslType: "ANY"}
	exact := []string{"GRANT USAGE ON *.* TO `app_user`@`%`", "GRANT SELECT, INSERT ON `app\\_db`.* TO `app_user`@`%`"}
	tests := []struct {
		name  string
		acct  accountState
		lines []string
		fold  bool
		want  []string
	}{
		{"MySQL exact", iam, exact, false, nil},
		{"MariaDB exact", iam, []string{
			"GRANT USAGE ON *.* TO `app_user`@`%` IDENTIFIED VIA AWSAuthenticationPlugin USING 'RDS' REQUIRE SSL",
			"GRANT SELECT, INSERT ON `app\\_db`.* TO `app_user`@`%`"}, false, nil},
		{"unescaped wildcard grant", iam, []string{"GRANT USAGE ON *.* TO `app_user`@`%`", "GRANT SELECT, INSERT ON `app_db`.* TO `app_user`@`%`"}, false,
			[]string{"SELECT on `app_db`.*", "INSERT on `app_db`.*", "missing INSERT on `app\\_db`.*", "missing SELECT on `app\\_db`.*"}},
		{"MySQL roles", iam, append(slices.Clone(exact), "GRANT `admin`@`%`,`dba`@`localhost` TO `app_user`@`%`"), false,
			[]string{"role `admin`@'%'", "role `dba`@'localhost'"}},
		{"MariaDB role and default role", iam, append(slices.Clone(exact), "GRANT `admin` TO `app_user`@`%`", "SET DEFAULT ROLE `admin` FOR `app_user`@`%`"), false,
			[]string{"role `admin`", "a default role (SET DEFAULT ROLE `admin` FOR `app_user`@`%`)"}},
		{"global privileges and grant option", iam, []string{
			"GRANT SELECT, CREATE USER ON *.* TO `app_user`@`%`",
			"GRANT SELECT, INSERT ON `app\\_db`.* TO `app_user`@`%` WITH GRANT OPTION",
			"GRANT BACKUP_ADMIN,SYSTEM_USER ON *.* TO `app_user`@`%`"}, false,
			[]string{"SELECT on *.*", "CREATE USER on *.*", "GRANT OPTION on `app\\_db`.*", "BACKUP_ADMIN on *.*", "SYSTEM_USER on *.*"}},
		{"table, column and routine grants", iam, append(slices.Clone(exact),
			"GRANT DELETE ON `app\\_db`.`items` TO `app_user`@`%`",
			"GRANT SELECT (`name`, `id`) ON `other`.`t` TO `app_user`@`%`",
			"GRANT EXECUTE ON PROCEDURE `app\\_db`.`p` TO `app_user`@`%`"), false,
			[]string{"DELETE on `app\\_db`.`items`", "SELECT ( `name` , `id` ) on `other`.`t`", "EXECUTE on PROCEDURE `app\\_db`.`p`"}},
		{"partial revoke only narrows", iam, append(slices.Clone(exact), "REVOKE INSERT ON `mysql`.* FROM `app_user`@`%`"), false, nil},
		{"case folded server", iam, []string{"GRANT SELECT, INSERT ON `APP\\_DB`.* TO `app_user`@`%`"}, true, nil},
		{"case sensitive server", iam, []string{"GRANT SELECT, INSERT ON `APP\\_DB`.* TO `app_user`@`%`"}, false,
			[]string{"SELECT on `APP\\_DB`.*", "INSERT on `APP\\_DB`.*", "missing INSERT on `app\\_db`.*", "missing SELECT on `app\\_db`.*"}},
		{"password plugin, no TLS", accountState{exists: true, plugin: "mysql_native_password"}, exact, false,
			[]string{`authentication plugin "mysql_native_password", not AWSAuthenticationPlugin`, `REQUIRE SSL is not set (ssl_type "")`}},
		{"unknown line", iam, append(slices.Clone(exact), "GRANT PROXY ON"), false,
			[]string{`unrecognised grant line "GRANT PROXY ON"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := readBack{account: tt.acct}
			for _, l := range tt.lines {
				g, err := parseGrantLine(l)
				if err != nil {
					rb.unknown = append(rb.unknown, err.Error())
					continue
				}
				rb.lines = append(rb.lines, g)
			}
			got := rb.findings(spec, server{foldNames: tt.fold})
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
