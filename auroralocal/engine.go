package auroralocal

import (
	"errors"
	"fmt"
	"io"
	"sync"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	vtlog "github.com/dolthub/vitess/go/vt/log"
	"github.com/sirupsen/logrus"
)

// engineVersion is the MySQL version VERSION() and @@version report before
// the "-auroralocal" postfix. Aurora MySQL 3.08 reports 8.0.39.
const engineVersion = "8.0.39"

var processSetupOnce sync.Once

// setupProcessGlobals quiets GMS (logrus) and vitess (std log) logging and
// sets the global "version" system variable. Both libraries keep this state
// in process-wide globals, so it is done once per process; auroralocal is
// test-only, so silencing them process-wide is acceptable and documented.
func setupProcessGlobals() {
	processSetupOnce.Do(func() {
		logrus.SetOutput(io.Discard)
		logrus.SetLevel(logrus.PanicLevel)
		discard := func(...any) {}
		discardf := func(string, ...any) {}
		vtlog.Info, vtlog.Warning, vtlog.Error = discard, discard, discard
		vtlog.Infof, vtlog.Warningf, vtlog.Errorf = discardf, discardf, discardf
		if sql.SystemVariables != nil {
			// Failure only leaves GMS's default version; not fatal.
			_ = sql.SystemVariables.AssignValues(map[string]any{"version": engineVersion})
			// GMS compares database names without regard to case: say so,
			// as a server with lower_case_table_names=1 does.
			_ = sql.SystemVariables.AssignValues(map[string]any{"lower_case_table_names": int64(1)})
		}
		reportRequireSSL()
	})
}

// reportRequireSSL makes mysql.user's ssl_type column say 'ANY' for an
// account with REQUIRE SSL, as MySQL does. GMS keeps no TLS requirement and
// fills the column with its default (”); the stand-in keeps the flag in the
// account's attributes (requireSSL), and this wraps GMS's row conversion,
// process-wide, to show it. Only reads of mysql.user see the column; the
// flag itself is enforced at login.
func reportRequireSSL() {
	tbl, ok, err := mysql_db.CreateEmptyMySQLDb().GetTableInsensitive(nil, "user")
	if err != nil || !ok {
		return
	}
	col := tbl.Schema().IndexOfColName("ssl_type")
	if col < 0 {
		return
	}
	toRow := mysql_db.UserOps.ToRow
	mysql_db.UserOps.ToRow = func(ctx *sql.Context, u *mysql_db.User) (sql.Row, error) {
		row, err := toRow(ctx, u)
		if err == nil && requireSSL(u) && col < len(row) {
			row[col] = uint16(2) // the enum ('', 'ANY', 'X509', 'SPECIFIED') is 1-based: 2 is 'ANY'
		}
		return row, err
	}
}

// iamPluginStub registers AWSAuthenticationPlugin with GMS so that
// CREATE/ALTER USER ... IDENTIFIED WITH AWSAuthenticationPlugin is accepted.
// GMS would call it only from its own clear-text auth method, which this
// server replaces, so it always refuses.
type iamPluginStub struct{}

func (iamPluginStub) Authenticate(*mysql_db.MySQLDb, string, *mysql_db.User, string) (bool, error) {
	return false, errors.New("AWSAuthenticationPlugin logins are verified by the auroralocal IAM auth method")
}

// newEngine builds an in-memory GMS engine with user accounts enabled and the
// master user as a superuser on any host.
func newEngine(masterUser, masterPassword string) (*sqle.Engine, *memory.DbProvider, *mysql_db.MySQLDb, error) {
	setupProcessGlobals()
	pro := memory.NewDBProvider()
	engine := sqle.New(analyzer.NewDefault(pro), &sqle.Config{VersionPostfix: "auroralocal"})

	db := engine.Analyzer.Catalog.MySQLDb
	if db == nil {
		return nil, nil, nil, fmt.Errorf("auroralocal: GMS engine has no mysql database")
	}
	// Without a persister GMS dereferences nil on CREATE USER.
	db.SetPersister(&mysql_db.NoopPersister{})
	db.SetPlugins(map[string]mysql_db.PlaintextAuthPlugin{IAMPluginName: iamPluginStub{}})

	ed := db.Editor()
	db.AddSuperUser(ed, masterUser, "%", masterPassword)
	ed.Close()
	if !db.Enabled() {
		return nil, nil, nil, fmt.Errorf("auroralocal: GMS user accounts did not enable after adding master user %q", masterUser)
	}
	return engine, pro, db, nil
}
