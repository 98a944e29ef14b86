package fromstack

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/auroralocal/iampolicy"
	"github.com/rdsiam/rdsiam/lambda/dbuser"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
	"github.com/rdsiam/rdsiam/lambda/rdstls"
	"github.com/rdsiam/rdsiam/lambda/userprops"
)

// Options configures Start. Zero values give the stand-in, region
// eu-west-1, account 123456789012 and an ephemeral port.
type Options struct {
	Region, Account string
	Port            int
	Logger          *slog.Logger
	// Engine is EngineStandIn (default, "") or EngineMariaDB.
	Engine string
	// Dir is where EngineMariaDB makes its throw-away data directory.
	// Default: <module root>/.build/mariadb/run.
	Dir string
	// Endpoint is the host name the stand-in plays (tokens are signed for
	// it, its certificate names it); "" means auroralocal.DefaultEndpoint.
	Endpoint string
	// People are principals standing for people's roles (see Person).
	People []Person
}

// LocalClusterResourceID stands for the cluster's DBClusterResourceId.
const LocalClusterResourceID = "cluster-RDSIAMLOCAL0000000000000"

// Local is a stack "deployed" on a local engine: a server whose IAM
// principals are the stack's two function roles, each with fresh test keys
// and the identity policies the template gives it.
type Local struct {
	Stack *Stack
	// Server is the engine (the stand-in or MariaDB). Close it when done.
	Server Engine
	Env    iampolicy.Env
	// QueryKeys and BootstrapKeys are the test credentials of the (first)
	// query and the bootstrap roles.
	QueryKeys, BootstrapKeys aws.Credentials
	// FunctionKeys are the test credentials of every query function's
	// role, by function logical id.
	FunctionKeys map[string]aws.Credentials
	// PeopleKeys are the test credentials of Options.People, by name.
	PeopleKeys map[string]aws.Credentials

	bootstrapPolicies iampolicy.PolicySet
}

// Start reads the roles' policies from the template and starts the engine
// opts.Engine names. Close the returned Local's Server when done.
func Start(s *Stack, opts Options) (*Local, error) {
	if opts.Region == "" {
		opts.Region = "eu-west-1"
	}
	if opts.Account == "" {
		opts.Account = auroralocal.DefaultAccount
	}
	if opts.Endpoint == "" {
		opts.Endpoint = auroralocal.DefaultEndpoint
	}
	l := &Local{Stack: s, FunctionKeys: map[string]aws.Credentials{}}
	l.Env = s.Env(Place{Partition: auroralocal.Partition, Region: opts.Region, Account: opts.Account,
		ClusterResourceID: s.ClusterResourceID(), Host: opts.Endpoint})

	type role struct {
		id   string
		keys *aws.Credentials
		pols *iampolicy.PolicySet
	}
	roles := []role{{s.BootstrapRoleID, &l.BootstrapKeys, &l.bootstrapPolicies}}
	functionKeys := make([]aws.Credentials, len(s.QueryFunctions))
	for i, f := range s.QueryFunctions {
		roles = append(roles, role{f.RoleID, &functionKeys[i], nil})
	}
	var principals []auroralocal.Principal
	for _, role := range roles {
		policies, err := s.RolePolicies(role.id, l.Env)
		if err != nil {
			return nil, err
		}
		if role.pols != nil {
			*role.pols = policies
		}
		*role.keys = aws.Credentials{AccessKeyID: "AKIA" + randomString(16), SecretAccessKey: randomString(40), Source: "rdsiam-local"}
		principals = append(principals, auroralocal.Principal{
			ARN:             fmt.Sprintf("arn:%s:iam::%s:role/%s", auroralocal.Partition, opts.Account, role.id),
			AccessKeyID:     role.keys.AccessKeyID,
			SecretAccessKey: role.keys.SecretAccessKey,
			Authorize:       policies.Authorize,
		})
	}
	for i, f := range s.QueryFunctions {
		l.FunctionKeys[f.ID] = functionKeys[i]
	}
	l.QueryKeys = l.FunctionKeys[s.QueryFunctionID]
	people, err := l.personPrincipals(opts.People, opts.Account)
	if err != nil {
		return nil, err
	}
	principals = append(principals, people...)
	ao := auroralocal.Options{
		Port: opts.Port, Endpoint: opts.Endpoint, Region: opts.Region, Account: opts.Account,
		ClusterResourceID: s.ClusterResourceID(), Principals: principals, Logger: opts.Logger,
	}
	if err := l.scaleOptions(&ao); err != nil {
		return nil, err
	}
	if (ao.Proxy != nil || ao.Reader != nil) && opts.Engine == EngineMariaDB {
		return nil, fmt.Errorf("fromstack: the stack has an RDS Proxy or readers, which only the stand-in (%s) plays, not %s", EngineStandIn, EngineMariaDB)
	}
	srv, err := startEngine(opts.Engine, ao, opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("fromstack: %w", err)
	}
	l.Server = srv
	return l, nil
}

