package stacks

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// QueryFunctionProps configures QueryFunction. The cluster is User's (its
// provider's), so it may be created in this app or imported by attributes
// (awsrds.DatabaseCluster_FromDatabaseClusterAttributes); the network is
// any VPC. The zero value of every tuning field is DefaultConfig's, the
// app's default.
type QueryFunctionProps struct {
	// Vpc is where the function runs: the cluster's VPC, or one routed to
	// it. Required.
	Vpc awsec2.IVpc
	// VpcSubnets picks the function's subnets. Default: nil, CDK's
	// default selection (the VPC's private subnets with egress, else its
	// isolated ones).
	VpcSubnets *awsec2.SubnetSelection
	// User is the database user the function logs in as; the function gets
	// rds-db:connect for exactly that user and nothing else for data, and
	// reaches the user's cluster (its writer endpoint and port, through
	// the cluster's Connections). Required.
	User *DatabaseUser
	// Binary is the built query handler (lambda/cmd/query). Required.
	Binary GoBinary
	// MemoryMB is MinFunctionMemoryMB to MaxFunctionMemoryMB. Default: 0
	// means DefaultConfig's.
	MemoryMB int
	// TimeoutSeconds is 1 to MaxFunctionTimeoutSeconds. Default: 0 means
	// DefaultConfig's.
	TimeoutSeconds int
	// ReservedConcurrency caps concurrent containers, and so the fleet's
	// connections and new-login rate. A pointer because 0 is a choice:
	// new(0) reserves none (the account's pool, which nothing bounds).
	// Default: nil means DefaultConfig's.
	ReservedConcurrency *int
	// MaxConnections, MaxNewConnectionsPerSecond and ReadTimeoutSeconds
	// tune each container's connector (see Config, and iamdb's limits);
	// they reach it as DB_MAX_CONNS, DB_MAX_NEW_CONNS_PER_SECOND and
	// DB_READ_TIMEOUT_SECONDS. ReadTimeoutSeconds must be below
	// TimeoutSeconds. Default: 0 means DefaultConfig's for each.
	MaxConnections, MaxNewConnectionsPerSecond, ReadTimeoutSeconds int
	// AccessDeniedRetrySeconds is how long a login refused with 1045 is
	// retried (DB_ACCESS_DENIED_RETRY_SECONDS). A pointer because 0 is a
	// choice: new(0) turns the retry off. Default: nil means
	// DefaultConfig's.
	AccessDeniedRetrySeconds *int
	// DialTimeoutSeconds bounds one login attempt (DB_DIAL_TIMEOUT_SECONDS),
	// up to MaxDialTimeoutSeconds; a cluster that can pause needs
	// ResumeSeconds or more. Default: 0 means DefaultConfig's.
	DialTimeoutSeconds int
	// Proxy, when set, is where the function connects instead of the
	// writer endpoint: DB_ENDPOINT names the proxy and DB_PORT is
	// DatabasePort (RDS Proxy's MySQL port), the function's security group
	// may reach only the proxy (and the cluster, for reads, with
	// ReadFromReaders), and rds-db:connect names the proxy's resource id.
	// A proxy made with awsrds.NewDatabaseProxy (or NewProxy's Proxy.DB)
	// is both halves of ConnectableProxy; pair an imported one with its
	// security groups' awsec2.Connections. The function depends on it;
	// the proxy's role and its grants on the cluster are the caller's to
	// order before the function. Default: nil, straight to the writer.
	Proxy ConnectableProxy
	// ReadFromReaders sends the function's reads to the cluster's reader
	// endpoint (DB_READER_ENDPOINT), straight, not through Proxy, which
	// fronts the writer only. The cluster needs readers: a cluster created
	// in this app is checked, an imported one needs its
	// ReaderEndpointAddress attribute. Default: false, all traffic to the
	// writer (or the proxy).
	ReadFromReaders bool
}

