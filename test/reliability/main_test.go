package reliability

import (
	"io"
	"log"
	"os"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestMain silences go-sql-driver/mysql's own log lines ("closing bad idle
// connection: EOF" and the like), which these tests provoke on purpose by
// the hundred; the tests check the errors themselves.
func TestMain(m *testing.M) {
	if err := mysql.SetLogger(log.New(io.Discard, "", 0)); err != nil {
		log.Fatal(err)
	}
	os.Exit(m.Run())
}
