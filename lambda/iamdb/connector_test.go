package iamdb

import (
	"context"
	"crypto/tls"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/go-sql-driver/mysql"

	"github.com/rdsiam/rdsiam/lambda/rdstls"
)

// fakeClock is a settable Config.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// newTestConnector returns a Connector for a fake server that accepts any
// password, with the clock at t0.
func newTestConnector(t *testing.T, accept func(user, password string) bool, change func(*Config)) (*Connector, *fakeMySQL, *fakeClock) {
	t.Helper()
	if accept == nil {
		accept = func(string, string) bool { return true }
	}
	srv, roots := newFakeMySQL(t, accept)
	tlsCfg, err := rdstls.Config("127.0.0.1", roots)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: t0}
	cfg := Config{
		Host:        "127.0.0.1",
		Port:        srv.port(),
		User:        "app_user",
		Database:    "app",
		Region:      "eu-west-1",
		Credentials: testCreds(),
		TLS:         tlsCfg,
		Now:         clock.Now,
	}
	if change != nil {
		change(&cfg)
	}
	conn, err := NewConnector(cfg)
	if err != nil {
		t.Fatalf("NewConnector: %v", err)
	}
	return conn, srv, clock
}

// connectOnce opens and closes one physical connection through c.
func connectOnce(t *testing.T, c *Connector) error {
	t.Helper()
	conn, err := c.Connect(context.Background())
	if err != nil {
		return err
	}
	return conn.Close()
}

func TestConnectorLogsInWithTokenOverTLS(t *testing.T) {
	conn, srv, _ := newTestConnector(t, nil, nil)
	db := conn.OpenDB()
	defer db.Close()
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}

	logins := srv.seen()
	if len(logins) != 1 {
		t.Fatalf("server saw %d logins, want 1", len(logins))
	}
	got := logins[0]
	want, err := BuildToken(context.Background(), "127.0.0.1:"+strconv.Itoa(srv.port()), "eu-west-1", "app_user", testCreds(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if got.password != want {
		t.Errorf("server received password %q, want the IAM token for t0 %q", got.password, want)
	}
	if got.user != "app_user" || got.database != "app" {
		t.Errorf("server saw user %q database %q, want app_user, app", got.user, got.database)
	}
	if got.tlsVersion < tls.VersionTLS12 {
		t.Errorf("login used TLS version %#x, want TLS 1.2 or later", got.tlsVersion)
	}
	if s := conn.Stats(); s != (Stats{Logins: 1, TokensSigned: 1, ConnectAttempts: 1}) {
		t.Errorf("Stats = %+v, want one signed token and one attempt", s)
	}
}

// TestTokenReuse walks a connector through a sequence of connects at
// chosen clock times and checks, on the server side, which token each login
// carried: the cached one, or one freshly signed at that moment.
func TestTokenReuse(t *testing.T) {
	expiring := func(expires time.Time) aws.CredentialsProvider {
		return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey, SessionToken: testSessionToken, CanExpire: true, Expires: expires}, nil
		})
	}
	type step struct {
		at       time.Duration // clock offset from t0 at connect
		signedAt time.Duration // offset the login's token must be signed at
	}
	tests := []struct {
		name   string
		change func(*Config)
		steps  []step
	}{
		{
			name: "default 10m reuse",
			steps: []step{
				{0, 0},
				{5 * time.Minute, 0},
				{10*time.Minute - time.Second, 0},
				{10 * time.Minute, 10 * time.Minute}, // age == TokenReuse: re-sign
				{15 * time.Minute, 10 * time.Minute},
				{21 * time.Minute, 21 * time.Minute},
			},
		},
		{
			name:   "custom 1m reuse",
			change: func(c *Config) { c.TokenReuse = time.Minute },
			steps:  []step{{0, 0}, {59 * time.Second, 0}, {time.Minute, time.Minute}},
		},
		{
			name:  "clock moved backwards",
			steps: []step{{time.Minute, time.Minute}, {0, 0}, {30 * time.Second, 0}},
		},
		{
			name: "credentials expiring in 3m cap reuse at 2m",
			change: func(c *Config) {
				c.Credentials = expiring(t0.Add(3 * time.Minute))
			},
			steps: []step{{0, 0}, {2*time.Minute - time.Second, 0}, {2 * time.Minute, 2 * time.Minute}},
		},
		{
			name: "credentials expiring later do not extend reuse",
			change: func(c *Config) {
				c.Credentials = expiring(t0.Add(time.Hour))
			},
			steps: []step{{0, 0}, {10 * time.Minute, 10 * time.Minute}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, srv, clock := newTestConnector(t, nil, tt.change)
			wantSigned, wantReused := uint64(0), uint64(0)
			lastSigned := time.Duration(-1)
			for i, st := range tt.steps {
				clock.Set(t0.Add(st.at))
				if err := connectOnce(t, conn); err != nil {
					t.Fatalf("step %d (t0+%v): connect: %v", i, st.at, err)
				}
				want, err := BuildToken(context.Background(), conn.src.endpoint, "eu-west-1", "app_user", testCreds(), t0.Add(st.signedAt))
				if err != nil {
					t.Fatal(err)
				}
				logins := srv.seen()
				if got := logins[len(logins)-1].password; got != want {
					t.Errorf("step %d (t0+%v): login token is not the one signed at t0+%v", i, st.at, st.signedAt)
				}
				if st.signedAt == lastSigned {
					wantReused++
				} else {
					wantSigned++
				}
				lastSigned = st.signedAt
			}
			s := conn.Stats()
			if s.TokensSigned != wantSigned || s.TokensReused != wantReused {
				t.Errorf("Stats = %+v, want TokensSigned %d, TokensReused %d", s, wantSigned, wantReused)
			}
			if s.ConnectAttempts != uint64(len(tt.steps)) || s.ConnectFailures != 0 {
				t.Errorf("Stats = %+v, want %d attempts and no failures", s, len(tt.steps))
			}
		})
	}
}

