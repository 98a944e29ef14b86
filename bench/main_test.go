package bench

import (
	"os"
	"testing"
)

// TestMain removes what the synth benchmarks leave for the whole process.
func TestMain(m *testing.M) {
	code := m.Run()
	if dir := synthOutDir.Load(); dir != nil && *dir != "" {
		os.RemoveAll(*dir)
	}
	os.Exit(code)
}
