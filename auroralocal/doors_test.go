package auroralocal

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// doorConfig is a client config for one of srv's endpoints by host name,
// dialed through srv.Dial.
func doorConfig(srv *Server, host, user, password string) *mysql.Config {
	cfg := clientConfig(srv, user, password, true)
	cfg.Addr = fmt.Sprintf("%s:%d", host, srv.Port())
	cfg.TLS.ServerName = host
	cfg.DialFunc = srv.Dial
	return cfg
}

const proxyRoleARN = "arn:aws:iam::123456789012:role/ProxyRole"

// allowOnly authorizes rds-db:connect on exactly the given resources.
func allowOnly(resources ...string) func(string, string) (bool, error) {
	return func(action, resource string) (bool, error) {
		for _, r := range resources {
			if action == ConnectAction && r == resource {
				return true, nil
			}
		}
		return false, nil
	}
}

func TestProxyEndpointARNs(t *testing.T) {
	proxyResource := "arn:aws:rds-db:us-east-1:123456789012:dbuser:" + DefaultProxyResourceID + "/" + iamUser
	for _, tc := range []struct {
		name string
		// clientMay are the ARNs the client's policy names; proxyMay the
		// proxy role's.
		clientMay, proxyMay []string
		host                string // endpoint dialed and signed for
		signFor             string // "" = host
		want                error  // nil = logs in
	}{
		{"proxy policy through the proxy", []string{proxyResource}, []string{defaultResource}, DefaultProxyHost, "", nil},
		{"cluster-only policy through the proxy", []string{defaultResource}, []string{defaultResource}, DefaultProxyHost, "", ErrNotAuthorized},
		{"proxy-only policy at the cluster", []string{proxyResource}, []string{defaultResource}, "localhost", "", ErrNotAuthorized},
		{"proxy role without the cluster grant", []string{proxyResource}, []string{proxyResource}, DefaultProxyHost, "", ErrProxyRoleNotAuthorized},
		{"token for the cluster sent to the proxy", []string{proxyResource, defaultResource}, []string{defaultResource}, DefaultProxyHost, "localhost", errAny},
		{"token for the proxy sent to the cluster", []string{proxyResource, defaultResource}, []string{defaultResource}, "localhost", DefaultProxyHost, errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			principals := testPrincipals(tc.clientMay...)
			srv := iamServer(t, Options{Principals: principals,
				Proxy: &ProxyOptions{Role: Principal{ARN: proxyRoleARN, Authorize: allowOnly(tc.proxyMay...)}}})
			signFor := tc.signFor
			if signFor == "" {
				signFor = tc.host
			}
			token := buildToken(t, fmt.Sprintf("%s:%d", signFor, srv.Port()), testRegion, iamUser, allowCreds)
			err := connectOnce(t, doorConfig(srv, tc.host, iamUser, token))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("login: %v (server: %v)", err, srv.LastAuthError())
				}
				events := srv.AuthEvents()
				if last := events[len(events)-1]; !last.OK || last.Endpoint != tc.host {
					t.Errorf("last event %+v, want a login through %s", last, tc.host)
				}
				return
			}
			if tc.want == errAny {
				if mysqlErrNumber(err) != ErrNumAccessDenied {
					t.Fatalf("login error %v, want 1045", err)
				}
				return
			}
			assertRefused(t, srv, err, ErrNumAccessDenied, tc.want, token)
		})
	}
}

// errAny stands for "any recorded reason" in table rows.
var errAny = errors.New("any")

func TestReaderEndpoint(t *testing.T) {
	srv := iamServer(t, Options{Reader: &ReaderOptions{}})
	host := srv.ReaderHost()
	token := buildToken(t, srv.ReaderEndpoint(), testRegion, iamUser, allowCreds)
	cfg := doorConfig(srv, host, iamUser, token)
	cfg.DBName = "appdb"
	db := openDB(t, cfg)
	var user string
	if err := db.QueryRow("SELECT CURRENT_USER()").Scan(&user); err != nil {
		t.Fatalf("read through the reader: %v", err)
	}
	if user != iamUser+"@%" {
		t.Errorf("CURRENT_USER() = %q", user)
	}

	// Writes are refused with 1290 even for the master user, plain or
	// prepared, comments first or not; the writer takes them.
	master := openDB(t, doorConfig(srv, host, srv.MasterUser(), srv.MasterPassword()))
	for _, q := range []string{
		"INSERT INTO appdb.items (name) VALUES ('x')",
		"/* c */ delete FROM appdb.items",
		"CREATE DATABASE other",
		"GRANT INSERT ON appdb.* TO app_user@'%'",
	} {
		_, err := master.Exec(q)
		if got := mysqlErrNumber(err); got != ErrNumReadOnly {
			t.Errorf("%s on the reader: %v, want %d", q, err, ErrNumReadOnly)
		}
	}
	if _, err := master.Exec("INSERT INTO appdb.items (name) VALUES (?)", "prepared"); mysqlErrNumber(err) != ErrNumReadOnly {
		t.Errorf("prepared insert on the reader: %v, want %d", err, ErrNumReadOnly)
	}
	mustExec(t, masterDB(t, srv), "INSERT INTO appdb.items (name) VALUES ('on the writer')")
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM items").Scan(&n); err != nil || n != 1 {
		t.Errorf("reader sees %d rows (%v), want the writer's 1", n, err)
	}
}

func TestDoorOptionsRefused(t *testing.T) {
	role := Principal{ARN: proxyRoleARN}
	for _, o := range []Options{
		{Proxy: &ProxyOptions{Role: role, ResourceID: "cluster-ABC"}},
		{Proxy: &ProxyOptions{Role: role, Host: "localhost"}},
		{Proxy: &ProxyOptions{}},
		{Reader: &ReaderOptions{Host: "bad host"}},
		{Proxy: &ProxyOptions{Role: role, Host: "x.localhost"}, Reader: &ReaderOptions{Host: "x.localhost"}},
	} {
		if _, err := o.normalize(); err == nil {
			t.Errorf("normalize(%+v %+v) accepted", o.Proxy, o.Reader)
		}
	}
}

func TestDialUnknownHost(t *testing.T) {
	srv := startServer(t, Options{})
	_, err := srv.Dial(t.Context(), "tcp", fmt.Sprintf("%s:%d", DefaultProxyHost, srv.Port()))
	if err == nil {
		t.Fatal("Dial to a proxy host on a server without a proxy succeeded")
	}
}

func TestFirstWord(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		{"SELECT 1", "SELECT"},
		{"  (select 1)", "SELECT"},
		{"/* a */ insert INTO t VALUES (1)", "INSERT"},
		{"/*x*//*y*/Delete FROM t", "DELETE"},
		{"-- note\nUPDATE t SET a=1", "UPDATE"},
		{"# note\r\ndrop table t", "DROP"},
		{"/* never closed INSERT", ""},
		{"-- only a comment", ""},
		{"", ""},
	} {
		if got := firstWord(tc.q); got != tc.want {
			t.Errorf("firstWord(%q) = %q, want %q", tc.q, got, tc.want)
		}
	}
}
