package mariadb

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/internal/standin"
)

func errNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// TestIAMLogins: the production user SQL runs unchanged, a token
// signed by an allowed principal logs in over TLS, and each refusal is
// recorded with its iam-db-auth-error style reason.
func TestIAMLogins(t *testing.T) {
	srv := startServer(t, Options{})
	db := master(t, srv)
	createIAMUser(t, db)

	ok := open(t, srv, iamUser, token(t, srv, iamUser, allowKeys), true)
	var who, cipher string
	if err := ok.QueryRow("SELECT CURRENT_USER()").Scan(&who); err != nil {
		t.Fatalf("IAM login refused: %v (verifier: %v)", err, srv.LastAuthError())
	}
	if err := ok.QueryRow("SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'").Scan(&cipher); err != nil || cipher == "" {
		t.Errorf("Ssl_cipher %q, %v: the login was not over TLS", cipher, err)
	}
	if who != iamUser+"@%" {
		t.Errorf("CURRENT_USER() = %q", who)
	}
	events := srv.AuthEvents()
	if len(events) != 1 || !events[0].OK || !events[0].TLS || events[0].User != iamUser ||
		!strings.HasSuffix(events[0].Principal, "role/QueryRole") || !strings.HasPrefix(events[0].RemoteAddr, "127.0.0.1:") {
		t.Fatalf("auth events after one good login: %+v", events)
	}

	tamper := standin.TamperSignature
	for _, tc := range []struct {
		name          string
		password      func() string
		tls           bool
		before, after func()
		errNum        uint16
		reason        string // "" = the verifier is never asked
	}{
		{name: "tampered signature", password: func() string { return tamper(token(t, srv, iamUser, allowKeys)) },
			tls: true, errNum: 1045, reason: auroralocal.ReasonInvalidToken},
		{name: "token for another user", password: func() string { return token(t, srv, "reports", allowKeys) },
			tls: true, errNum: 1045, reason: auroralocal.ReasonInvalidToken},
		{name: "principal without rds-db:connect", password: func() string { return token(t, srv, iamUser, denyKeys) },
			tls: true, errNum: 1045, reason: auroralocal.ReasonNotAuthorized},
		{name: "expired token", password: func() string { return token(t, srv, iamUser, allowKeys) },
			before: func() { srv.AdvanceClock(16 * time.Minute) }, after: func() { srv.AdvanceClock(-16 * time.Minute) },
			tls: true, errNum: 1045, reason: auroralocal.ReasonExpiredToken},
		{name: "plain TCP", password: func() string { return token(t, srv, iamUser, allowKeys) },
			tls: false, errNum: 1045, reason: auroralocal.ReasonNotTLS},
		{name: "IAM authentication off (plugin uninstalled)", password: func() string { return token(t, srv, iamUser, allowKeys) },
			before: func() {
				if err := srv.SetIAMAuth(false); err != nil {
					t.Fatal(err)
				}
			},
			after: func() {
				if err := srv.SetIAMAuth(true); err != nil {
					t.Fatal(err)
				}
			},
			tls: true, errNum: 1524},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pw := tc.password()
			if tc.before != nil {
				tc.before()
			}
			if tc.after != nil {
				defer tc.after()
			}
			n := len(srv.AuthEvents())
			err := open(t, srv, iamUser, pw, tc.tls).Ping()
			if errNumber(err) != tc.errNum {
				t.Fatalf("login: %v, want MySQL error %d", err, tc.errNum)
			}
			events := srv.AuthEvents()
			if tc.reason == "" {
				if len(events) != n {
					t.Fatalf("the verifier was asked: %+v", events[n:])
				}
				return
			}
			if len(events) != n+1 {
				t.Fatalf("want one new auth event, got %+v", events[n:])
			}
			if e := events[n]; e.OK || e.Reason() != tc.reason || e.TLS != tc.tls {
				t.Errorf("event %+v: reason %q, want %q, TLS %v", e, e.Reason(), tc.reason, tc.tls)
			}
		})
	}
	// After the cases the good token works again (IAM back on, clock back).
	if err := open(t, srv, iamUser, token(t, srv, iamUser, allowKeys), true).Ping(); err != nil {
		t.Errorf("login after the refusals: %v (%v)", err, srv.LastAuthError())
	}
}

// TestPluginRefusesPlainTCP: with require_secure_transport off, the server
// would let a plain-TCP client in; the plugin still refuses an IAM user
// before asking for the token, while a password user logs in.
func TestPluginRefusesPlainTCP(t *testing.T) {
	srv := startServer(t, Options{Options: auroralocal.Options{RequireSecureTransport: auroralocal.Bool(false)}})
	db := master(t, srv)
	createIAMUser(t, db)
	mustExec(t, db, "CREATE USER 'pw_user'@'%' IDENTIFIED BY 'pw-user-password-1'")
	if err := open(t, srv, "pw_user", "pw-user-password-1", false).Ping(); err != nil {
		t.Fatalf("password user over plain TCP with require_secure_transport=OFF: %v", err)
	}
	err := open(t, srv, iamUser, token(t, srv, iamUser, allowKeys), false).Ping()
	if errNumber(err) != 1045 {
		t.Fatalf("IAM user over plain TCP: %v, want 1045", err)
	}
	events := srv.AuthEvents()
	if len(events) != 1 || events[0].Reason() != auroralocal.ReasonNotTLS || events[0].TLS {
		t.Fatalf("events %+v, want one NotTLS refusal", events)
	}
}

// TestCloseStopsEverything: Close leaves no process, socket or data.
func TestCloseStopsEverything(t *testing.T) {
	RequireInstalled(t)
	srv, err := Start(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	pid, runDir, sockDir := srv.Pid(), srv.runDir, srv.sockDir
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if srv.Running() {
		t.Error("Running after Close")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("mariadbd %d still exists after Close (kill 0: %v)", pid, err)
	}
	for _, d := range []string{runDir, sockDir} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s left behind (%v)", d, err)
		}
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := srv.MasterDB(); err == nil {
		db, _ := srv.MasterDB()
		if db.PingContext(ctx) == nil {
			t.Error("the master still logs in after Close")
		}
		db.Close()
	}
}
