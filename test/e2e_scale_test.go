package test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/auroralocal/cfntemplate"
	"github.com/rdsiam/rdsiam/auroralocal/fromstack"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
	"github.com/rdsiam/rdsiam/lambda/rdstls"
)

// End-to-end runs of the scale-out variants: the stand-in plays the RDS
// Proxy and the reader endpoint, with the policies of the synthesized
// proxy and readers stacks; the real user provider and query handlers run
// against them.

// startStandIn starts the stand-in for a synthesized template (raw JSON),
// closed when t ends.
func startStandIn(t *testing.T, raw []byte) *fromstack.Local {
	t.Helper()
	tp, err := cfntemplate.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return startLocal(t, tp, fromstack.Options{})
}

// deployScaled starts the stand-in for variant and creates its user with
// the real user provider handler (which always goes to the cluster endpoint
// with the master secret, never through the proxy).
func deployScaled(t *testing.T, variant string) *fromstack.Local {
	t.Helper()
	l := startStandIn(t, tmpl(t, variant).Raw)
	props, err := l.UserProperties(l.Stack.UserIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := l.ProviderHandler(nil).Handle(ctx, l.UserEvent("Create", l.Stack.UserIDs[0], "", props, nil)); err != nil {
		t.Fatalf("create user: %v (server: %v)", err, l.Server.LastAuthError())
	}
	if err := l.CreateSampleTables(ctx); err != nil {
		t.Fatal(err)
	}
	return l
}

// scaledConfigs are the query function's writer and (if DB_READER_ENDPOINT
// is set) reader connector configurations from the template's environment,
// signing with keys and dialing the stand-in's endpoints by host name.
func scaledConfigs(t *testing.T, l *fromstack.Local, keys aws.Credentials) (writer iamdb.Config, reader *iamdb.Config) {
	t.Helper()
	writer, err := l.QueryConfig(keys)
	if err != nil {
		t.Fatal(err)
	}
	writer.Dial = l.Dial
	env, err := l.Stack.FunctionEnv(l.Env, l.Server.Port())
	if err != nil {
		t.Fatal(err)
	}
	rc, ok, err := queryfn.ReaderConfigFromEnv(writer, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return writer, nil
	}
	if rc.TLS, err = rdstls.Config(rc.Host, l.Server.CAPool()); err != nil {
		t.Fatal(err)
	}
	return writer, &rc
}

func openPool(t *testing.T, cfg iamdb.Config) *sql.DB {
	t.Helper()
	db, err := iamdb.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// scaledHandler is the query handler as the container builds it: one pool
// on DB_ENDPOINT, one on DB_READER_ENDPOINT when set.
func scaledHandler(t *testing.T, l *fromstack.Local, keys aws.Credentials) *queryfn.Handler {
	t.Helper()
	w, r := scaledConfigs(t, l, keys)
	var readDB *sql.DB
	if r != nil {
		readDB = openPool(t, *r)
	}
	return queryfn.NewWithReader(openPool(t, w), readDB)
}

func TestE2EProxy(t *testing.T) {
	l := deployScaled(t, "proxy")
	w, r := scaledConfigs(t, l, l.QueryKeys)
	if w.Host != fromstack.LocalProxyHost || r != nil {
		t.Fatalf("the proxy stack's function connects to %q (reader %v); want the proxy %q and no reader", w.Host, r, fromstack.LocalProxyHost)
	}
	h := scaledHandler(t, l, l.QueryKeys)
	resp, err := invoke(t, h, `{"action":"whoami"}`)
	if err != nil {
		t.Fatalf("whoami through the proxy: %v (server: %v)", err, l.Server.LastAuthError())
	}
	if resp.User != "app_user@%" || resp.TLSCipher == "" || resp.Endpoint != queryfn.EndpointWriter {
		t.Errorf("whoami = %s", asJSON(resp))
	}
	if _, err := invoke(t, h, `{"action":"add_item","params":{"name":"via proxy"}}`); err != nil {
		t.Fatalf("add_item through the proxy: %v", err)
	}
	if resp, err := invoke(t, h, `{"action":"list_items","params":{"limit":5}}`); err != nil || len(resp.Items) != 1 {
		t.Fatalf("list_items through the proxy = %s, %v", asJSON(resp), err)
	}

	// Refusals, each one login: the query role's policy names the proxy
	// only, so the cluster endpoint refuses it; the user provider role has no
	// rds-db:connect at all, so the proxy refuses it.
	for _, tc := range []struct {
		name string
		host string
		keys aws.Credentials
	}{
		{"query role at the cluster endpoint", l.Server.Host(), l.QueryKeys},
		{"user provider role through the proxy", l.ProxyHost(), l.ProviderKeys},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := oneIAMLogin(t, l, tc.host, tc.keys)
			if n := mysqlNumber(err); n != auroralocal.ErrNumAccessDenied {
				t.Fatalf("login: %v, want 1045", err)
			}
			if !errors.Is(l.Server.LastAuthError(), auroralocal.ErrNotAuthorized) {
				t.Errorf("server reason %v, want %v", l.Server.LastAuthError(), auroralocal.ErrNotAuthorized)
			}
		})
	}
}

