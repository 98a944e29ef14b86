package stacks

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
)

// checkPropsError: err is nil when wantField is "", and otherwise names
// wantField (a *PropsError for it), contains every want, and never speaks
// of a context key, which a construct caller did not set.
func checkPropsError(t *testing.T, err error, wantField string, want []string) {
	t.Helper()
	if wantField == "" {
		if err != nil {
			t.Fatalf("unexpected: %v", err)
		}
		return
	}
	var pe *PropsError
	if !errors.As(err, &pe) || pe.Field != wantField {
		t.Fatalf("err = %v, want a *PropsError for %s", err, wantField)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err = %q\nwant it to contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "context key") {
		t.Errorf("a props error speaks of a context key: %v", err)
	}
}

func TestQueryFunctionPropsErrors(t *testing.T) {
	valid := func() QueryFunctionProps {
		return QueryFunctionProps{Vpc: fakeVpc{}, User: &DatabaseUser{provider: &UserProvider{}}, Binary: GoBinary{Dir: "/bin/query"}}
	}
	for _, tc := range []struct {
		name      string
		change    func(*QueryFunctionProps)
		wantField string
		want      []string
	}{
		{"zero values take the defaults", func(*QueryFunctionProps) {}, "", nil},
		{"memory below Lambda's", func(p *QueryFunctionProps) { p.MemoryMB = 64 }, "QueryFunctionProps.MemoryMB",
			[]string{"query function Query: QueryFunctionProps.MemoryMB 64 is out of range (allowed 128 to 10240 MB)"}},
		{"timeout above Lambda's", func(p *QueryFunctionProps) { p.TimeoutSeconds = 901 }, "QueryFunctionProps.TimeoutSeconds",
			[]string{"QueryFunctionProps.TimeoutSeconds 901 is out of range (allowed 1 to 900 seconds)"}},
		{"pool above iamdb's", func(p *QueryFunctionProps) { p.MaxConnections = 101 }, "QueryFunctionProps.MaxConnections",
			[]string{"101 is out of range (allowed 1 to 100 connections per container)"}},
		{"login rate above Aurora's", func(p *QueryFunctionProps) { p.MaxNewConnectionsPerSecond = 201 }, "QueryFunctionProps.MaxNewConnectionsPerSecond",
			[]string{"201 is out of range (allowed 1 to 200"}},
		{"negative retry", func(p *QueryFunctionProps) { p.AccessDeniedRetrySeconds = new(-1) }, "QueryFunctionProps.AccessDeniedRetrySeconds",
			[]string{"-1 is out of range (allowed 0 to 300 seconds (0: no retry))"}},
		{"dial above iamdb's", func(p *QueryFunctionProps) { p.DialTimeoutSeconds = 61 }, "QueryFunctionProps.DialTimeoutSeconds",
			[]string{"61 is out of range (allowed 1 to 60 seconds)"}},
		{"read timeout not below the function's", func(p *QueryFunctionProps) { p.TimeoutSeconds, p.ReadTimeoutSeconds = 15, 15 },
			"QueryFunctionProps.ReadTimeoutSeconds", []string{"15 is out of range (allowed 1 to 14 seconds (below TimeoutSeconds, 15))"}},
		{"negative reserved concurrency", func(p *QueryFunctionProps) { p.ReservedConcurrency = new(-1) }, "QueryFunctionProps.ReservedConcurrency",
			[]string{"-1 is out of range (allowed 0 to 1000 (0 reserves none))"}},
		{"every mistake at once", func(p *QueryFunctionProps) { p.MemoryMB, p.DialTimeoutSeconds = 64, 61 }, "QueryFunctionProps.MemoryMB",
			[]string{"MemoryMB 64", "DialTimeoutSeconds 61"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := valid()
			tc.change(&p)
			checkPropsError(t, p.withDefaults().validate("Query"), tc.wantField, tc.want)
		})
	}
}

