package connect

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestClassifyVersion(t *testing.T) {
	for _, tc := range []struct {
		out  string
		want ClientKind
	}{
		{"mariadb  Ver 15.1 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64) using  EditLine wrapper\n", MariaDB},
		{"mysql  Ver 15.1 Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64) using  EditLine wrapper", MariaDB},
		{"mariadb from 11.4.2-MariaDB, client 15.2 for Linux (x86_64) using  EditLine wrapper", MariaDB},
		{"mysql  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)", OracleMySQL},
		{"mysql  Ver 8.4.0 for macos14 on arm64 (Homebrew)", OracleMySQL},
		{"psql (PostgreSQL) 16.2", ""},
		{"", ""},
	} {
		got, err := ClassifyVersion(tc.out)
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("ClassifyVersion(%q) = %q, %v; want %q", tc.out, got, err, tc.want)
		}
	}
}

// TestClientArgs: each family gets its own TLS and cleartext options, the
// option file comes first, and the token is nowhere on the command line.
func TestClientArgs(t *testing.T) {
	s := Session{Host: "127.0.0.1", Port: 40123, User: "people_ro", Database: "appdb", CAFile: "/tmp/x/hop-ca.pem", DefaultsFile: "/tmp/x/client.cnf"}
	for _, tc := range []struct {
		kind      ClientKind
		want, not []string
	}{
		{MariaDB, []string{"--ssl", "--ssl-verify-server-cert"}, []string{"--ssl-mode=VERIFY_IDENTITY", "--enable-cleartext-plugin"}},
		{OracleMySQL, []string{"--ssl-mode=VERIFY_IDENTITY", "--enable-cleartext-plugin"}, []string{"--ssl", "--ssl-verify-server-cert"}},
	} {
		args := Client{Kind: tc.kind}.Args(s, []string{"-e", "SELECT 1"})
		if args[0] != "--defaults-extra-file=/tmp/x/client.cnf" {
			t.Errorf("%s: first argument %q, want the option file", tc.kind, args[0])
		}
		for _, w := range append(tc.want, "--protocol=TCP", "--host=127.0.0.1", "--port=40123", "--user=people_ro", "--ssl-ca=/tmp/x/hop-ca.pem", "--database=appdb") {
			if !slices.Contains(args, w) {
				t.Errorf("%s: args %q lack %q", tc.kind, args, w)
			}
		}
		for _, n := range tc.not {
			if slices.Contains(args, n) {
				t.Errorf("%s: args %q hold the other family's %q", tc.kind, args, n)
			}
		}
		if got := args[len(args)-2:]; got[0] != "-e" || got[1] != "SELECT 1" {
			t.Errorf("%s: the person's arguments are not last: %q", tc.kind, args)
		}
		for _, a := range args {
			if strings.HasPrefix(a, "--password") || strings.HasPrefix(a, "-p") {
				t.Errorf("%s: a password on the command line: %q", tc.kind, a)
			}
		}
	}
}

func TestDefaultsFile(t *testing.T) {
	dir := t.TempDir()
	token := "db.cluster-abc.eu-west-1.rds.amazonaws.com:3306?Action=connect&DBUser=people_ro&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101%2Feu-west-1%2Frds-db%2Faws4_request&X-Amz-Signature=abc123"
	path, err := writeDefaultsFile(dir, token)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if want := "[client]\npassword=\"" + token + "\"\n"; string(b) != want {
		t.Errorf("content %q, want %q", b, want)
	}
	for _, bad := range []string{`tok"en`, "tok\nen", `tok\en`, "tok en", ""} {
		if _, err := writeDefaultsFile(dir, bad); err == nil || strings.Contains(err.Error(), bad+"x") {
			t.Errorf("token %q accepted", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("error repeats the token: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "client.cnf")); err != nil {
		t.Fatal(err)
	}
}
