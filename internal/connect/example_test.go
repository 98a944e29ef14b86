package connect_test

import (
	"fmt"
	"strings"

	"github.com/rdsiam/rdsiam/internal/connect"
)

// The arguments rdsiam connect gives each client family: both dial the local
// TLS hop and verify it; the token is in the option file, not here.
func ExampleClient_Args() {
	s := connect.Session{Host: "127.0.0.1", Port: 40123, User: "people_ro", Database: "appdb",
		CAFile: "/tmp/rdsiam-connect-1/hop-ca.pem", DefaultsFile: "/tmp/rdsiam-connect-1/client.cnf"}
	for _, version := range []string{
		"mariadb  Ver 15.1 Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)",
		"mysql  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)",
	} {
		kind, _ := connect.ClassifyVersion(version)
		fmt.Printf("%s:\n  %s\n", kind, strings.Join(connect.Client{Kind: kind}.Args(s, []string{"-e", "SELECT 1"}), " "))
	}
	// Output:
	// MariaDB:
	//   --defaults-extra-file=/tmp/rdsiam-connect-1/client.cnf --protocol=TCP --host=127.0.0.1 --port=40123 --user=people_ro --ssl-ca=/tmp/rdsiam-connect-1/hop-ca.pem --ssl --ssl-verify-server-cert --database=appdb -e SELECT 1
	// Oracle MySQL:
	//   --defaults-extra-file=/tmp/rdsiam-connect-1/client.cnf --protocol=TCP --host=127.0.0.1 --port=40123 --user=people_ro --ssl-ca=/tmp/rdsiam-connect-1/hop-ca.pem --ssl-mode=VERIFY_IDENTITY --enable-cleartext-plugin --database=appdb -e SELECT 1
}
