// Package standin is the one harness that runs the real Lambda code
// (lambda/dbuser, lambda/queryfn, lambda/iamdb) against a local engine: the
// fake Secrets Manager (Secrets), test access keys, the custom-resource
// events and properties CloudFormation would send, the query function's
// configuration from its environment, and starting the stand-in for a
// test. test/reliability, bench and auroralocal/fromstack (the e2e tests'
// and rdsiam-local's runner for a synthesized stack) all build on it, so
// the way the handlers are wired to an engine is written once.
//
// It is internal: a harness, never imported by a Lambda.
package standin

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/lambda/dbuser"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
	"github.com/rdsiam/rdsiam/lambda/rdstls"
	"github.com/rdsiam/rdsiam/lambda/userprops"
)

// Engine is what the harness needs of a running engine; *auroralocal.Server
// and fromstack.Engine (the stand-in or MariaDB) have it.
type Engine interface {
	// Addr is 127.0.0.1:port to dial; Host the name tokens are signed for
	// and the certificate is valid for.
	Addr() string
	Host() string
	Port() int
	Region() string
	MasterUser() string
	// MasterPassword is the master's password. Never log it.
	MasterPassword() string
	// CAPool trusts only the engine's throw-away CA.
	CAPool() *x509.CertPool
}

// Master is e's master login as the cluster's admin secret holds it.
func Master(e Engine) dbuser.MasterSecret {
	return dbuser.MasterSecret{Username: e.MasterUser(), Password: e.MasterPassword()}
}

// Secrets plays Secrets Manager for dbuser.Handler: it is the one fake
// dbuser.SecretSource outside lambda/dbuser (whose own tests keep a canned
// one, since importing this package from there would be an import cycle).
type Secrets struct {
	// Master is what every known secret holds.
	Master dbuser.MasterSecret
	// ARNs are the secrets that exist; any other is ErrSecretNotFound.
	// None: every ARN holds Master (for tests where the secret is never
	// the problem).
	ARNs []string
	// Gone makes every secret ErrSecretNotFound, as after it was deleted.
	Gone bool
	// Authorize, when set, decides whether the caller may read arn (the
	// handler role's policies); its error is returned as an access denial.
	Authorize func(arn string) error
}

// MasterSecret implements dbuser.SecretSource.
func (s Secrets) MasterSecret(_ context.Context, arn string) (dbuser.MasterSecret, error) {
	known := len(s.ARNs) == 0
	for _, a := range s.ARNs {
		known = known || a == arn
	}
	if s.Gone || !known {
		return dbuser.MasterSecret{}, fmt.Errorf("secret %q: %w", arn, dbuser.ErrSecretNotFound)
	}
	if s.Authorize != nil {
		if err := s.Authorize(arn); err != nil {
			return dbuser.MasterSecret{}, fmt.Errorf("AccessDeniedException: secretsmanager:GetSecretValue on %s: %w", arn, err)
		}
	}
	return s.Master, nil
}

// NewKeys returns fresh random access keys shaped like AWS's (AKIA and 16
// characters; 40 for the secret), for a principal only the engine knows.
// source says who made them.
func NewKeys(source string) aws.Credentials {
	return aws.Credentials{AccessKeyID: "AKIA" + randomString(16), SecretAccessKey: randomString(40), Source: source}
}

// RandomID is n random characters of AWS's key alphabet, for request ids.
func RandomID(n int) string { return randomString(n) }

func randomString(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// StaticKeys provides keys as the Lambda runtime's credentials would.
func StaticKeys(k aws.Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, k.SessionToken)
}

// AllowConnect is a principal's policy that allows rds-db:connect on
// exactly the dbuser ARN arn, nothing else.
func AllowConnect(arn string) func(action, resource string) (bool, error) {
	return func(action, resource string) (bool, error) {
		return action == auroralocal.ConnectAction && resource == arn, nil
	}
}

// Handler is the real custom-resource handler wired to e: it trusts e's
// CA and reads the master login from secrets. logger nil discards.
func Handler(e Engine, secrets dbuser.SecretSource, logger *slog.Logger) *dbuser.Handler {
	return &dbuser.Handler{Secrets: secrets, RootCAs: e.CAPool(), Logger: logger}
}

// User is a database user resource as a stack declares it.
type User struct {
	UserName, DatabaseName string
	Privileges             []string
	// SecretArn is the admin secret the handler reads.
	SecretArn string
}