// ConnectableProxy is what QueryFunction needs of an RDS Proxy: its endpoint
// and rds-db:connect grant (IDatabaseProxy) and its security groups
// (IConnectable).
type ConnectableProxy interface {
	awsrds.IDatabaseProxy
	awsec2.IConnectable
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

// queryFunctionRule is the description of the security-group rules that let
// the query function reach the database (the proxy or the cluster).
const queryFunctionRule = "MySQL from the query function"

// NewQueryFunction creates the function in the VPC, opens the database port
// to it and grants it rds-db:connect for props.User.
func NewQueryFunction(scope constructs.Construct, id string, props QueryFunctionProps) (*QueryFunction, error) {
	props = props.withDefaults()
	if err := props.validate(id); err != nil {
		return nil, err
	}
	cluster := props.User.provider.Cluster
	env, err := cdkCall("the cluster's writer endpoint (an imported cluster needs its ClusterEndpointAddress and Port attributes)", props.User.Environment)
	if err != nil {
		return nil, fmt.Errorf("query function %s: %w", id, err)
	}
	port := props.User.provider.port
	if props.ReadFromReaders {
		reader, err := readerEndpoint(cluster, props.Proxy != nil, port)
		if err != nil {
			return nil, fmt.Errorf("query function %s: QueryFunctionProps.ReadFromReaders: %w", id, err)
		}
		env[queryfn.EnvReaderEndpoint] = reader
	}
	if props.Proxy != nil {
		env[queryfn.EnvEndpoint] = props.Proxy.Endpoint()
		env[queryfn.EnvPort] = jsii.String(strconv.Itoa(DatabasePort))
	}
	for name, v := range map[string]int{
		queryfn.EnvMaxConns:                 props.MaxConnections,
		queryfn.EnvMaxNewConnsPerSecond:     props.MaxNewConnectionsPerSecond,
		queryfn.EnvAccessDeniedRetrySeconds: *props.AccessDeniedRetrySeconds,
		queryfn.EnvReadTimeoutSeconds:       props.ReadTimeoutSeconds,
		queryfn.EnvDialTimeoutSeconds:       props.DialTimeoutSeconds,
	} {
		env[name] = jsii.String(strconv.Itoa(v))
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	fn := newGoFunction(c, "Function", goFunctionProps{
		Binary:      props.Binary,
		Description: "rdsiam query function (IAM database authentication)",
		Vpc:         props.Vpc,
		Subnets:     props.VpcSubnets,
		MemoryMB:    props.MemoryMB,
		Timeout:     awscdk.Duration_Seconds(jsii.Number(float64(props.TimeoutSeconds))),
		Reserved:    *props.ReservedConcurrency,
		Environment: env,
	})

	// Where the function may go, and as whom: the proxy for everything
	// but reads from readers; the cluster for those, or for everything
	// without a proxy. Each path gets its own rds-db:connect ARN.
	conns := fn.Function.Connections()
	if props.Proxy != nil {
		conns.AllowTo(props.Proxy, awsec2.Port_Tcp(jsii.Number(DatabasePort)), jsii.String(queryFunctionRule))
		props.Proxy.GrantConnect(fn.Role, jsii.String(props.User.UserName))
	}
	if props.Proxy == nil || props.ReadFromReaders {
		conns.AllowTo(cluster, awsec2.Port_Tcp(port), jsii.String(queryFunctionRule))
		props.User.GrantConnect(fn.Role)
	}
	// Invocations before the user exists would fail with 1045; deploy order
	// keeps the first ones clean.
	fn.Function.Node().AddDependency(props.User.Construct)
	// Likewise the proxy: its target group must exist before the first
	// login goes through it.
	if props.Proxy != nil {
		fn.Function.Node().AddDependency(props.Proxy)
	}
	return &QueryFunction{Construct: c, Function: fn.Function, fn: fn}, nil
}

// readerEndpoint is the host name of cluster's reader endpoint, or an error
// saying why reads cannot go there: a cluster created in this app without
// readers, an imported one without ReaderEndpointAddress, or, with a proxy
// (whose port DB_PORT then is), a cluster not on DatabasePort.
func readerEndpoint(cluster awsrds.IDatabaseCluster, proxy bool, port *float64) (*string, error) {
	if created, ok := cluster.(awsrds.DatabaseCluster); ok && len(*created.InstanceIdentifiers()) < 2 {
		return nil, errors.New("the cluster has no readers (ClusterProps.Readers, or the readers of awsrds.DatabaseClusterProps)")
	}
	if proxy && !*awscdk.Token_IsUnresolved(port) && *port != DatabasePort {
		return nil, fmt.Errorf("with a proxy, DB_PORT is the proxy's (%d) and the readers listen on %g; the function has one port", DatabasePort, *port)
	}
	return cdkCall("the cluster's reader endpoint (an imported cluster needs its ReaderEndpointAddress attribute)", func() *string {
		return cluster.ClusterReadEndpoint().Hostname()
	})
}

// cdkCall returns get's result, or an error naming what when CDK throws
// instead (in Go, jsii panics), as it does for an attribute an imported
// construct was not given.
func cdkCall[T any](what string, get func() T) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", what, r)
		}
	}()
	return get(), nil
}