func randomString(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// UserEvent is a custom-resource event for user resource userID, with the
// properties CloudFormation would send for this stack. old, if non-nil,
// becomes OldResourceProperties (Update); physicalID is empty on Create.
func (l *Local) UserEvent(requestType, userID, physicalID string, props, old map[string]any) dbuser.Event {
	return dbuser.Event{
		RequestType: requestType, ResourceType: userprops.UserResourceType,
		LogicalResourceID: userID, PhysicalResourceID: physicalID, RequestID: "local-" + randomString(8),
		StackID:            "arn:aws:cloudformation:" + l.Server.Region() + ":" + auroralocal.DefaultAccount + ":stack/local/0",
		ResourceProperties: props, OldResourceProperties: old,
	}
}

// CreateSampleTables sends each Custom::SampleTable of the template its
// Create, as CloudFormation would, to the real handler: the sample app's
// table exists afterwards.
func (l *Local) CreateSampleTables(ctx context.Context) error {
	for _, id := range l.Stack.SampleTableIDs {
		props, err := l.Stack.SampleTableProperties(id, l.Env, l.Server.Port())
		if err != nil {
			return err
		}
		ev := l.UserEvent(dbuser.RequestCreate, id, "", props, nil)
		ev.ResourceType = userprops.SampleTableResourceType
		if _, err := l.BootstrapHandler(nil).Handle(ctx, ev); err != nil {
			return fmt.Errorf("fromstack: %s: %w", id, err)
		}
	}
	return nil
}

// UserProperties are user resource userID's properties for this server.
func (l *Local) UserProperties(userID string) (map[string]any, error) {
	return l.Stack.UserProperties(userID, l.Env, l.Server.Port())
}

// BootstrapHandler is the real custom-resource handler, wired to the
// engine: it trusts the engine's CA, and its secret source hands out the
// master credentials only for the secret the bootstrap role may read.
func (l *Local) BootstrapHandler(logger *slog.Logger) *dbuser.Handler {
	return &dbuser.Handler{
		Secrets: localSecrets{l},
		RootCAs: l.Server.CAPool(),
		Logger:  logger,
	}
}

// localSecrets plays Secrets Manager for the master secret.
type localSecrets struct{ l *Local }

func (s localSecrets) MasterSecret(_ context.Context, arn string) (dbuser.MasterSecret, error) {
	masterARN := s.l.Env.Attrs[s.l.Stack.ClusterID+".MasterUserSecret.SecretArn"]
	if imported := s.l.Stack.Imported; imported != nil {
		masterARN = imported.SecretArn
	}
	if arn != masterARN {
		return dbuser.MasterSecret{}, fmt.Errorf("secret %q: %w", arn, dbuser.ErrSecretNotFound)
	}
	ok, err := s.l.bootstrapPolicies.Authorize("secretsmanager:GetSecretValue", arn)
	if err != nil || !ok {
		return dbuser.MasterSecret{}, fmt.Errorf("AccessDeniedException: bootstrap role may not secretsmanager:GetSecretValue on %s (%v)", arn, err)
	}
	return dbuser.MasterSecret{Username: s.l.Server.MasterUser(), Password: s.l.Server.MasterPassword()}, nil
}

// QueryConfig is the query function's connector configuration, read from
// the environment the template gives the function, signing with keys and
// trusting the stand-in's CA.
func (l *Local) QueryConfig(keys aws.Credentials) (iamdb.Config, error) {
	return l.QueryConfigOf(l.Stack.QueryFunctionID, keys)
}

// QueryConfigOf is QueryConfig for any of the stack's QueryFunctions.
func (l *Local) QueryConfigOf(functionID string, keys aws.Credentials) (iamdb.Config, error) {
	env, err := l.Stack.FunctionEnvOf(functionID, l.Env, l.Server.Port())
	if err != nil {
		return iamdb.Config{}, err
	}
	cfg, err := queryfn.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		return iamdb.Config{}, fmt.Errorf("fromstack: %w", err)
	}
	cfg.Credentials = staticKeys(keys)
	if cfg.TLS, err = rdstls.Config(cfg.Host, l.Server.CAPool()); err != nil {
		return iamdb.Config{}, fmt.Errorf("fromstack: %w", err)
	}
	return cfg, nil
}

func staticKeys(k aws.Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, k.SessionToken)
}
