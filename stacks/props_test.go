package stacks

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/internal/jsiinode"
	"github.com/rdsiam/rdsiam/internal/modroot"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// TestMain runs the package's tests under the pinned Node.js (jsii needs 22
// or 24), as test/ does: the synthesis tests below start jsii.
func TestMain(m *testing.M) {
	root, err := modroot.Find(".")
	if err == nil {
		err = jsiinode.Use(root)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stacks tests:", err)
		os.Exit(2)
	}
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// fakeVpc stands for a VPC where props are only validated: a non-nil IVpc
// none of whose methods is called.
type fakeVpc struct{ awsec2.IVpc }

// fakeBinary is a Lambda asset directory: CDK hashes it, nothing runs it.
func fakeBinary(t *testing.T) GoBinary {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("not a binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	return GoBinary{Dir: dir}
}

// cfn is a synthesized template as JSON.
type cfn map[string]any

// synthStack builds a stack with build and returns its template; build's
// error fails the test.
func synthStack(t *testing.T, build func(stack awscdk.Stack) error) cfn {
	t.Helper()
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Props"), nil)
	if err := build(stack); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var out cfn
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// one returns the only resource of type typ (the whole resource: Type,
// Properties, DeletionPolicy ...), failing when there is not exactly one.
func (c cfn) one(t *testing.T, typ string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, r := range c["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == typ {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(found), typ)
	}
	return found[0]
}

// queryFunction is the query function: of the template's functions (the
// user provider's handler and CDK's are others), the one with the
// connector's tuning variables.
func (c cfn) queryFunction(t *testing.T) map[string]any {
	t.Helper()
	for _, r := range c["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == "AWS::Lambda::Function" && prop(r, "Environment.Variables."+queryfn.EnvMaxConns) != nil {
			return r
		}
	}
	t.Fatal("no query function in the template")
	return nil
}

// prop is resource r's property at path ("A.B" walks into objects).
func prop(r map[string]any, path string) any {
	var v any = r["Properties"]
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// jsonText is v as compact JSON, for comparing values of any shape.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// libraryStack builds network, cluster, user provider, one user, a proxy
// (withProxy) and the query function and monitoring on them, from the props
// given; the references each props struct requires are filled in here.
func libraryStack(t *testing.T, network NetworkProps, cluster ClusterProps, withProxy bool,
	query QueryFunctionProps, monitoring MonitoringProps) func(awscdk.Stack) error {
	bin := fakeBinary(t)
	return func(stack awscdk.Stack) error {
		var err error
		if cluster.Network, err = NewNetwork(stack, "Network", network); err != nil {
			return err
		}
		cl, err := NewCluster(stack, "Cluster", cluster)
		if err != nil {
			return err
		}
		vpc := cluster.Network.Vpc
		users, err := NewUserProvider(stack, "Users", UserProviderProps{Cluster: cl.DB, AdminSecret: cl.DB.Secret(), Vpc: vpc, Binary: bin})
		if err != nil {
			return err
		}
		query.User, err = NewDatabaseUser(stack, "User", DatabaseUserProps{
			Provider: users, UserName: "app_user", DatabaseName: "appdb", Grants: []string{"SELECT"},
		})
		if err != nil {
			return err
		}
		if withProxy {
			proxy, err := NewProxy(stack, "Proxy", ProxyProps{Cluster: cl.DB, Vpc: vpc})
			if err != nil {
				return err
			}
			query.Proxy = proxy.DB
		}
		query.Vpc, query.Binary = vpc, bin
		if monitoring.Function, err = NewQueryFunction(stack, "Query", query); err != nil {
			return err
		}
		monitoring.Cluster = cl
		_, err = NewMonitoring(stack, "Monitoring", monitoring)
		return err
	}
}

// valueCase is one value of a synthesized template and what it must be.
type valueCase struct {
	name      string
	got, want any
}

// checkValues compares each case's values as JSON.
func checkValues(t *testing.T, cases []valueCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if jsonText(tc.got) != jsonText(tc.want) {
				t.Errorf("got %s, want %s", jsonText(tc.got), jsonText(tc.want))
			}
		})
	}
}

