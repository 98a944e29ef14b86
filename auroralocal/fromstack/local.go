package fromstack

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/auroralocal/cfntemplate"
	"github.com/rdsiam/rdsiam/auroralocal/iampolicy"
	"github.com/rdsiam/rdsiam/internal/standin"
	"github.com/rdsiam/rdsiam/lambda/dbuser"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
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
// principals are the stack's function roles (every query function's and
// every user handler's), each with fresh test keys and the identity
// policies the template gives it.
type Local struct {
	Stack *Stack
	// Server is the engine (the stand-in or MariaDB). Close it when done.
	Server Engine
	Env    cfntemplate.Env
	// QueryKeys and ProviderKeys are the test credentials of the first
	// query function's and the first user handler's roles.
	QueryKeys, ProviderKeys aws.Credentials
	// FunctionKeys are the test credentials of every query function's
	// role, by function logical id.
	FunctionKeys map[string]aws.Credentials
	// HandlerKeys are the test credentials of every user handler's role,
	// by function logical id.
	HandlerKeys map[string]aws.Credentials
	// PeopleKeys are the test credentials of Options.People, by name.
	PeopleKeys map[string]aws.Credentials

	// handlerPolicies are each user handler role's policies, by function
	// logical id: they decide which secrets its handler may read.
	handlerPolicies map[string]iampolicy.PolicySet
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
	l := &Local{Stack: s, FunctionKeys: map[string]aws.Credentials{}, HandlerKeys: map[string]aws.Credentials{},
		handlerPolicies: map[string]iampolicy.PolicySet{}}
	l.Env = s.Env(Place{Partition: auroralocal.Partition, Region: opts.Region, Account: opts.Account,
		ClusterResourceID: s.ClusterResourceID(), Host: opts.Endpoint})

	var principals []auroralocal.Principal
	add := func(f Function, keys map[string]aws.Credentials) (iampolicy.PolicySet, error) {
		policies, err := s.RolePolicies(f.RoleID, l.Env)
		if err != nil {
			return nil, err
		}
		k := standin.NewKeys("rdsiam-local")
		keys[f.ID] = k
		principals = append(principals, auroralocal.Principal{
			ARN:         fmt.Sprintf("arn:%s:iam::%s:role/%s", auroralocal.Partition, opts.Account, f.RoleID),
			AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey,
			Authorize: policies.Authorize,
		})
		return policies, nil
	}
	for _, f := range s.UserHandlers {
		policies, err := add(f, l.HandlerKeys)
		if err != nil {
			return nil, err
		}
		l.handlerPolicies[f.ID] = policies
	}
	for _, f := range s.QueryFunctions {
		if _, err := add(f, l.FunctionKeys); err != nil {
			return nil, err
		}
	}
	l.QueryKeys, l.ProviderKeys = l.FunctionKeys[s.QueryFunctionID], l.HandlerKeys[s.ProviderFunctionID]
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

// UserEvent is a custom-resource event for user resource userID, with the
// properties CloudFormation would send for this stack. old, if non-nil,
// becomes OldResourceProperties (Update); physicalID is empty on Create.
func (l *Local) UserEvent(requestType, userID, physicalID string, props, old map[string]any) dbuser.Event {
	return standin.Event(requestType, userID, physicalID, props, old)
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
		h, err := l.UserHandler(id, nil)
		if err != nil {
			return err
		}
		ev := l.UserEvent(dbuser.RequestCreate, id, "", props, nil)
		ev.ResourceType = userprops.SampleTableResourceType
		if _, err := h.Handle(ctx, ev); err != nil {
			return fmt.Errorf("fromstack: %s: %w", id, err)
		}
	}
	return nil
}

// UserProperties are user resource userID's properties for this server.
func (l *Local) UserProperties(userID string) (map[string]any, error) {
	return l.Stack.UserProperties(userID, l.Env, l.Server.Port())
}

// ProviderHandler is UserHandler for the first user handler (the only one
// in this repository's app).
func (l *Local) ProviderHandler(logger *slog.Logger) *dbuser.Handler {
	return l.handler(l.Stack.UserHandlers[0], logger)
}

// UserHandler is the real custom-resource handler that user resource
// userID's provider runs, wired to the engine: it trusts the engine's CA,
// and its secret source hands out the master credentials only for the
// cluster's admin secret, and only if that handler's role may read it.
func (l *Local) UserHandler(userID string, logger *slog.Logger) (*dbuser.Handler, error) {
	f, err := l.Stack.HandlerOf(userID)
	if err != nil {
		return nil, err
	}
	return l.handler(f, logger), nil
}

// CreateUser delivers the Create of user resource userID, with the
// properties the template gives it, to its own provider's handler.
func (l *Local) CreateUser(ctx context.Context, userID string) (dbuser.Response, error) {
	props, err := l.UserProperties(userID)
	if err != nil {
		return dbuser.Response{}, err
	}
	h, err := l.UserHandler(userID, nil)
	if err != nil {
		return dbuser.Response{}, err
	}
	resp, err := h.Handle(ctx, l.UserEvent("Create", userID, "", props, nil))
	if err != nil {
		return dbuser.Response{}, fmt.Errorf("fromstack: create %s: %w", userID, err)
	}
	return resp, nil
}

func (l *Local) handler(f Function, logger *slog.Logger) *dbuser.Handler {
	masterARN := l.Env.Attrs[l.Stack.ClusterID+".MasterUserSecret.SecretArn"]
	if imported := l.Stack.Imported; imported != nil {
		masterARN = imported.SecretArn
	}
	policies := l.handlerPolicies[f.ID]
	secrets := standin.Secrets{
		Master: standin.Master(l.Server),
		ARNs:   []string{masterARN},
		Authorize: func(arn string) error {
			ok, err := policies.Authorize("secretsmanager:GetSecretValue", arn)
			if err == nil && !ok {
				err = fmt.Errorf("role %s may not read it", f.RoleID)
			}
			return err
		},
	}
	return standin.Handler(l.Server, secrets, logger)
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
	cfg, err := standin.QueryConfig(l.Server, env, keys)
	if err != nil {
		return iamdb.Config{}, fmt.Errorf("fromstack: %w", err)
	}
	return cfg, nil
}