func TestConcurrentConnectsSignOnce(t *testing.T) {
	conn, _, _ := newTestConnector(t, nil, nil)
	const n = 16
	var wg sync.WaitGroup
	tokens := make([]string, n)
	for i := range n {
		wg.Go(func() {
			cfg := mysql.NewConfig()
			if err := conn.beforeConnect(context.Background(), cfg); err != nil {
				t.Errorf("beforeConnect: %v", err)
			}
			tokens[i] = cfg.Passwd
		})
	}
	wg.Wait()
	for i, tok := range tokens {
		if tok == "" || tok != tokens[0] {
			t.Fatalf("connect %d got a different or empty token", i)
		}
	}
	if s := conn.Stats(); s.TokensSigned != 1 || s.TokensReused != n-1 {
		t.Errorf("Stats = %+v, want 1 signed and %d reused", s, n-1)
	}
}

func TestConnectErrors(t *testing.T) {
	failingCreds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("credential source unavailable")
	})
	refuse := func(string, string) bool { return false }
	tests := []struct {
		name       string
		accept     func(user, password string) bool
		refuseWith uint16 // MySQL error for refused logins; 0: 1045
		change     func(*Config)
		wantErr    []string
		wantMySQL  uint16 // MySQL error number the error must wrap; 0: none
		logins     int    // logins the server must have seen
		tlsFails   int    // TLS handshakes the server must have seen fail
	}{
		{
			name:   "access denied, retrying off",
			accept: refuse,
			change: func(c *Config) { c.AccessDeniedRetryFor = NoAccessDeniedRetry },
			wantErr: []string{"iamdb: connect to 127.0.0.1:", `as "app_user"`, "Access denied",
				"refused the IAM token", "rds-db:connect on arn:<partition>:rds-db:eu-west-1:<account>:dbuser:<cluster resource id>/app_user",
				`the user "app_user" does not exist`, "signed for 127.0.0.1:"},
			wantMySQL: 1045,
			logins:    1,
		},
		{
			name:       "IAM authentication off (1524) is not retried",
			accept:     refuse,
			refuseWith: 1524,
			wantErr:    []string{"refused with error 1524", "IAM database authentication is turned off", "not retried"},
			wantMySQL:  1524,
			logins:     1,
		},
		{
			name:       "TLS required (3159) is not retried",
			accept:     refuse,
			refuseWith: 3159,
			wantErr:    []string{"requires TLS", "not retried"},
			wantMySQL:  3159,
			logins:     1,
		},
		{
			name:       "no privilege on the database (1044) is not retried",
			accept:     refuse,
			refuseWith: 1044,
			wantErr:    []string{`no privilege on database "app"`},
			wantMySQL:  1044,
			logins:     1,
		},
		{
			name:    "credentials unavailable: no dial",
			change:  func(c *Config) { c.Credentials = failingCreds },
			wantErr: []string{"retrieve AWS credentials: credential source unavailable"},
			logins:  0,
		},
		{
			name: "server certificate not trusted",
			change: func(c *Config) {
				other, _ := newTestPKI(t, nil)
				c.TLS = &tls.Config{RootCAs: other, ServerName: "127.0.0.1"}
			},
			wantErr:  []string{"certificate signed by unknown authority", "did not verify", "not retried"},
			logins:   0,
			tlsFails: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, srv, _ := newTestConnector(t, tt.accept, func(c *Config) {
				// Only 1045 may ever be retried.
				c.Sleep = func(context.Context, time.Duration) error {
					t.Error("Connect waited to retry an error that must not be retried")
					return nil
				}
				if tt.change != nil {
					tt.change(c)
				}
			})
			srv.refuseLoginsWith(tt.refuseWith)
			err := connectOnce(t, conn)
			if err == nil {
				t.Fatal("connect succeeded, want an error")
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			var me *mysql.MySQLError
			if tt.wantMySQL != 0 && (!errors.As(err, &me) || me.Number != tt.wantMySQL) {
				t.Errorf("error %v does not wrap MySQL error %d", err, tt.wantMySQL)
			}
			srv.stop() // let the server finish recording this attempt
			logins := srv.seen()
			if len(logins) != tt.logins {
				t.Fatalf("server saw %d logins, want %d", len(logins), tt.logins)
			}
			srv.mu.Lock()
			tlsFails := srv.tlsFailures
			srv.mu.Unlock()
			if tlsFails != tt.tlsFails {
				t.Errorf("server saw %d failed TLS handshakes, want %d", tlsFails, tt.tlsFails)
			}
			for _, l := range logins {
				if l.password != "" && strings.Contains(err.Error(), l.password) {
					t.Errorf("error contains the token")
				}
			}
			if s := conn.Stats(); s.ConnectAttempts != 1 || s.ConnectFailures != 1 || s.AccessDeniedRetries != 0 {
				t.Errorf("Stats = %+v, want 1 attempt, 1 failure, no retries", s)
			}
			var ce *ConnectError
			if !errors.As(err, &ce) || ce.Attempts != 1 {
				t.Errorf("error %#v is not a *ConnectError with 1 attempt", err)
			}
		})
	}
}