// count is how many resources of type typ c has.
func (c cfn) count(typ string) int {
	n := 0
	for _, r := range c["Resources"].(map[string]any) {
		if r.(map[string]any)["Type"] == typ {
			n++
		}
	}
	return n
}

// alarmThreshold is the threshold of the alarm named <stack>-<id>.
func (c cfn) alarmThreshold(id string) any {
	for _, r := range c["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == "AWS::CloudWatch::Alarm" && prop(r, "AlarmName") == "Props-"+id {
			return prop(r, "Threshold")
		}
	}
	return nil
}

// TestZeroPropsAreSafe: constructs given only their required references
// synthesize the app's safe defaults, taken from the key table
// (DefaultConfig), not from literals repeated here.
func TestZeroPropsAreSafe(t *testing.T) {
	d := DefaultConfig()
	proxyPercent, err := d.ProxyMaxConnectionsPercent()
	if err != nil {
		t.Fatal(err)
	}
	maxConns, _, err := AuroraMaxConnections(d)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := synthStack(t, libraryStack(t, NetworkProps{}, ClusterProps{}, true, QueryFunctionProps{}, MonitoringProps{}))
	cluster := tmpl.one(t, "AWS::RDS::DBCluster")
	fn := tmpl.queryFunction(t)
	checkValues(t, []valueCase{
		{"deletion protection on", prop(cluster, "DeletionProtection"), true},
		{"backups kept the default days", prop(cluster, "BackupRetentionPeriod"), float64(d.BackupRetentionDays)},
		{"a snapshot on removal", cluster["DeletionPolicy"], "Snapshot"},
		{"a snapshot on replacement", cluster["UpdateReplacePolicy"], "Snapshot"},
		{"IAM authentication", prop(cluster, "EnableIAMDatabaseAuthentication"), true},
		{"storage encrypted", prop(cluster, "StorageEncrypted"), true},
		{"the default engine version", prop(cluster, "EngineVersion"), "8.0.mysql_aurora." + d.EngineVersion},
		{"the default capacity, never paused", prop(cluster, "ServerlessV2ScalingConfiguration"),
			map[string]any{"MinCapacity": d.MinCapacity, "MaxCapacity": d.MaxCapacity}},
		{"IAM auth errors exported", prop(cluster, "EnableCloudwatchLogsExports"), []any{IamAuthErrorLog}},
		{"kept the default retention", prop(tmpl.one(t, "Custom::LogRetention"), "RetentionInDays"), float64(d.LogRetentionDays)},
		{"TLS required by the server", prop(tmpl.one(t, "AWS::RDS::DBClusterParameterGroup"), "Parameters.require_secure_transport"), "ON"},
		{"the Secrets Manager endpoint", jsonText(prop(tmpl.one(t, "AWS::EC2::VPCEndpoint"), "ServiceName")),
			`{"Fn::Join":["",["com.amazonaws.",{"Ref":"AWS::Region"},".secretsmanager"]]}`},
		{"the proxy leaves the default headroom", prop(tmpl.one(t, "AWS::RDS::DBProxyTargetGroup"), "ConnectionPoolConfigurationInfo.MaxConnectionsPercent"),
			float64(proxyPercent)},
		{"the proxy requires TLS", prop(tmpl.one(t, "AWS::RDS::DBProxy"), "RequireTLS"), true},
		{"the function's concurrency is capped", prop(fn, "ReservedConcurrentExecutions"), float64(d.FunctionReservedConcurrency)},
		{"the function's memory", prop(fn, "MemorySize"), float64(d.FunctionMemoryMB)},
		{"access-denied logins retried", prop(fn, "Environment.Variables."+queryfn.EnvAccessDeniedRetrySeconds), fmt.Sprint(d.AccessDeniedRetrySeconds)},
		{"the default pool", prop(fn, "Environment.Variables."+queryfn.EnvMaxConns), fmt.Sprint(d.MaxConnections)},
		{"every alarm", tmpl.count("AWS::CloudWatch::Alarm"), len(AlarmSpecs())},
		{"the connections alarm sized from the cluster", tmpl.alarmThreshold("ConnectionsNearLimit"), float64(maxConns * ConnectionsAlarmPercent / 100)},
		{"the dashboard, with the auth log's widget", strings.Contains(jsonText(prop(tmpl.one(t, "AWS::CloudWatch::Dashboard"), "DashboardBody")), IamAuthErrorLog), true},
	})
}