// Props are the ResourceProperties CloudFormation sends for u on e: every
// scalar a string, the privileges a list, the ServiceToken it always adds.
func (u User) Props(e Engine) map[string]any {
	privs := make([]any, len(u.Privileges))
	for i, p := range u.Privileges {
		privs[i] = p
	}
	props := map[string]any{
		"ServiceToken":            "arn:aws:lambda:eu-west-1:123456789012:function:provider",
		dbuser.PropRetainOnDelete: "false",
		dbuser.PropSecretArn:      u.SecretArn,
		dbuser.PropEndpoint:       e.Host(),
		dbuser.PropPort:           strconv.Itoa(e.Port()),
		dbuser.PropUserName:       u.UserName,
		dbuser.PropDatabaseName:   u.DatabaseName,
		dbuser.PropPrivileges:     privs,
	}
	return props
}

// SampleTableCreate is the Create CloudFormation sends for the sample
// app's table (Custom::SampleTable) in database on e: the query
// function's actions use it, so every harness that runs them creates it.
func SampleTableCreate(e Engine, secretArn, database string) dbuser.Event {
	ev := Event(dbuser.RequestCreate, "SampleTable", "", map[string]any{
		"ServiceToken":         "arn:aws:lambda:eu-west-1:123456789012:function:provider",
		userprops.SecretArn:    secretArn,
		userprops.Endpoint:     e.Host(),
		userprops.Port:         strconv.Itoa(e.Port()),
		userprops.DatabaseName: database,
	}, nil)
	ev.ResourceType = userprops.SampleTableResourceType
	return ev
}

// StackID is the stack every harness event comes from: the handler records
// a user's owner as stack id and logical id, so all events of one resource
// must agree on both.
const StackID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/local/0"

// Event is a custom-resource event for user resource logicalID as
// CloudFormation sends it; old, if non-nil, becomes OldResourceProperties
// (Update); physicalID is empty on Create.
func Event(requestType, logicalID, physicalID string, props, old map[string]any) dbuser.Event {
	return dbuser.Event{
		RequestType: requestType, ResourceType: userprops.UserResourceType,
		ResponseURL:       "https://cloudformation-custom-resource-response.example/local",
		StackID:           StackID,
		RequestID:         "local-" + randomString(8),
		LogicalResourceID: logicalID, PhysicalResourceID: physicalID,
		ResourceProperties: props, OldResourceProperties: old,
	}
}

// FunctionEnv is the query function's environment for user on database
// on e, as the stack sets it (the tuning variables left to defaults).
func FunctionEnv(e Engine, user, database string) map[string]string {
	return map[string]string{
		queryfn.EnvEndpoint: e.Host(),
		queryfn.EnvPort:     strconv.Itoa(e.Port()),
		queryfn.EnvUser:     user,
		queryfn.EnvDatabase: database,
		queryfn.EnvRegion:   e.Region(),
	}
}

// QueryConfig is the query function's connector configuration as
// queryfn.ConfigFromEnv builds it from env, signing with keys and
// trusting only e's CA.
func QueryConfig(e Engine, env map[string]string, keys aws.Credentials) (iamdb.Config, error) {
	cfg, err := queryfn.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		return iamdb.Config{}, fmt.Errorf("standin: %w", err)
	}
	cfg.Credentials = StaticKeys(keys)
	if cfg.TLS, err = rdstls.Config(cfg.Host, e.CAPool()); err != nil {
		return iamdb.Config{}, fmt.Errorf("standin: %w", err)
	}
	return cfg, nil
}

// MasterDB opens a pool logged in as e's master over TLS, verifying e's
// certificate, as an operator would. The caller closes it.
func MasterDB(e Engine) (*sql.DB, error) {
	return auroralocal.OpenDB(e.Addr(), e.Host(), e.CAPool(), e.MasterUser(), e.MasterPassword())
}

// TB is the part of testing.TB Start needs (this package is also linked
// into rdsiam-local, which does not import testing).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Start starts a stand-in with opts and closes it when tb ends. Call it
// from one goroutine at a time: go-mysql-server keeps state in globals, so
// stand-ins must not start concurrently.
func Start(tb TB, opts auroralocal.Options) *auroralocal.Server {
	tb.Helper()
	srv, err := auroralocal.Start(opts)
	if err != nil {
		tb.Fatalf("start the stand-in: %v", err)
	}
	tb.Cleanup(func() { srv.Close() })
	return srv
}

// TamperSignature returns token with the first hex digit of its
// X-Amz-Signature changed: a token that looks right and must not verify.
// A token without a signature is returned unchanged (and so still fails a
// test that expects the tampered one refused).
func TamperSignature(token string) string {
	const param = "X-Amz-Signature="
	i := strings.Index(token, param)
	if i < 0 || i+len(param) >= len(token) {
		return token
	}
	i += len(param)
	c := byte('0')
	if token[i] == '0' {
		c = '1'
	}
	return token[:i] + string(c) + token[i+1:]
}
