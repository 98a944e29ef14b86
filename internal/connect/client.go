package connect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ClientKind is the family of a command-line client: they name their TLS
// and cleartext options differently.
type ClientKind string

// Client families.
const (
	// MariaDB is MariaDB's mariadb/mysql (Debian's mariadb-client): --ssl,
	// --ssl-ca, --ssl-verify-server-cert; it sends mysql_clear_password
	// without a flag (its --enable-cleartext-plugin is a no-op kept for
	// compatibility).
	MariaDB ClientKind = "MariaDB"
	// OracleMySQL is Oracle's mysql: --ssl-mode=VERIFY_IDENTITY, --ssl-ca,
	// and --enable-cleartext-plugin, without which it refuses to send the
	// token as a cleartext password.
	OracleMySQL ClientKind = "Oracle MySQL"
)

// Client is a client program and its family.
type Client struct {
	Path    string
	Kind    ClientKind
	Version string // the first line of --version
}

// clientNames are looked up on PATH in this order: "mariadb" is only ever
// MariaDB's; "mysql" may be either.
var clientNames = []string{"mariadb", "mysql"}

var oracleVersion = regexp.MustCompile(`\bVer \d+\.\d+\.\d+`)

// ClassifyVersion tells the family from `<client> --version` output:
//
//	mariadb  Ver 15.1 Distrib 10.11.6-MariaDB, for debian-linux-gnu …
//	mysql  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)
func ClassifyVersion(out string) (ClientKind, error) {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	switch {
	case strings.Contains(line, "MariaDB"):
		return MariaDB, nil
	case oracleVersion.MatchString(line) || strings.Contains(line, "MySQL"):
		return OracleMySQL, nil
	}
	return "", fmt.Errorf("connect: cannot tell the client's family from its --version output %q; want MariaDB's or Oracle MySQL's client", line)
}

// DetectClient finds the client: path if given (a name on PATH or a file),
// else mariadb, else mysql; and runs it with --version to learn its family.
func DetectClient(ctx context.Context, path string) (Client, error) {
	candidates := clientNames
	if path != "" {
		candidates = []string{path}
	}
	var tried []string
	for _, name := range candidates {
		p, err := exec.LookPath(name)
		if err != nil {
			tried = append(tried, name)
			continue
		}
		out, err := exec.CommandContext(ctx, p, "--version").CombinedOutput()
		if err != nil {
			return Client{}, fmt.Errorf("connect: %s --version: %w (%s)", p, err, strings.TrimSpace(string(out)))
		}
		kind, err := ClassifyVersion(string(out))
		if err != nil {
			return Client{}, err
		}
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return Client{Path: p, Kind: kind, Version: line}, nil
	}
	return Client{}, fmt.Errorf("%w: tried %s on PATH; install one (Debian/Ubuntu: apt-get install mariadb-client) or pass --client, or use --print for a GUI tool",
		ErrNoClient, strings.Join(tried, ", "))
}

// Session is where and as whom the client logs in.
type Session struct {
	Host     string
	Port     int
	User     string
	Database string // "" for none
	// CAFile verifies the server's certificate for Host.
	CAFile string
	// DefaultsFile holds the password (the token), mode 0600: a file
	// rather than --password, which any local user can read in ps, or
	// MYSQL_PWD, which leaks into the environment of child processes.
	DefaultsFile string
}

// Args are the client's arguments for s, followed by extra (the person's own,
// after --). --defaults-extra-file must come first: both clients only
// accept it there. --protocol=TCP keeps "localhost" from meaning the Unix
// socket.
func (c Client) Args(s Session, extra []string) []string {
	args := []string{
		"--defaults-extra-file=" + s.DefaultsFile,
		"--protocol=TCP", "--host=" + s.Host, "--port=" + strconv.Itoa(s.Port), "--user=" + s.User,
		"--ssl-ca=" + s.CAFile,
	}
	switch c.Kind {
	case OracleMySQL:
		args = append(args, "--ssl-mode=VERIFY_IDENTITY", "--enable-cleartext-plugin")
	default:
		args = append(args, "--ssl", "--ssl-verify-server-cert")
	}
	if s.Database != "" {
		args = append(args, "--database="+s.Database)
	}
	return append(args, extra...)
}

// tokenChars is what an RDS token is made of (a presigned URL without its
// scheme); anything else could break out of the quoted option value.
var tokenChars = regexp.MustCompile(`^[A-Za-z0-9.:/?=&%_~+-]+$`)

// writeDefaultsFile writes the client option file holding the token, mode
// 0600, in dir (which the caller created 0700 and removes afterwards).
func writeDefaultsFile(dir, token string) (string, error) {
	if !tokenChars.MatchString(token) {
		// Never print the token; say only what is wrong with it.
		return "", errors.New("connect: the signed token holds characters an option file cannot carry safely")
	}
	path := filepath.Join(dir, "client.cnf")
	content := "[client]\npassword=\"" + token + "\"\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return "", fmt.Errorf("connect: write the client option file: %w", err)
	}
	return path, nil
}