// withDefaults fills the zero fields that have one with DefaultConfig's.
func (props QueryFunctionProps) withDefaults() QueryFunctionProps {
	d := DefaultConfig()
	orDefault(&props.MemoryMB, d.FunctionMemoryMB)
	orDefault(&props.TimeoutSeconds, d.FunctionTimeoutSeconds)
	orDefault(&props.ReservedConcurrency, &d.FunctionReservedConcurrency)
	orDefault(&props.MaxConnections, d.MaxConnections)
	orDefault(&props.MaxNewConnectionsPerSecond, d.MaxNewConnectionsPerSecond)
	orDefault(&props.AccessDeniedRetrySeconds, &d.AccessDeniedRetrySeconds)
	orDefault(&props.ReadTimeoutSeconds, d.ReadTimeoutSeconds)
	orDefault(&props.DialTimeoutSeconds, d.DialTimeoutSeconds)
	return props
}

// validate checks props (with defaults applied) by the rules of the context
// keys that set them in the app, naming the field.
func (props QueryFunctionProps) validate(id string) error {
	var errs propChecks
	var missing []string
	for name, absent := range map[string]bool{"Vpc": props.Vpc == nil, "User": props.User == nil, "Binary": props.Binary.Dir == ""} {
		if absent {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		errs = append(errs, fmt.Errorf("QueryFunctionProps.%s required", strings.Join(missing, ", ")))
	}
	if props.User != nil && props.User.provider == nil {
		errs = append(errs, errors.New("QueryFunctionProps.User has no user provider: make it with NewDatabaseUser"))
	}
	checkProp(&errs, "QueryFunctionProps.MemoryMB", props.MemoryMB, functionMemoryRange.rule())
	checkProp(&errs, "QueryFunctionProps.TimeoutSeconds", props.TimeoutSeconds, functionTimeoutRange.rule())
	checkProp(&errs, "QueryFunctionProps.ReservedConcurrency", *props.ReservedConcurrency,
		intRange{min: 0, max: reservedConcurrencyRange.max, note: "0 reserves none"}.rule())
	checkProp(&errs, "QueryFunctionProps.MaxConnections", props.MaxConnections, maxConnectionsRange.rule())
	checkProp(&errs, "QueryFunctionProps.MaxNewConnectionsPerSecond", props.MaxNewConnectionsPerSecond, newConnsRange.rule())
	checkProp(&errs, "QueryFunctionProps.AccessDeniedRetrySeconds", *props.AccessDeniedRetrySeconds, accessDeniedRetryRange.rule())
	checkProp(&errs, "QueryFunctionProps.DialTimeoutSeconds", props.DialTimeoutSeconds, dialTimeoutRange.rule())
	readTimeout := readTimeoutRange
	readTimeout.max = min(readTimeout.max, props.TimeoutSeconds-1)
	readTimeout.note = fmt.Sprintf("below TimeoutSeconds, %d", props.TimeoutSeconds)
	checkProp(&errs, "QueryFunctionProps.ReadTimeoutSeconds", props.ReadTimeoutSeconds, readTimeout.rule())
	return errs.err("query function " + id)
}