// TestPropsTurnDefaultsOff: each switch away from a safe default does what
// it says, so the zero values above are not simply all the construct can
// do.
func TestPropsTurnDefaultsOff(t *testing.T) {
	tmpl := synthStack(t, libraryStack(t,
		NetworkProps{VpcID: "vpc-0123456789abcdef0", SubnetIDs: []string{"subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"},
			AvailabilityZones: []string{"eu-west-1a", "eu-west-1b"}, NoSecretsManagerEndpoint: true},
		ClusterProps{DisableDeletionProtection: true, RemovalPolicy: "destroy", DisableIamAuthLogExport: true,
			BackupRetentionDays: 1, MinCapacity: new(0.0)},
		false,
		QueryFunctionProps{ReservedConcurrency: new(0), AccessDeniedRetrySeconds: new(0)},
		MonitoringProps{NoAlarms: true, NoDashboard: true}))
	cluster := tmpl.one(t, "AWS::RDS::DBCluster")
	query := tmpl.queryFunction(t)
	checkValues(t, []valueCase{
		{"deletion protection off", prop(cluster, "DeletionProtection"), false},
		{"destroyed on removal", cluster["DeletionPolicy"], "Delete"},
		{"one day of backups", prop(cluster, "BackupRetentionPeriod"), 1.0},
		{"no log export", prop(cluster, "EnableCloudwatchLogsExports"), nil},
		{"pauses when idle", prop(cluster, "ServerlessV2ScalingConfiguration.SecondsUntilAutoPause"), float64(MinAutoPauseSeconds)},
		{"no Secrets Manager endpoint", tmpl.count("AWS::EC2::VPCEndpoint"), 0},
		{"no alarms", tmpl.count("AWS::CloudWatch::Alarm"), 0},
		{"no dashboard", tmpl.count("AWS::CloudWatch::Dashboard"), 0},
		{"no reserved concurrency", prop(query, "ReservedConcurrentExecutions"), nil},
		{"no access-denied retry", prop(query, "Environment.Variables."+queryfn.EnvAccessDeniedRetrySeconds), "0"},
	})
}

// importedCluster is a cluster of another stack, by attributes, on port;
// readers adds its reader endpoint, engine its engine.
func importedCluster(stack awscdk.Stack, port float64, readers, engine bool) awsrds.IDatabaseCluster {
	attrs := &awsrds.DatabaseClusterAttributes{
		ClusterIdentifier:         jsii.String("orders"),
		ClusterResourceIdentifier: jsii.String("cluster-ORDERS7EXAMPLE0123456789"),
		ClusterEndpointAddress:    jsii.String("orders.cluster-c0a1b2c3d4e5.eu-west-1.rds.amazonaws.com"),
		Port:                      jsii.Number(port),
		SecurityGroups: &[]awsec2.ISecurityGroup{
			awsec2.SecurityGroup_FromSecurityGroupId(stack, jsii.String("ClusterSG"), jsii.String("sg-0a1b2c3d4e5f60718"), nil),
		},
	}
	if readers {
		attrs.ReaderEndpointAddress = jsii.String("orders.cluster-ro-c0a1b2c3d4e5.eu-west-1.rds.amazonaws.com")
	}
	if engine {
		attrs.Engine = awsrds.DatabaseClusterEngine_AURORA_MYSQL()
	}
	return awsrds.DatabaseCluster_FromDatabaseClusterAttributes(stack, jsii.String("Cluster"), attrs)
}