func TestE2EReaders(t *testing.T) {
	l := deployScaled(t, "readers")
	w, r := scaledConfigs(t, l, l.QueryKeys)
	if r == nil || r.Host != fromstack.LocalReaderHost || w.Host != l.Server.Host() {
		t.Fatalf("the readers stack's function: writer %q, reader %+v; want %q and %q", w.Host, r, l.Server.Host(), fromstack.LocalReaderHost)
	}
	h := scaledHandler(t, l, l.QueryKeys)
	resp, err := invoke(t, h, `{"action":"whoami"}`)
	if err != nil {
		t.Fatalf("whoami: %v (server: %v)", err, l.Server.LastAuthError())
	}
	if resp.User != "app_user@%" || resp.Endpoint != queryfn.EndpointReader {
		t.Errorf("whoami = %s; want app_user answered by the reader", asJSON(resp))
	}
	if _, err := invoke(t, h, `{"action":"add_item","params":{"name":"to the writer"}}`); err != nil {
		t.Fatalf("add_item (writer): %v", err)
	}
	if resp, err := invoke(t, h, `{"action":"count_items"}`); err != nil || resp.Count == nil || *resp.Count != 1 {
		t.Fatalf("count_items (reader) = %s, %v", asJSON(resp), err)
	}

	// The reader refuses writes: 1290 to a plain client, and to iamdb
	// (RejectReadOnly, as after a failover) a bad connection, so a write
	// sent to the wrong pool can never succeed.
	token := signToken(t, l, l.ReaderHost(), l.QueryKeys)
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = "app_user", token, "appdb"
	cfg.Net, cfg.Addr = "tcp", fmt.Sprintf("%s:%d", l.ReaderHost(), l.Server.Port())
	cfg.DialFunc = l.Dial
	cfg.AllowCleartextPasswords = true
	cfg.TLS, err = rdstls.Config(l.ReaderHost(), l.Server.CAPool())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain := sql.OpenDB(conn)
	defer plain.Close()
	if _, err := plain.Exec("INSERT INTO items (name) VALUES ('x')"); mysqlNumber(err) != auroralocal.ErrNumReadOnly {
		t.Errorf("insert on the reader: %v, want %d", err, auroralocal.ErrNumReadOnly)
	}
	if _, err := openPool(t, *r).Exec("INSERT INTO items (name) VALUES ('x')"); !errors.Is(err, driver.ErrBadConn) {
		t.Errorf("insert on the reader through iamdb: %v, want driver.ErrBadConn", err)
	}
}