func TestClusterPropsErrors(t *testing.T) {
	valid := func() ClusterProps {
		d := DefaultConfig()
		return ClusterProps{Network: &Network{}, EngineVersion: d.EngineVersion, Writer: d.Writer, InstanceClass: d.InstanceClass,
			MinCapacity: &d.MinCapacity, MaxCapacity: &d.MaxCapacity, BackupRetentionDays: d.BackupRetentionDays,
			RemovalPolicy: d.RemovalPolicy, LogRetentionDays: d.LogRetentionDays}
	}
	for _, tc := range []struct {
		name      string
		change    func(*ClusterProps)
		wantField string
		want      []string
	}{
		{"valid", func(*ClusterProps) {}, "", nil},
		{"provisioned", func(p *ClusterProps) { p.Writer, p.MinCapacity, p.MaxCapacity = WriterProvisioned, new(0.0), new(0.0) }, "", nil},
		{"engine below the minimum", func(p *ClusterProps) { p.EngineVersion = "3.03.0" }, "ClusterProps.EngineVersion",
			[]string{`cluster C: ClusterProps.EngineVersion "3.03.0" is not valid (allowed an Aurora MySQL 3 version "3.MM.P" at or above 3.04.0`}},
		{"the minimum itself", func(p *ClusterProps) { p.EngineVersion = MinEngineVersion }, "", nil},
		{"zero value takes the defaults", func(p *ClusterProps) { *p = ClusterProps{Network: &Network{}} }, "", nil},
		{"unknown writer", func(p *ClusterProps) { p.Writer = "aurora" }, "ClusterProps.Writer", []string{`"aurora"`, `"serverless-v2" or "provisioned"`}},
		{"class without IAM auth", func(p *ClusterProps) { p.Writer, p.InstanceClass = WriterProvisioned, "db.t3.small" }, "ClusterProps.InstanceClass",
			[]string{`"db.t3.small" is not valid: IAM database authentication is not supported on this class`}},
		{"quarter ACU", func(p *ClusterProps) { p.MinCapacity = new(0.25) }, "ClusterProps.MinCapacity", []string{"0.25 is not valid"}},
		{"max below min", func(p *ClusterProps) { p.MinCapacity, p.MaxCapacity = new(4.0), new(2.0) }, "ClusterProps.MaxCapacity", []string{"below MinCapacity (4)"}},
		{"pause too soon", func(p *ClusterProps) { p.MinCapacity, p.AutoPauseSeconds = new(0.0), 60 }, "ClusterProps.AutoPauseSeconds",
			[]string{"60 is out of range (allowed 300 to 86400 seconds)"}},
		{"backups past Aurora's limit", func(p *ClusterProps) { p.BackupRetentionDays = 36 }, "ClusterProps.BackupRetentionDays", []string{"36 is out of range (allowed 1 to 35 days)"}},
		{"negative backups", func(p *ClusterProps) { p.BackupRetentionDays = -1 }, "ClusterProps.BackupRetentionDays", []string{"-1 is out of range"}},
		{"removal policy", func(p *ClusterProps) { p.RemovalPolicy = "delete" }, "ClusterProps.RemovalPolicy", []string{`"delete" is not valid`}},
		{"too many readers", func(p *ClusterProps) { p.Readers = 16 }, "ClusterProps.Readers", []string{"16 is out of range (allowed 0 to 15"}},
		{"retention CloudWatch lacks", func(p *ClusterProps) { p.LogRetentionDays = 10 }, "ClusterProps.LogRetentionDays", []string{"10 is not valid"}},
		{"retention unused without export", func(p *ClusterProps) { p.DisableIamAuthLogExport, p.LogRetentionDays = true, 10 }, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := valid()
			tc.change(&p)
			checkPropsError(t, p.withDefaults().validate("C"), tc.wantField, tc.want)
		})
	}
}