// TestQueryFunctionOnImportedCluster: the query function and the proxy take
// any IDatabaseCluster; what an imported cluster lacks, or a created one
// without readers, is a synth error naming it, not a jsii panic.
func TestQueryFunctionOnImportedCluster(t *testing.T) {
	bin := fakeBinary(t)
	for _, tc := range []struct {
		name            string
		readers, engine bool
		readFromReaders bool
		proxy           bool
		createdCluster  bool
		// port is the imported cluster's; 0 means 3306.
		port    float64
		wantErr string
		// wantEnv are variables the function must have.
		wantEnv map[string]string
	}{
		{name: "writer only", wantEnv: map[string]string{
			queryfn.EnvEndpoint: "orders.cluster-c0a1b2c3d4e5.eu-west-1.rds.amazonaws.com", queryfn.EnvPort: "3306", queryfn.EnvUser: "orders_api"}},
		{name: "reads from readers", readers: true, readFromReaders: true, wantEnv: map[string]string{
			queryfn.EnvReaderEndpoint: "orders.cluster-ro-c0a1b2c3d4e5.eu-west-1.rds.amazonaws.com"}},
		{name: "reads from readers the import does not name", readFromReaders: true,
			wantErr: "QueryFunctionProps.ReadFromReaders: the cluster's reader endpoint (an imported cluster needs its ReaderEndpointAddress attribute)"},
		{name: "a created cluster without readers", createdCluster: true, readFromReaders: true,
			wantErr: "QueryFunctionProps.ReadFromReaders: the cluster has no readers"},
		{name: "a proxy on the imported cluster", engine: true, proxy: true, wantEnv: map[string]string{queryfn.EnvPort: "3306"}},
		{name: "a proxy, and readers on another port", engine: true, proxy: true, readers: true, readFromReaders: true, port: 3307,
			wantErr: "QueryFunctionProps.ReadFromReaders: with a proxy, DB_PORT is the proxy's (3306) and the readers listen on 3307"},
		{name: "a proxy on a cluster without its engine", proxy: true,
			wantErr: "proxy Proxy: ProxyProps.Cluster as the proxy's target (an imported cluster needs its Engine attribute)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := awscdk.NewApp(nil)
			stack := awscdk.NewStack(app, jsii.String("Consumer"), nil)
			vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
				VpcId:             jsii.String("vpc-0a1b2c3d4e5f60718"),
				AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b"),
				IsolatedSubnetIds: jsii.Strings("subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"),
			})
			var cluster awsrds.IDatabaseCluster
			if tc.createdCluster {
				c, err := NewCluster(stack, "Created", ClusterProps{Network: &Network{Vpc: vpc,
					Subnets: &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}}})
				if err != nil {
					t.Fatal(err)
				}
				cluster = c.DB
			} else {
				cluster = importedCluster(stack, cmp.Or(tc.port, DatabasePort), tc.readers, tc.engine)
			}
			err := func() error {
				users, err := NewUserProvider(stack, "Users", UserProviderProps{Cluster: cluster, AdminSecret: awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("Admin"),
					jsii.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-admin-AbCdEf")), Vpc: vpc, Binary: bin})
				if err != nil {
					return err
				}
				user, err := NewDatabaseUser(stack, "User", DatabaseUserProps{Provider: users, UserName: "orders_api", DatabaseName: "orders", Grants: []string{"SELECT"}})
				if err != nil {
					return err
				}
				props := QueryFunctionProps{Vpc: vpc, User: user, Binary: bin, ReadFromReaders: tc.readFromReaders}
				if tc.proxy {
					p, err := NewProxy(stack, "Proxy", ProxyProps{Cluster: cluster, Vpc: vpc})
					if err != nil {
						return err
					}
					props.Proxy = p.DB
				}
				_, err = NewQueryFunction(stack, "Query", props)
				return err
			}()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tmpl := assertions.Template_FromStack(stack, nil)
			vars := map[string]any{}
			for k, v := range tc.wantEnv {
				vars[k] = v
			}
			tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
				"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&vars)},
			})
			// The function's way in: egress to the imported cluster's
			// security group (or the proxy's) on the port.
			dest := any(map[string]any{"Fn::GetAtt": assertions.Match_AnyValue()})
			if !tc.proxy {
				dest = "sg-0a1b2c3d4e5f60718"
			}
			tmpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupEgress"), map[string]any{
				"Description": queryFunctionRule, "FromPort": 3306, "DestinationSecurityGroupId": dest,
			})
		})
	}
}
