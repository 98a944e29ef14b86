package mariadb

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rdsiam/rdsiam/internal/modroot"
)

// Programs the lane runs, from Debian's mariadb-server package.
const (
	serverProgram    = "mariadbd"
	installDBProgram = "mariadb-install-db"
	// pluginHeader is what libmariadbd-dev installs for server plugins.
	pluginHeader = "/usr/include/mariadb/server/mysql/plugin_auth.h"
	// PluginFile is the plugin's file name in the plugin directory.
	PluginFile = "aws_auth.so"
	// pluginTarget is the Makefile target that builds the plugin.
	pluginTarget = "mariadb-plugin"
)

// ErrNotInstalled is wrapped by Installed when MariaDB's server or plugin
// headers are missing.
var ErrNotInstalled = errors.New("mariadb: not installed (apt-get install mariadb-server mariadb-client libmariadbd-dev)")

// Installed reports whether this machine has what the lane needs: the
// server programs on PATH (or in /usr/sbin, where Debian puts mariadbd),
// gcc, make and the plugin headers. The error wraps ErrNotInstalled and
// names what is missing.
func Installed() error {
	var missing []string
	for _, p := range []string{serverProgram, installDBProgram, "gcc", "make"} {
		if _, err := lookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if _, err := os.Stat(pluginHeader); err != nil {
		missing = append(missing, pluginHeader)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s", ErrNotInstalled, strings.Join(missing, ", "))
	}
	return nil
}

// RequireInstalled skips t with a one-line reason when MariaDB is not
// installed, unless the environment variable CI is "true": in CI a missing
// engine is a failure, never a silent skip.
func RequireInstalled(t testing.TB) {
	t.Helper()
	switch skip, fail := requirement(Installed(), os.Getenv("CI")); {
	case fail != "":
		t.Fatal(fail)
	case skip != "":
		t.Skip(skip)
	}
}

// requirement decides RequireInstalled: nothing when installed, else a
// skip reason, or under CI=true a failure.
func requirement(installed error, ci string) (skip, fail string) {
	switch {
	case installed == nil:
		return "", ""
	case ci == "true":
		return "", fmt.Sprintf("%v; CI=true, so the MariaDB lane must run (.ci/run installs it)", installed)
	default:
		return installed.Error(), ""
	}
}

// lookPath finds a program on PATH or in /usr/sbin (not on a normal user's
// PATH on Debian).
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := filepath.Join("/usr/sbin", name)
	if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
		return p, nil
	}
	return "", fmt.Errorf("%s not found on PATH or in /usr/sbin", name)
}

// buildDir is <module root>/.build/mariadb: the plugin, the template data
// directory and (by default) each server's data directory live there.
func buildDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := modroot.Find(wd)
	if err != nil {
		return "", fmt.Errorf("mariadb: %w", err)
	}
	return filepath.Join(root, ".build", "mariadb"), nil
}

var pluginOnce struct {
	sync.Mutex
	dir string
}

// ensurePlugin runs `make mariadb-plugin` at the module root (make rebuilds
// the plugin when the C source is newer) once per process, and returns the
// plugin directory.
func ensurePlugin() (string, error) {
	pluginOnce.Lock()
	defer pluginOnce.Unlock()
	if pluginOnce.dir != "" {
		return pluginOnce.dir, nil
	}
	dir, err := buildDir()
	if err != nil {
		return "", err
	}
	root := filepath.Dir(filepath.Dir(dir))
	cmd := exec.Command("make", "-s", "-C", root, pluginTarget)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("mariadb: building the plugin (make %s): %w\n%s", pluginTarget, err, out.String())
	}
	pdir := filepath.Join(dir, "plugin")
	if _, err := os.Stat(filepath.Join(pdir, PluginFile)); err != nil {
		return "", fmt.Errorf("mariadb: make %s did not produce %s: %w", pluginTarget, PluginFile, err)
	}
	pluginOnce.dir = pdir
	return pdir, nil
}

// serverVersion is mariadbd --version's first line, keying the template.
func serverVersion(mariadbd string) (string, error) {
	out, err := exec.Command(mariadbd, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("mariadb: %s --version: %w", mariadbd, err)
	}
	fields := strings.Fields(string(out))
	for i, f := range fields {
		if f == "Ver" && i+1 < len(fields) {
			return fields[i+1], nil
		}
	}
	return "", fmt.Errorf("mariadb: cannot read the version from %q", strings.TrimSpace(string(out)))
}

// runAsRootFlag is --user=root when this process is root: mariadbd refuses
// to run as root otherwise. CI runs as root.
func runAsRootFlag() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

// templateDir returns a data directory initialized by mariadb-install-db
// for this server version, creating it on first use (about 5 s). Servers
// start from a copy, which takes a fraction of that. It is built under a
// temporary name and renamed, so concurrent test processes never see half a
// template.
func templateDir(mariadbd string) (string, error) {
	dir, err := buildDir()
	if err != nil {
		return "", err
	}
	version, err := serverVersion(mariadbd)
	if err != nil {
		return "", err
	}
	tmpl := filepath.Join(dir, "template-"+version)
	if _, err := os.Stat(filepath.Join(tmpl, "mysql")); err == nil {
		return tmpl, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(dir, "template-building-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	installDB, err := lookPath(installDBProgram)
	if err != nil {
		return "", err
	}
	data := filepath.Join(work, "data")
	args := append([]string{"--no-defaults", "--datadir=" + data,
		// root@localhost gets an empty password; Start sets a random one
		// before the server listens to anything but its private socket.
		"--auth-root-authentication-method=normal", "--skip-test-db",
		// A small redo log keeps the per-server copy small (the default is 96 MiB).
		"--innodb-log-file-size=8M"}, runAsRootFlag()...)
	cmd := exec.Command(installDB, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("mariadb: %s: %w\n%s", installDBProgram, err, out.String())
	}
	if err := os.Rename(data, tmpl); err != nil {
		if _, statErr := os.Stat(filepath.Join(tmpl, "mysql")); statErr == nil {
			return tmpl, nil // another process won the race
		}
		return "", fmt.Errorf("mariadb: installing template %s: %w", tmpl, err)
	}
	return tmpl, nil
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o750)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o640)
	})
}