// TestContextKeyWording: the same bad value through the app's configuration
// names the context key, not a props field.
func TestContextKeyWording(t *testing.T) {
	for _, tc := range []struct {
		key   string
		value any
		want  string
	}{
		{"functionMemoryMb", 64.0, `context key "functionMemoryMb": invalid value 64; allowed: 128 to 10240 MB`},
		{"engineVersion", "3.03.9", `context key "engineVersion": invalid value "3.03.9"; allowed: an Aurora MySQL 3 version "3.MM.P" at or above 3.04.0`},
		{"readers", "16", `context key "readers": invalid value 16; allowed: 0 to 15 reader instances`},
		{"readTimeoutSeconds", "15", `context key "readTimeoutSeconds": invalid value 15; allowed: 1 to 14 seconds: less than functionTimeoutSeconds (15)`},
	} {
		_, err := ConfigFromContext(func(k string) any {
			if k == tc.key {
				return tc.value
			}
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "Props.") {
			t.Errorf("%s=%v: err = %v\nwant it to contain %q", tc.key, tc.value, err, tc.want)
		}
	}
}

// fakeCluster stands for a cluster where props are only validated.
type fakeCluster struct{ awsrds.IDatabaseCluster }

// TestLibraryPropsErrors: the required references missing, or a value out
// of range, are refused before any construct is made, naming the field.
func TestLibraryPropsErrors(t *testing.T) {
	sized := &Cluster{writer: WriterServerlessV2, maxConnections: 90}
	for _, tc := range []struct {
		name string
		new  func() error
		want string
	}{
		{"query function without its references", func() error {
			_, err := NewQueryFunction(nil, "Query", QueryFunctionProps{})
			return err
		}, "query function Query: QueryFunctionProps.Binary, User, Vpc required"},
		{"query function with a user not made by NewDatabaseUser", func() error {
			_, err := NewQueryFunction(nil, "Query", QueryFunctionProps{Vpc: fakeVpc{}, User: &DatabaseUser{}, Binary: GoBinary{Dir: "/bin/query"}})
			return err
		}, "QueryFunctionProps.User has no user provider: make it with NewDatabaseUser"},
		{"proxy without its references", func() error {
			_, err := NewProxy(nil, "Proxy", ProxyProps{})
			return err
		}, "proxy Proxy: ProxyProps.Cluster and Vpc are required"},
		{"proxy above every connection", func() error {
			_, err := NewProxy(nil, "Proxy", ProxyProps{Cluster: fakeCluster{}, Vpc: fakeVpc{}, MaxConnectionsPercent: 101})
			return err
		}, "ProxyProps.MaxConnectionsPercent 101 is out of range (allowed 1 to 100 percent"},
		{"monitoring without its references", func() error {
			_, err := NewMonitoring(nil, "Monitoring", MonitoringProps{})
			return err
		}, "monitoring Monitoring: Cluster and Function are required"},
		{"monitoring of an unknown writer", func() error {
			_, err := NewMonitoring(nil, "Monitoring", MonitoringProps{Cluster: sized, Function: &QueryFunction{}, Writer: "aurora"})
			return err
		}, `MonitoringProps.Writer "aurora" is not valid`},
		{"monitoring with a negative limit", func() error {
			_, err := NewMonitoring(nil, "Monitoring", MonitoringProps{Cluster: sized, Function: &QueryFunction{}, MaxConnections: -1})
			return err
		}, "MonitoringProps.MaxConnections -1 is out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.new(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestNetworkPropsErrors(t *testing.T) {
	existing := func() NetworkProps {
		return NetworkProps{VpcID: "vpc-0123456789abcdef0", SubnetIDs: []string{"subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"},
			AvailabilityZones: []string{"eu-west-1a", "eu-west-1b"}}
	}
	for _, tc := range []struct {
		name      string
		props     func() NetworkProps
		wantField string
		want      []string
	}{
		{"zero value: a new VPC with the endpoint", func() NetworkProps { return NetworkProps{} }, "", nil},
		{"an existing VPC", existing, "", nil},
		{"an existing VPC that has its own endpoint", func() NetworkProps { p := existing(); p.NoSecretsManagerEndpoint = true; return p }, "", nil},
		{"malformed VPC id", func() NetworkProps { p := existing(); p.VpcID = "vpc-XYZ"; return p }, "NetworkProps.VpcID",
			[]string{`network N: NetworkProps.VpcID "vpc-XYZ" is not valid`}},
		{"malformed subnet id", func() NetworkProps { p := existing(); p.SubnetIDs[1] = "subnet-1"; return p }, "NetworkProps.SubnetIDs",
			[]string{`"subnet-1" is malformed`}},
		{"subnets without a VPC", func() NetworkProps { p := existing(); p.VpcID = ""; return p }, "NetworkProps.SubnetIDs",
			[]string{"none without VpcID"}},
		{"a new VPC without the endpoint", func() NetworkProps { return NetworkProps{NoSecretsManagerEndpoint: true} }, "NetworkProps.NoSecretsManagerEndpoint",
			[]string{"no other way to Secrets Manager"}},
		{"one subnet", func() NetworkProps {
			p := existing()
			p.SubnetIDs, p.AvailabilityZones = p.SubnetIDs[:1], p.AvailabilityZones[:1]
			return p
		},
			"NetworkProps.SubnetIDs", []string{"at least two subnet ids"}},
		{"a zone missing", func() NetworkProps { p := existing(); p.AvailabilityZones = p.AvailabilityZones[:1]; return p },
			"NetworkProps.AvailabilityZones", []string{"one availability zone per subnet id, in the same order (2)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkPropsError(t, tc.props().validate("N"), tc.wantField, tc.want)
		})
	}
}
