package stacks

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// QueryFunctionProps configures QueryFunction.
type QueryFunctionProps struct {
	Network *Network
	// Cluster is User's cluster (its endpoints and readers). Required.
	Cluster *Cluster
	// User is the database user the function logs in as; the function gets
	// rds-db:connect for exactly that user and nothing else for data.
	User *DatabaseUser
	// Binary is the built query handler (lambda/cmd/query).
	Binary GoBinary
	// MemoryMB is MinFunctionMemoryMB to MaxFunctionMemoryMB. Default: 0
	// means DefaultConfig's.
	MemoryMB int
	// TimeoutSeconds is 1 to MaxFunctionTimeoutSeconds. Default: 0 means
	// DefaultConfig's.
	TimeoutSeconds int
	// ReservedConcurrency caps concurrent containers. Default: 0 reserves
	// none (the account's pool; the app's connection budget requires one).
	ReservedConcurrency int
	// MaxConnections, MaxNewConnectionsPerSecond,
	// AccessDeniedRetrySeconds and ReadTimeoutSeconds tune each
	// container's connector (see Config, and iamdb's limits); they reach it
	// as DB_MAX_CONNS, DB_MAX_NEW_CONNS_PER_SECOND,
	// DB_ACCESS_DENIED_RETRY_SECONDS and DB_READ_TIMEOUT_SECONDS.
	// ReadTimeoutSeconds must be below TimeoutSeconds. Default: 0 means
	// DefaultConfig's for each, except AccessDeniedRetrySeconds, where 0
	// turns the retry off.
	MaxConnections, MaxNewConnectionsPerSecond, AccessDeniedRetrySeconds, ReadTimeoutSeconds int
	// DialTimeoutSeconds bounds one login attempt (DB_DIAL_TIMEOUT_SECONDS),
	// up to MaxDialTimeoutSeconds; a cluster that can pause needs
	// ResumeSeconds or more. Default: 0 means DefaultConfig's.
	DialTimeoutSeconds int
	// Proxy, when set, is where the function connects instead of the
	// writer endpoint: DB_ENDPOINT names the proxy, the function's
	// security group may reach only the proxy's port (and the cluster's
	// for reads, with ReadFromReaders), and rds-db:connect names the
	// proxy's resource id. Default nil: straight to the writer.
	Proxy *Proxy
	// ReadFromReaders sends the function's reads to the cluster's reader
	// endpoint (DB_READER_ENDPOINT; the cluster needs readers), straight,
	// not through Proxy, which fronts the writer only. Default false: all
	// traffic to the writer (or the proxy).
	ReadFromReaders bool
}

// QueryFunction is the Go Lambda that signs an IAM token for each new
// connection and queries over TLS. Its environment holds where to connect
// and as whom (DB_ENDPOINT, DB_PORT, DB_USER, DB_NAME, DB_REGION), never a
// secret: the token is made from the function's own role credentials.
type QueryFunction struct {
	constructs.Construct
	Function awslambda.Function
	fn       *goFunction
}

