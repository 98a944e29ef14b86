package stacks

import (
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
	// MemoryMB is 128-10240 (DefaultConfig: 256).
	MemoryMB int
	// TimeoutSeconds is 1-900 (DefaultConfig: 15).
	TimeoutSeconds int
	// ReservedConcurrency caps concurrent containers; 0 reserves none.
	ReservedConcurrency int
	// MaxConnections, MaxNewConnectionsPerSecond,
	// AccessDeniedRetrySeconds and ReadTimeoutSeconds tune each
	// container's connector (see Config); they reach it as DB_MAX_CONNS,
	// DB_MAX_NEW_CONNS_PER_SECOND, DB_ACCESS_DENIED_RETRY_SECONDS and
	// DB_READ_TIMEOUT_SECONDS. A zero ReadTimeoutSeconds means
	// DefaultConfig's (5).
	MaxConnections, MaxNewConnectionsPerSecond, AccessDeniedRetrySeconds, ReadTimeoutSeconds int
	// DialTimeoutSeconds bounds one login attempt (DB_DIAL_TIMEOUT_SECONDS),
	// 1-60. Default: 0 means DefaultConfig's (5); a cluster that can pause
	// needs ResumeSeconds (30) or more.
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
	if props.User == nil || props.Network == nil || props.Cluster == nil {
		return nil, fmt.Errorf("query function %s: Network, Cluster and User are required", id)
	}
	if props.MemoryMB < 128 || props.MemoryMB > 10240 {
		return nil, &ConfigError{Key: "functionMemoryMb", Value: props.MemoryMB, Allowed: "128 to 10240 MB"}
	}
	if props.TimeoutSeconds < 1 || props.TimeoutSeconds > 900 {
		return nil, &ConfigError{Key: "functionTimeoutSeconds", Value: props.TimeoutSeconds, Allowed: "1 to 900 seconds"}
	}
	if props.MaxConnections < 1 || props.MaxNewConnectionsPerSecond < 1 || props.AccessDeniedRetrySeconds < 0 {
		return nil, fmt.Errorf("query function %s: MaxConnections and MaxNewConnectionsPerSecond must be at least 1 and AccessDeniedRetrySeconds at least 0 (see DefaultConfig)", id)
	}
	if props.ReadTimeoutSeconds == 0 {
		props.ReadTimeoutSeconds = DefaultConfig().ReadTimeoutSeconds
	}
	if props.DialTimeoutSeconds == 0 {
		props.DialTimeoutSeconds = DefaultConfig().DialTimeoutSeconds
	}
	if props.DialTimeoutSeconds < 1 || props.DialTimeoutSeconds > MaxDialTimeoutSeconds {
		return nil, &ConfigError{Key: "dialTimeoutSeconds", Value: props.DialTimeoutSeconds, Allowed: fmt.Sprintf("1 to %d seconds", MaxDialTimeoutSeconds)}
	}
	if props.ReadTimeoutSeconds < 1 || props.ReadTimeoutSeconds >= props.TimeoutSeconds {
		return nil, &ConfigError{Key: "readTimeoutSeconds", Value: props.ReadTimeoutSeconds,
			Allowed: fmt.Sprintf("1 second to less than the function's timeout (%d s)", props.TimeoutSeconds)}
	}
	cluster := props.Cluster
	if props.ReadFromReaders && cluster.readers == 0 {
		return nil, fmt.Errorf("query function %s: ReadFromReaders needs a cluster with readers (ClusterProps.Readers, context key \"readers\"), and this one has none", id)
	}
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