func TestE2EProxyAndReaders(t *testing.T) {
	l := deployScaled(t, "proxy-readers")
	h := scaledHandler(t, l, l.QueryKeys)
	if _, err := invoke(t, h, `{"action":"add_item","params":{"name":"through the proxy"}}`); err != nil {
		t.Fatalf("add_item through the proxy: %v (server: %v)", err, l.Server.LastAuthError())
	}
	resp, err := invoke(t, h, `{"action":"whoami"}`)
	if err != nil || resp.Endpoint != queryfn.EndpointReader {
		t.Fatalf("whoami = %s, %v; want the reader", asJSON(resp), err)
	}
	endpoints := map[string]bool{}
	for _, e := range l.Server.AuthEvents() {
		if e.OK && strings.Contains(e.Principal, l.Stack.QueryRoleID) {
			endpoints[e.Endpoint] = true
		}
	}
	if !endpoints[fromstack.LocalProxyHost] || !endpoints[fromstack.LocalReaderHost] || len(endpoints) != 2 {
		t.Errorf("query-role logins came through %v; want the proxy (writes) and the reader endpoint (reads) only", endpoints)
	}
}

// signToken signs an IAM token for host:Port() with keys.
func signToken(t *testing.T, l *fromstack.Local, host string, keys aws.Credentials) string {
	t.Helper()
	token, err := auth.BuildAuthToken(context.Background(), fmt.Sprintf("%s:%d", host, l.Server.Port()), l.Server.Region(), "app_user",
		credentials.NewStaticCredentialsProvider(keys.AccessKeyID, keys.SecretAccessKey, keys.SessionToken))
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// oneIAMLogin logs in once as app_user at host with a token signed for it.
func oneIAMLogin(t *testing.T, l *fromstack.Local, host string, keys aws.Credentials) error {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = "app_user", signToken(t, l, host, keys)
	cfg.Net, cfg.Addr = "tcp", fmt.Sprintf("%s:%d", host, l.Server.Port())
	cfg.DialFunc = l.Dial
	cfg.AllowCleartextPasswords = true
	var err error
	if cfg.TLS, err = rdstls.Config(host, l.Server.CAPool()); err != nil {
		t.Fatal(err)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := conn.Connect(context.Background())
	if err == nil {
		c.Close()
	}
	return err
}

func mysqlNumber(err error) uint16 {
	if me, ok := errors.AsType[*mysql.MySQLError](err); ok {
		return me.Number
	}
	return 0
}

// TestE2EProxyRoleWithoutGrant: the same proxy stack with the proxy role's
// rds-db:connect policy removed from the template. The function's token is
// fine, but the proxy cannot log in to the cluster as the user, so the
// login is refused: the proxy role's grant is what carries the user's path
// end to end, and the stand-in checks it from the template.
func TestE2EProxyRoleWithoutGrant(t *testing.T) {
	var raw map[string]any
	if err := json.Unmarshal(tmpl(t, "proxy").Raw, &raw); err != nil {
		t.Fatal(err)
	}
	resources := raw["Resources"].(map[string]any)
	removed := 0
	for id, r := range resources {
		if strings.HasPrefix(id, "ProxyRoleDefaultPolicy") && r.(map[string]any)["Type"] == "AWS::IAM::Policy" {
			delete(resources, id)
			removed++
		}
	}
	if removed != 1 {
		t.Fatalf("removed %d proxy role policies, want 1", removed)
	}
	data, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	l := startStandIn(t, data)
	props, err := l.UserProperties(l.Stack.UserIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.ProviderHandler(nil).Handle(context.Background(), l.UserEvent("Create", l.Stack.UserIDs[0], "", props, nil)); err != nil {
		t.Fatal(err)
	}
	err = oneIAMLogin(t, l, l.ProxyHost(), l.QueryKeys)
	if mysqlNumber(err) != auroralocal.ErrNumAccessDenied || !errors.Is(l.Server.LastAuthError(), auroralocal.ErrProxyRoleNotAuthorized) {
		t.Fatalf("login through a proxy whose role may not connect: %v (server: %v), want 1045 for %v",
			err, l.Server.LastAuthError(), auroralocal.ErrProxyRoleNotAuthorized)
	}
}