// NewQueryFunction creates the function in the VPC, opens the database port
// to it and grants it rds-db:connect for props.User.
func NewQueryFunction(scope constructs.Construct, id string, props QueryFunctionProps) (*QueryFunction, error) {
	props = props.withDefaults()
	if err := props.validate(id); err != nil {
		return nil, err
	}
	cluster := props.Cluster
	c := constructs.NewConstruct(scope, jsii.String(id))
	env := map[string]*string{
		queryfn.EnvEndpoint:                 cluster.DB.ClusterEndpoint().Hostname(),
		queryfn.EnvPort:                     jsii.String(strconv.Itoa(DatabasePort)),
		queryfn.EnvUser:                     jsii.String(props.User.UserName),
		queryfn.EnvDatabase:                 jsii.String(props.User.DatabaseName),
		queryfn.EnvRegion:                   awscdk.Stack_Of(c).Region(),
		queryfn.EnvMaxConns:                 jsii.String(strconv.Itoa(props.MaxConnections)),
		queryfn.EnvMaxNewConnsPerSecond:     jsii.String(strconv.Itoa(props.MaxNewConnectionsPerSecond)),
		queryfn.EnvAccessDeniedRetrySeconds: jsii.String(strconv.Itoa(props.AccessDeniedRetrySeconds)),
		queryfn.EnvReadTimeoutSeconds:       jsii.String(strconv.Itoa(props.ReadTimeoutSeconds)),
		queryfn.EnvDialTimeoutSeconds:       jsii.String(strconv.Itoa(props.DialTimeoutSeconds)),
	}
	if props.Proxy != nil {
		env[queryfn.EnvEndpoint] = props.Proxy.Endpoint()
	}
	if props.ReadFromReaders {
		env[queryfn.EnvReaderEndpoint] = cluster.DB.ClusterReadEndpoint().Hostname()
	}
	fn := newGoFunction(c, "Function", goFunctionProps{
		Binary:      props.Binary,
		Description: "rdsiam query function (IAM database authentication)",
		Vpc:         props.Network.Vpc,
		Subnets:     props.Network.Subnets,
		MemoryMB:    props.MemoryMB,
		Timeout:     awscdk.Duration_Seconds(jsii.Number(float64(props.TimeoutSeconds))),
		Reserved:    props.ReservedConcurrency,
		Environment: env,
	})

	// Where the function may go, and as whom: the proxy for everything
	// but reads from readers; the cluster for those, or for everything
	// without a proxy. Each path gets its own rds-db:connect ARN.
	if props.Proxy != nil {
		props.Proxy.AllowFrom(fn.SecurityGroup, "MySQL from the query function")
		props.Proxy.GrantConnect(fn.Role, props.User)
	}
	if props.Proxy == nil || props.ReadFromReaders {
		cluster.AllowFrom(fn.SecurityGroup, "MySQL from the query function")
		props.User.GrantConnect(fn.Role)
	}
	// Invocations before the user exists would fail with 1045; deploy order
	// keeps the first ones clean.
	fn.Function.Node().AddDependency(props.User.Construct)
	// Likewise the proxy: its target group and its role's grant on the
	// cluster must exist before the first login goes through it.
	if props.Proxy != nil {
		fn.Function.Node().AddDependency(props.Proxy.Construct)
	}
	return &QueryFunction{Construct: c, Function: fn.Function, fn: fn}, nil
}

// withDefaults fills the zero fields that have one with DefaultConfig's.
func (props QueryFunctionProps) withDefaults() QueryFunctionProps {
	d := DefaultConfig()
	for _, f := range []struct {
		field *int
		def   int
	}{
		{&props.MemoryMB, d.FunctionMemoryMB},
		{&props.TimeoutSeconds, d.FunctionTimeoutSeconds},
		{&props.MaxConnections, d.MaxConnections},
		{&props.MaxNewConnectionsPerSecond, d.MaxNewConnectionsPerSecond},
		{&props.ReadTimeoutSeconds, d.ReadTimeoutSeconds},
		{&props.DialTimeoutSeconds, d.DialTimeoutSeconds},
	} {
		if *f.field == 0 {
			*f.field = f.def
		}
	}
	return props
}

// validate checks props (with defaults applied) by the rules of the context
// keys that set them in the app, naming the field.
func (props QueryFunctionProps) validate(id string) error {
	var errs propChecks
	if props.User == nil || props.Network == nil || props.Cluster == nil {
		errs = append(errs, errors.New("QueryFunctionProps.Network, Cluster and User are required"))
	}
	checkProp(&errs, "QueryFunctionProps.MemoryMB", props.MemoryMB, functionMemoryRange.rule())
	checkProp(&errs, "QueryFunctionProps.TimeoutSeconds", props.TimeoutSeconds, functionTimeoutRange.rule())
	checkProp(&errs, "QueryFunctionProps.ReservedConcurrency", props.ReservedConcurrency,
		intRange{min: 0, max: reservedConcurrencyRange.max, note: "0 reserves none"}.rule())
	checkProp(&errs, "QueryFunctionProps.MaxConnections", props.MaxConnections, maxConnectionsRange.rule())
	checkProp(&errs, "QueryFunctionProps.MaxNewConnectionsPerSecond", props.MaxNewConnectionsPerSecond, newConnsRange.rule())
	checkProp(&errs, "QueryFunctionProps.AccessDeniedRetrySeconds", props.AccessDeniedRetrySeconds, accessDeniedRetryRange.rule())
	checkProp(&errs, "QueryFunctionProps.DialTimeoutSeconds", props.DialTimeoutSeconds, dialTimeoutRange.rule())
	readTimeout := readTimeoutRange
	readTimeout.max = min(readTimeout.max, props.TimeoutSeconds-1)
	readTimeout.note = fmt.Sprintf("below TimeoutSeconds, %d", props.TimeoutSeconds)
	checkProp(&errs, "QueryFunctionProps.ReadTimeoutSeconds", props.ReadTimeoutSeconds, readTimeout.rule())
	if props.ReadFromReaders && props.Cluster != nil && props.Cluster.readers == 0 {
		errs = append(errs, errors.New("QueryFunctionProps.ReadFromReaders needs a cluster with readers (ClusterProps.Readers), and this one has none"))
	}
	return errs.err("query function " + id)
}
