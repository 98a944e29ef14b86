package main

import (
	"errors"
	"strings"
	"testing"
)

func TestClientInstructionsPutTheInstalledClientFirst(t *testing.T) {
	const (
		mariaVersion  = "mariadb from 11.4.2-MariaDB, client 15.2 for Linux (x86_64)"
		debianMySQL   = "mysql  Ver 15.1 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)"
		oracleVersion = "mysql  Ver 8.4.3 for macos14 on arm64 (Homebrew)"
	)
	for _, tc := range []struct {
		name      string
		onPath    map[string]string // program -> --version output
		firstLine string            // prefix of the first printed command
		installed int               // lines marked "installed here"
	}{
		{"Debian: mariadb and a MariaDB mysql", map[string]string{"mariadb": mariaVersion, "mysql": debianMySQL}, "mariadb ", 1},
		{"only a MariaDB mysql", map[string]string{"mysql": debianMySQL}, "mysql --protocol=TCP", 1},
		{"Oracle mysql (Homebrew)", map[string]string{"mysql": oracleVersion}, "mysql --protocol=TCP", 1},
		{"both kinds", map[string]string{"mariadb": mariaVersion, "mysql": oracleVersion}, "mariadb ", 2},
		{"none", map[string]string{}, "mariadb ", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			look := func(name string) (string, error) {
				if _, ok := tc.onPath[name]; ok {
					return "/usr/bin/" + name, nil
				}
				return "", errors.New("not found")
			}
			version := func(path string) string { return tc.onPath[strings.TrimPrefix(path, "/usr/bin/")] }
			out := clientInstructions(installedClients(look, version), "localhost", 33061, "app_user", ".build/local/ca.pem")
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("want one MariaDB and one Oracle line, got:\n%s", out)
			}
			if first := strings.TrimSpace(lines[0]); !strings.HasPrefix(first, tc.firstLine) {
				t.Errorf("first command %q, want it to start %q", first, tc.firstLine)
			}
			if n := strings.Count(out, "installed here"); n != tc.installed {
				t.Errorf("%d lines marked installed, want %d:\n%s", n, tc.installed, out)
			}
			for _, l := range lines {
				maria := strings.Contains(l, "# MariaDB client")
				if strings.Contains(l, "--ssl-mode") == maria {
					t.Errorf("MariaDB's client must not get --ssl-mode, Oracle's must: %s", l)
				}
				if strings.Contains(l, "--ssl-verify-server-cert") != maria {
					t.Errorf("verify flag on the wrong client: %s", l)
				}
				for _, want := range []string{"--protocol=TCP", "-h localhost -P 33061", "-u app_user", "--ssl-ca=.build/local/ca.pem", `--password="$TOKEN"`} {
					if !strings.Contains(l, want) {
						t.Errorf("%q lacks %q", l, want)
					}
				}
			}
		})
	}
}
