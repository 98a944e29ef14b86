package test

import (
	"database/sql"
	"testing"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/auroralocal/cfntemplate"
	"github.com/rdsiam/rdsiam/auroralocal/fromstack"
	"github.com/rdsiam/rdsiam/auroralocal/mariadb"
)

// The end-to-end tests run the real handlers against each local engine —
// the auroralocal stand-in and a real MariaDB server — which authorize IAM
// logins with the policies of the synthesized default stack. Each test is
// written once and runs as one subtest per engine:
//
//	func TestE2EThing(t *testing.T) {
//		forEachEngine(t, func(t *testing.T, l *fromstack.Local) {
//			db := masterDB(t, l) // the master's TLS pool, on either engine
//			...
//		})
//	}
//
// Where an engine answers differently from Aurora MySQL 3, engineQuirks
// says so (the table of differences is in auroralocal's package doc).

// forEachEngine deploys the default stack on each engine in turn and runs f
// on it as a subtest named after the engine. MariaDB's subtest skips with a
// one-line reason when MariaDB is not installed, and fails instead when the
// environment variable CI is "true".
func forEachEngine(t *testing.T, f func(t *testing.T, l *fromstack.Local)) {
	t.Helper()
	forEachEngineOn(t, tmpl(t, "default").Template, f)
}

// forEachEngineOn is forEachEngine for any synthesized template tp.
func forEachEngineOn(t *testing.T, tp *cfntemplate.Template, f func(t *testing.T, l *fromstack.Local)) {
	t.Helper()
	for _, engine := range fromstack.Engines() {
		t.Run(engine, func(t *testing.T) {
			if engine == fromstack.EngineMariaDB {
				mariadb.RequireInstalled(t)
			}
			f(t, startLocal(t, tp, fromstack.Options{Engine: engine, Dir: t.TempDir()}))
		})
	}
}

// startLocal starts the engine opts names for a synthesized template, with
// the template's roles and policies, and closes it when t ends: the one way
// this package runs a template locally.
func startLocal(t *testing.T, tp *cfntemplate.Template, opts fromstack.Options) *fromstack.Local {
	t.Helper()
	s, err := fromstack.FromTemplate(tp)
	if err != nil {
		t.Fatal(err)
	}
	l, err := fromstack.Start(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Server.Close(); err != nil {
			t.Errorf("closing %s: %v", l.Server.Name(), err)
		}
	})
	return l
}

// masterDB is the master's pool over TLS, as an operator would log in;
// closed when t ends.
func masterDB(t *testing.T, l *fromstack.Local) *sql.DB {
	t.Helper()
	db, err := l.MasterDB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// engineQuirks are the answers in which an engine differs from Aurora
// MySQL 3 that the suite meets.
type engineQuirks struct {
	// versionPrefix starts VERSION(): Aurora MySQL 3 reports 8.0.x.
	versionPrefix string
	// plainTCPError is the error of an IAM login over plain TCP with
	// require_secure_transport on: Aurora sends 3159; MariaDB 10.11 runs
	// authentication first, and the plugin refuses with 1045.
	plainTCPError uint16
	// recordsServerRefusals: the engine's auth log also holds refusals the
	// server decides without an IAM check (password logins, IAM auth off).
	// The stand-in decides every login in Go; MariaDB's verifier sees only
	// what the plugin asks.
	recordsServerRefusals bool
}

var quirks = map[string]engineQuirks{
	fromstack.EngineStandIn: {versionPrefix: "8.0.", plainTCPError: auroralocal.ErrNumSecureTransportRequired, recordsServerRefusals: true},
	fromstack.EngineMariaDB: {versionPrefix: "10.11.", plainTCPError: auroralocal.ErrNumAccessDenied},
}

func quirksOf(l *fromstack.Local) engineQuirks { return quirks[l.Server.Name()] }

func mustSetIAMAuth(t *testing.T, srv fromstack.Engine, enabled bool) {
	t.Helper()
	if err := srv.SetIAMAuth(enabled); err != nil {
		t.Fatal(err)
	}
}
