package main

import (
	"fmt"
	"os/exec"
	"strings"
)

// The two command-line clients differ in their TLS flags: MariaDB's (also
// installed as `mysql` on Debian and Ubuntu) does not know --ssl-mode and
// refuses to start with it; Oracle's has no --ssl-verify-server-cert. Both
// get --protocol=TCP: Oracle's client given -h localhost otherwise talks to
// the local Unix socket and ignores -P, i.e. to some other server or none.
type client struct {
	// name is the program as found on PATH.
	name string
	// mariadb is true for MariaDB's client, whatever its name.
	mariadb bool
}

// installedClients returns the clients on PATH, the first one a user would
// type first: mariadb, then mysql (which may be MariaDB's too).
func installedClients(lookPath func(string) (string, error), version func(path string) string) []client {
	var out []client
	for _, name := range []string{"mariadb", "mysql"} {
		path, err := lookPath(name)
		if err != nil {
			continue
		}
		out = append(out, client{name: name, mariadb: strings.Contains(version(path), "MariaDB")})
	}
	return out
}

// hostVersion runs path --version; "" when it fails.
func hostVersion(path string) string {
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// loginCommand is the command line that logs in with $TOKEN.
func loginCommand(c client, host string, port int, user, ca string) string {
	tls := "--ssl-mode=VERIFY_IDENTITY --enable-cleartext-plugin"
	if c.mariadb {
		tls = "--ssl-verify-server-cert"
	}
	return fmt.Sprintf(`%s --protocol=TCP -h %s -P %d -u %s --ssl-ca=%s %s --password="$TOKEN"`, c.name, host, port, user, ca, tls)
}

// clientInstructions is what -serve prints after the token line: the
// installed client's command first, then the other kind, marked as such.
func clientInstructions(clients []client, host string, port int, user, ca string) string {
	var b strings.Builder
	haveMaria, haveOracle := false, false
	for _, c := range clients {
		if (c.mariadb && haveMaria) || (!c.mariadb && haveOracle) {
			continue
		}
		kind := "Oracle MySQL client"
		if c.mariadb {
			kind = "MariaDB client"
			haveMaria = true
		} else {
			haveOracle = true
		}
		fmt.Fprintf(&b, "  %s   # %s, installed here\n", loginCommand(c, host, port, user, ca), kind)
	}
	if !haveMaria {
		fmt.Fprintf(&b, "  %s   # MariaDB client (not found on PATH)\n", loginCommand(client{name: "mariadb", mariadb: true}, host, port, user, ca))
	}
	if !haveOracle {
		fmt.Fprintf(&b, "  %s   # Oracle MySQL client (not found on PATH)\n", loginCommand(client{name: "mysql"}, host, port, user, ca))
	}
	return b.String()
}

// tokenHostNote explains why the token names localhost although the server
// listens on 127.0.0.1.
const tokenHostNote = `  # The token is signed for the endpoint name and port ("%[2]s:%[1]d"), as a token for
  # Aurora is signed for the cluster's DNS name: one signed for 127.0.0.1:%[1]d is refused
  # (1045) like a token for another cluster. The server listens on 127.0.0.1 and its
  # certificate covers both names, so -h 127.0.0.1 also works with a token for %[2]s.
`
