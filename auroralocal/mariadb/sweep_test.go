package mariadb

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestSweepDead: what a killed server left is removed at the next Start;
// a live server's folders are not touched.
func TestSweepDead(t *testing.T) {
	base := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	leftover := func(name string, pid int) (run, sock string) {
		run = filepath.Join(base, name)
		sock, err := os.MkdirTemp("", "rdsiam-mdb-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(sock) })
		for file, body := range map[string]string{"mariadbd.pid": strconv.Itoa(pid) + "\n", sockDirFile: sock} {
			if err := os.MkdirAll(run, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(run, file), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return run, sock
	}
	deadRun, deadSock := leftover("server-dead", dead.Process.Pid)
	liveRun, liveSock := leftover("server-live", os.Getpid())
	sweepDead(base)
	for _, d := range []string{deadRun, deadSock} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s of a dead server was not removed (%v)", d, err)
		}
	}
	for _, d := range []string{liveRun, liveSock} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s of a live server was removed: %v", d, err)
		}
	}
}