// TestNoPasswordInDSN checks that the connector's driver configuration, the
// only place a DSN could be formatted from, never holds a password, even
// after connections have logged in with tokens.
func TestNoPasswordInDSN(t *testing.T) {
	conn, srv, _ := newTestConnector(t, nil, nil)
	for range 2 {
		if err := connectOnce(t, conn); err != nil {
			t.Fatalf("connect: %v", err)
		}
	}
	token := srv.seen()[0].password
	if token == "" {
		t.Fatal("server saw no token; the test proves nothing")
	}
	dsn := conn.base.FormatDSN()
	wantPrefix := "app_user@tcp(127.0.0.1:" + strconv.Itoa(srv.port()) + ")/app?"
	if !strings.HasPrefix(dsn, wantPrefix) {
		t.Errorf("DSN %q does not start with %q (user without password)", dsn, wantPrefix)
	}
	if strings.Contains(dsn, token) || strings.Contains(dsn, "X-Amz") || conn.base.Passwd != "" {
		t.Errorf("driver configuration holds a password: DSN %q", dsn)
	}
	for _, want := range []string{"allowCleartextPasswords=true", "parseTime=true", "rejectReadOnly=true", "interpolateParams=true"} {
		if !strings.Contains(dsn, want) {
			t.Errorf("DSN %q lacks %s", dsn, want)
		}
	}
	if strings.Contains(dsn, "allowFallbackToPlaintext") {
		t.Errorf("DSN %q allows falling back to plaintext", dsn)
	}
}

func TestNewConnectorTLS(t *testing.T) {
	t.Run("nil TLS uses the RDS bundle for Host", func(t *testing.T) {
		cfg := validConfig()
		conn, err := NewConnector(cfg)
		if err != nil {
			t.Fatal(err)
		}
		roots, err := rdstls.RootCAs()
		if err != nil {
			t.Fatal(err)
		}
		if conn.base.TLS != nil {
			t.Errorf("the bundle was loaded at init; it belongs to the first connection")
		}
		got, err := conn.tlsConfig()
		if err != nil {
			t.Fatal(err)
		}
		if got == nil || got.ServerName != cfg.Host || got.RootCAs != roots || got.InsecureSkipVerify || got.MinVersion < tls.VersionTLS12 {
			t.Fatalf("TLS = %+v, want RDS roots, ServerName %q, verification on, TLS 1.2+", got, cfg.Host)
		}
	})
	t.Run("caller TLS is copied", func(t *testing.T) {
		cfg := validConfig()
		cfg.TLS = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
		conn, err := NewConnector(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLS.InsecureSkipVerify = true
		got, err := conn.tlsConfig()
		if err != nil {
			t.Fatal(err)
		}
		if got.InsecureSkipVerify {
			t.Fatal("changing the caller's tls.Config after NewConnector disabled verification")
		}
	})
}

func TestNewConnectorRejectsInvalidConfig(t *testing.T) {
	cfg := validConfig()
	cfg.Port = 70000
	conn, err := NewConnector(cfg)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "Port" {
		t.Fatalf("NewConnector error = %v, want a *FieldError for Port", err)
	}
	if conn != nil {
		t.Error("NewConnector returned a connector with an error")
	}
	if db, err := Open(cfg); err == nil || db != nil {
		t.Errorf("Open = %v, %v; want nil and an error", db, err)
	}
}

func TestOpenAppliesPoolLimits(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*Config)
		wantOpen int
	}{
		{"defaults", func(*Config) {}, DefaultMaxOpenConns},
		{"custom", func(c *Config) { c.MaxOpenConns = 7 }, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.change(&cfg)
			db, err := Open(cfg)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			s := db.Stats()
			if s.MaxOpenConnections != tt.wantOpen {
				t.Errorf("MaxOpenConnections = %d, want %d", s.MaxOpenConnections, tt.wantOpen)
			}
			if s.OpenConnections != 0 {
				t.Errorf("Open connected eagerly: %d open connections", s.OpenConnections)
			}
		})
	}
}
