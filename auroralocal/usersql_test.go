package auroralocal

import (
	"reflect"
	"strings"
	"testing"
)

// TestUserSQLAccepted runs the production user statements
// unmodified, in order, as the master user, and checks after each one what
// Users(), Grants() and SHOW GRANTS report.
func TestUserSQLAccepted(t *testing.T) {
	srv := startServer(t, Options{})
	db := masterDB(t, srv)

	appUser := func() (User, bool) {
		users, err := srv.Users()
		if err != nil {
			t.Fatalf("Users: %v", err)
		}
		for _, u := range users {
			if u.Name == iamUser && u.Host == "%" {
				return u, true
			}
		}
		return User{}, false
	}
	wantUser := func(want User) func(t *testing.T) {
		return func(t *testing.T) {
			got, ok := appUser()
			if !ok || got != want {
				t.Errorf("Users() has app_user = %+v (present %t), want %+v", got, ok, want)
			}
		}
	}
	wantGrants := func(want ...string) func(t *testing.T) {
		return func(t *testing.T) {
			got, err := srv.Grants(iamUser, "%")
			if err != nil {
				t.Fatalf("Grants: %v", err)
			}
			if want == nil {
				want = []string{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Grants = %q, want %q", got, want)
			}
		}
	}
	iamPlain := User{Name: iamUser, Host: "%", Plugin: IAMPluginName}
	iamSSL := User{Name: iamUser, Host: "%", Plugin: IAMPluginName, RequireSSL: true}

	steps := []struct {
		sql   string
		check func(t *testing.T)
	}{
		{"CREATE DATABASE IF NOT EXISTS `appdb`", func(t *testing.T) {
			found := false
			for _, name := range queryStrings(t, db, "SHOW DATABASES") {
				found = found || name == "appdb"
			}
			if !found {
				t.Error("appdb not listed by SHOW DATABASES")
			}
		}},
		{"CREATE USER IF NOT EXISTS `app_user`@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'", wantUser(iamPlain)},
		{"CREATE USER IF NOT EXISTS `app_user`@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'", wantUser(iamPlain)},
		{"ALTER USER `app_user`@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'", wantUser(iamPlain)},
		{"ALTER USER `app_user`@'%' REQUIRE SSL", wantUser(iamSSL)},
		// Re-running the IDENTIFIED WITH form must not lose REQUIRE SSL.
		{"ALTER USER `app_user`@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'", wantUser(iamSSL)},
		{"GRANT SELECT, INSERT ON `appdb`.* TO `app_user`@'%'", wantGrants("INSERT ON appdb.*", "SELECT ON appdb.*")},
		{"SHOW GRANTS FOR `app_user`@'%'", func(t *testing.T) {
			got := strings.Join(queryStrings(t, db, "SHOW GRANTS FOR `app_user`@'%'"), "\n")
			if !strings.Contains(got, "GRANT SELECT, INSERT ON `appdb`.* TO `app_user`@`%`") {
				t.Errorf("SHOW GRANTS =\n%s\nwant the SELECT, INSERT grant on appdb", got)
			}
		}},
		{"REVOKE INSERT ON `appdb`.* FROM `app_user`@'%'", wantGrants("SELECT ON appdb.*")},
		{"REVOKE ALL PRIVILEGES, GRANT OPTION FROM `app_user`@'%'", wantGrants()},
		{"DROP USER IF EXISTS `app_user`@'%'", func(t *testing.T) {
			if u, ok := appUser(); ok {
				t.Errorf("app_user still present after DROP USER: %+v", u)
			}
			if _, err := srv.Grants(iamUser, "%"); err == nil || !strings.Contains(err.Error(), "'app_user'@'%'") {
				t.Errorf("Grants of a dropped user: err = %v, want an error naming the account", err)
			}
		}},
		{"DROP USER IF EXISTS `app_user`@'%'", nil},
		{"CREATE TABLE IF NOT EXISTS `appdb`.`items` (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, `name` VARCHAR(200) NOT NULL, `created_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)", func(t *testing.T) {
			mustExec(t, db, "INSERT INTO `appdb`.`items` (`name`) VALUES ('first')")
			var id int64
			var name, created string
			if err := db.QueryRow("SELECT `id`, `name`, `created_at` FROM `appdb`.`items`").Scan(&id, &name, &created); err != nil {
				t.Fatal(err)
			}
			if id != 1 || name != "first" || created == "" {
				t.Errorf("row = (%d, %q, %q), want (1, first, a timestamp)", id, name, created)
			}
		}},
		{"CREATE TABLE IF NOT EXISTS `appdb`.`items` (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, `name` VARCHAR(200) NOT NULL, `created_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)", nil},
		// A re-created user starts without REQUIRE SSL, as in MySQL.
		{"CREATE USER IF NOT EXISTS `app_user`@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'", wantUser(iamPlain)},
	}
	for i, step := range steps {
		if _, err := db.Exec(step.sql); err != nil {
			t.Fatalf("step %d: %s: %v", i, step.sql, err)
		}
		if step.check != nil {
			t.Run(strings.SplitN(step.sql, " (", 2)[0], step.check)
		}
	}
}

// TestUsersListsMaster checks the master account as Users reports it.
func TestUsersListsMaster(t *testing.T) {
	srv := startServer(t, Options{MasterUser: "root_admin"})
	users, err := srv.Users()
	if err != nil {
		t.Fatal(err)
	}
	want := []User{{Name: "root_admin", Host: "%", Plugin: "mysql_native_password"}}
	if !reflect.DeepEqual(users, want) {
		t.Errorf("Users = %+v, want %+v", users, want)
	}
	grants, err := srv.Grants("root_admin", "%")
	if err != nil {
		t.Fatal(err)
	}
	if !containsString(grants, "CREATE USER ON *.*") || !containsString(grants, "SELECT ON *.*") {
		t.Errorf("master grants = %q, want global CREATE USER and SELECT", grants)
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
