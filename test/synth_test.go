package test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestClusterSecuritySettings(t *testing.T) {
	for _, variant := range []string{"default", "provisioned", "existing-vpc"} {
		t.Run(variant, func(t *testing.T) {
			tp := tmpl(t, variant)
			_, cluster := tp.only(t, "AWS::RDS::DBCluster")
			p := cluster.Properties
			checks := map[string]any{
				"EnableIAMDatabaseAuthentication": true,
				"StorageEncrypted":                true,
				"Engine":                          "aurora-mysql",
				"EngineVersion":                   "8.0.mysql_aurora.3.08.2",
				"Port":                            float64(3306),
				"BackupRetentionPeriod":           float64(7),
			}
			for key, want := range checks {
				if !jsonEqual(p[key], want) {
					t.Errorf("DBCluster.%s = %s, want %s", key, asJSON(p[key]), asJSON(want))
				}
			}
			wantProtection := variant != "existing-vpc"
			if p["DeletionProtection"] != wantProtection {
				t.Errorf("DeletionProtection = %v, want %v", p["DeletionProtection"], wantProtection)
			}
			// RDS generates, stores and rotates the master password: the
			// template holds none, not even a reference.
			if p["ManageMasterUserPassword"] != true || p["MasterUserPassword"] != nil {
				t.Errorf("ManageMasterUserPassword = %v, MasterUserPassword = %s; want RDS-managed master password",
					p["ManageMasterUserPassword"], asJSON(p["MasterUserPassword"]))
			}

			// TLS is required by the server through the cluster parameter group.
			pgID, pg := tp.only(t, "AWS::RDS::DBClusterParameterGroup")
			if !jsonEqual(p["DBClusterParameterGroupName"], ref(pgID)) {
				t.Errorf("cluster uses parameter group %s, want %s", asJSON(p["DBClusterParameterGroupName"]), pgID)
			}
			params, _ := pg.Properties["Parameters"].(map[string]any)
			if params["require_secure_transport"] != "ON" {
				t.Errorf("require_secure_transport = %v, want ON", params["require_secure_transport"])
			}

			for _, id := range tp.OfType("AWS::RDS::DBInstance") {
				ip := tp.Resources[id].Properties
				if ip["PubliclyAccessible"] != false {
					t.Errorf("instance %s PubliclyAccessible = %v, want false", id, ip["PubliclyAccessible"])
				}
				wantClass := "db.serverless"
				if variant == "provisioned" {
					wantClass = "db.r7g.large"
				}
				if ip["DBInstanceClass"] != wantClass {
					t.Errorf("instance %s class = %v, want %s", id, ip["DBInstanceClass"], wantClass)
				}
			}
		})
	}
}

func TestNetwork(t *testing.T) {
	tp := tmpl(t, "default")
	if n := len(tp.OfType("AWS::EC2::NatGateway")); n != 0 {
		t.Errorf("%d NAT gateways, want none", n)
	}
	if n := len(tp.OfType("AWS::EC2::InternetGateway")); n != 0 {
		t.Errorf("%d internet gateways, want none", n)
	}
	if n := len(tp.OfType("AWS::EC2::Subnet")); n != 2 {
		t.Errorf("%d subnets, want 2 isolated (2 AZs)", n)
	}
	for _, id := range tp.OfType("AWS::EC2::Subnet") {
		if tp.Resources[id].Properties["MapPublicIpOnLaunch"] == true {
			t.Errorf("subnet %s maps public IPs", id)
		}
	}
	_, ep := tp.only(t, "AWS::EC2::VPCEndpoint")
	if !strings.Contains(asJSON(ep.Properties["ServiceName"]), "secretsmanager") {
		t.Errorf("VPC endpoint service = %s, want Secrets Manager", asJSON(ep.Properties["ServiceName"]))
	}
	if len(tp.OfType("AWS::EC2::FlowLog")) != 1 {
		t.Errorf("want a VPC flow log")
	}

	ext := tmpl(t, "existing-vpc")
	if n := len(ext.OfType("AWS::EC2::VPC")); n != 0 {
		t.Errorf("existing VPC variant creates %d VPCs", n)
	}
	_, sng := ext.only(t, "AWS::RDS::DBSubnetGroup")
	want := []any{"subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"}
	if !jsonEqual(sng.Properties["SubnetIds"], want) {
		t.Errorf("subnet group = %s, want %s", asJSON(sng.Properties["SubnetIds"]), asJSON(want))
	}
}

// policyStatements returns every statement of every AWS::IAM::Policy and
// inline role policy, with the logical id of the role(s) it is attached to.
func policyStatements(tp *template) map[string][]map[string]any {
	byRole := map[string][]map[string]any{}
	add := func(role string, doc any) {
		d, _ := doc.(map[string]any)
		stmts, _ := d["Statement"].([]any)
		for _, s := range stmts {
			if m, ok := s.(map[string]any); ok {
				byRole[role] = append(byRole[role], m)
			}
		}
	}
	for _, id := range tp.OfType("AWS::IAM::Policy") {
		p := tp.Resources[id].Properties
		roles, _ := p["Roles"].([]any)
		for _, r := range roles {
			if m, ok := r.(map[string]any); ok {
				add(m["Ref"].(string), p["PolicyDocument"])
			}
		}
	}
	for _, id := range tp.OfType("AWS::IAM::Role") {
		pols, _ := tp.Resources[id].Properties["Policies"].([]any)
		for _, pol := range pols {
			if m, ok := pol.(map[string]any); ok {
				add(id, m["PolicyDocument"])
			}
		}
	}
	return byRole
}

func actionsOf(stmt map[string]any) []string {
	switch a := stmt["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

func TestConnectPermissionNamesClusterResourceIDAndUser(t *testing.T) {
	tp := tmpl(t, "default")
	clusterID, _ := tp.only(t, "AWS::RDS::DBCluster")
	queryRole, _ := tp.byPrefix(t, "AWS::IAM::Role", "QueryFunctionRole")

	var found []string
	for role, stmts := range policyStatements(tp) {
		for _, s := range stmts {
			for _, a := range actionsOf(s) {
				if strings.HasPrefix(strings.ToLower(a), "rds-db:") {
					found = append(found, role)
					if a != "rds-db:connect" {
						t.Errorf("role %s has %s, want only rds-db:connect", role, a)
					}
					want := map[string]any{"Fn::Join": []any{"", []any{
						"arn:", ref("AWS::Partition"), ":rds-db:", ref("AWS::Region"), ":",
						ref("AWS::AccountId"), ":dbuser:", getAtt(clusterID, "DBClusterResourceId"), "/app_user",
					}}}
					if !jsonEqual(s["Resource"], want) {
						t.Errorf("rds-db:connect resource = %s\nwant %s", asJSON(s["Resource"]), asJSON(want))
					}
					if s["Effect"] != "Allow" || s["Condition"] != nil {
						t.Errorf("rds-db statement: %s", asJSON(s))
					}
				}
			}
		}
	}
	if !slices.Equal(found, []string{queryRole}) {
		t.Errorf("rds-db statements on roles %v, want exactly one on %s", found, queryRole)
	}
}

func TestSecurityGroupRules(t *testing.T) {
	tp := tmpl(t, "default")
	clusterSG, _ := tp.byPrefix(t, "AWS::EC2::SecurityGroup", "ClusterSecurityGroup")
	querySG, _ := tp.byPrefix(t, "AWS::EC2::SecurityGroup", "QueryFunctionSecurityGroup")
	handlerSG, _ := tp.byPrefix(t, "AWS::EC2::SecurityGroup", "DatabaseUsersHandlerSecurityGroup")

	sources := clusterIngressSources(t, tp, clusterSG)
	slices.Sort(sources)
	want := []string{handlerSG, querySG}
	slices.Sort(want)
	if !slices.Equal(sources, want) {
		t.Errorf("cluster admits %v, want exactly %v", sources, want)
	}
	// Nothing anywhere admits the internet, and the cluster has no inline
	// ingress that could bypass the rules above.
	if strings.Contains(string(tp.Raw), `"0.0.0.0/0"`) && hasOpenIngress(tp) {
		t.Errorf("a security group admits 0.0.0.0/0")
	}
	if ing := tp.Resources[clusterSG].Properties["SecurityGroupIngress"]; ing != nil {
		t.Errorf("cluster security group has inline ingress %s", asJSON(ing))
	}
}

// clusterIngressSources are the security groups the cluster's group admits,
// failing the test for a rule that is not tcp 3306 from a security group.
func clusterIngressSources(t *testing.T, tp *template, clusterSG string) []string {
	t.Helper()
	var sources []string
	for _, id := range tp.OfType("AWS::EC2::SecurityGroupIngress") {
		p := tp.Resources[id].Properties
		if !jsonEqual(p["GroupId"], getAtt(clusterSG, "GroupId")) {
			continue
		}
		if p["FromPort"] != float64(3306) || p["ToPort"] != float64(3306) || p["IpProtocol"] != "tcp" {
			t.Errorf("cluster ingress %s: %s, want tcp 3306 only", id, asJSON(p))
		}
		src, _ := p["SourceSecurityGroupId"].(map[string]any)
		att, _ := src["Fn::GetAtt"].([]any)
		if len(att) != 2 {
			t.Errorf("cluster ingress %s has no security-group source: %s", id, asJSON(p))
			continue
		}
		sources = append(sources, att[0].(string))
	}
	return sources
}

// hasOpenIngress reports an ingress rule from 0.0.0.0/0 or ::/0.
func hasOpenIngress(tp *template) bool {
	open := func(p map[string]any) bool { return p["CidrIp"] == "0.0.0.0/0" || p["CidrIpv6"] == "::/0" }
	for _, id := range tp.OfType("AWS::EC2::SecurityGroupIngress") {
		if open(tp.Resources[id].Properties) {
			return true
		}
	}
	for _, id := range tp.OfType("AWS::EC2::SecurityGroup") {
		rules, _ := tp.Resources[id].Properties["SecurityGroupIngress"].([]any)
		for _, r := range rules {
			if m, ok := r.(map[string]any); ok && open(m) {
				return true
			}
		}
	}
	return false
}

func TestDatabaseUserCustomResource(t *testing.T) {
	for _, tc := range []struct {
		variant, retain, existing string
	}{{"default", "false", "refuse"}, {"existing-vpc", "true", "adopt"}} {
		tp := tmpl(t, tc.variant)
		clusterID, _ := tp.only(t, "AWS::RDS::DBCluster")
		_, cr := tp.byPrefix(t, "Custom::DatabaseUser", "AppUser") // the function's; the human users have their own test
		p := cr.Properties
		want := map[string]any{
			"UserName":       "app_user",
			"DatabaseName":   "appdb",
			"Privileges":     []any{"INSERT", "SELECT"},
			"RetainOnDelete": tc.retain,
			"ExistingUser":   tc.existing,
			"Port":           "3306",
			"SecretArn":      getAtt(clusterID, "MasterUserSecret.SecretArn"),
			"Endpoint":       getAtt(clusterID, "Endpoint.Address"),
		}
		for key, w := range want {
			if !jsonEqual(p[key], w) {
				t.Errorf("%s: Custom::DatabaseUser.%s = %s, want %s", tc.variant, key, asJSON(p[key]), asJSON(w))
			}
		}
		for key := range p {
			if _, ok := want[key]; !ok && key != "ServiceToken" {
				t.Errorf("%s: unexpected custom resource property %s", tc.variant, key)
			}
		}
		// The resource waits for the whole cluster (writer included).
		deps := asJSON(cr.DependsOn)
		if !strings.Contains(deps, clusterID) {
			t.Errorf("%s: custom resource DependsOn %s, want the cluster %s", tc.variant, deps, clusterID)
		}
	}
}

// The sample app's table is a resource of its own, on the users' provider,
// with the cluster's address and the app's database only; the query
// function, whose actions use it, waits for it.
func TestSampleTableCustomResource(t *testing.T) {
	tp := tmpl(t, "default")
	clusterID, _ := tp.only(t, "AWS::RDS::DBCluster")
	id, table := tp.only(t, "Custom::SampleTable")
	_, user := tp.byPrefix(t, "Custom::DatabaseUser", "AppUser")
	want := map[string]any{
		"ServiceToken": user.Properties["ServiceToken"],
		"DatabaseName": "appdb",
		"Port":         "3306",
		"SecretArn":    getAtt(clusterID, "MasterUserSecret.SecretArn"),
		"Endpoint":     getAtt(clusterID, "Endpoint.Address"),
	}
	if !jsonEqual(table.Properties, want) {
		t.Errorf("Custom::SampleTable properties %s, want %s", asJSON(table.Properties), asJSON(want))
	}
	if deps := asJSON(table.DependsOn); !strings.Contains(deps, clusterID) {
		t.Errorf("Custom::SampleTable DependsOn %s, want the cluster %s", deps, clusterID)
	}
	_, fn := tp.byPrefix(t, "AWS::Lambda::Function", "QueryFunction")
	if deps := asJSON(fn.DependsOn); !strings.Contains(deps, id) {
		t.Errorf("query function DependsOn %s, want the sample table %s", deps, id)
	}
}

func TestQueryFunction(t *testing.T) {
	tp := tmpl(t, "default")
	clusterID, _ := tp.only(t, "AWS::RDS::DBCluster")
	_, fn := tp.byPrefix(t, "AWS::Lambda::Function", "QueryFunction")
	p := fn.Properties
	checks := map[string]any{
		"Runtime":       "provided.al2023",
		"Architectures": []any{"arm64"},
		"Handler":       "bootstrap",
		"MemorySize":    float64(256),
		"Timeout":       float64(15),
	}
	for key, want := range checks {
		if !jsonEqual(p[key], want) {
			t.Errorf("query function %s = %s, want %s", key, asJSON(p[key]), asJSON(want))
		}
	}
	env, _ := p["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	wantVars := map[string]any{
		"DB_ENDPOINT": getAtt(clusterID, "Endpoint.Address"),
		"DB_PORT":     "3306",
		"DB_USER":     "app_user",
		"DB_NAME":     "appdb",
		"DB_REGION":   ref("AWS::Region"),
		// Connector tuning (defaults), read by queryfn.ConfigFromEnv.
		"DB_MAX_CONNS":                   "2",
		"DB_MAX_NEW_CONNS_PER_SECOND":    "10",
		"DB_ACCESS_DENIED_RETRY_SECONDS": "30",
		"DB_READ_TIMEOUT_SECONDS":        "5",
		"DB_DIAL_TIMEOUT_SECONDS":        "5",
	}
	if !jsonEqual(vars, wantVars) {
		t.Errorf("environment = %s\nwant %s", asJSON(vars), asJSON(wantVars))
	}
	// Required: it bounds the fleet inside max_connections.
	if p["ReservedConcurrentExecutions"] != float64(20) {
		t.Errorf("default reserves concurrency %v, want 20", p["ReservedConcurrentExecutions"])
	}
	_, prov := tmpl(t, "provisioned").byPrefix(t, "AWS::Lambda::Function", "QueryFunction")
	if prov.Properties["ReservedConcurrentExecutions"] != float64(50) {
		t.Errorf("functionReservedConcurrency=50 gives %v", prov.Properties["ReservedConcurrentExecutions"])
	}
	if vpc, _ := p["VpcConfig"].(map[string]any); vpc == nil {
		t.Errorf("query function is not in the VPC")
	}
	// No function's environment can reach a secret.
	for _, id := range tp.OfType("AWS::Lambda::Function") {
		e, _ := json.Marshal(tp.Resources[id].Properties["Environment"])
		low := strings.ToLower(string(e))
		for _, bad := range []string{"secret", "password", "token", "resolve:"} {
			if strings.Contains(low, bad) {
				t.Errorf("function %s environment mentions %q: %s", id, bad, e)
			}
		}
	}
}

func TestOutputs(t *testing.T) {
	tp := tmpl(t, "default")
	for _, name := range []string{"ClusterEndpoint", "ClusterResourceId", "FunctionName", "InvokeCommand"} {
		if _, ok := tp.Outputs[name]; !ok {
			t.Errorf("missing output %s", name)
		}
	}
	clusterID, _ := tp.only(t, "AWS::RDS::DBCluster")
	if !jsonEqual(tp.Outputs["ClusterResourceId"].Value, getAtt(clusterID, "DBClusterResourceId")) {
		t.Errorf("ClusterResourceId output = %s", asJSON(tp.Outputs["ClusterResourceId"].Value))
	}
	if s := asJSON(tp.Outputs["InvokeCommand"].Value); !strings.Contains(s, "aws lambda invoke") || !strings.Contains(s, "whoami") {
		t.Errorf("InvokeCommand output = %s", s)
	}
}

// TestSynthIsDeterministic: the same source gives the same bytes, so
// snapshots and `cdk diff` do not churn. (.ci/run also compares two synths
// through the CDK CLI, on a fresh clone.)
func TestSynthIsDeterministic(t *testing.T) {
	a, b := tmpl(t, "default").Raw, tmpl(t, "default-again").Raw
	if string(a) != string(b) {
		t.Errorf("two synths of the same configuration differ (%d vs %d bytes)", len(a), len(b))
	}
	// Asset hashes come from the binaries, which are built reproducibly.
	if !strings.Contains(string(a), ".zip") {
		t.Errorf("no Lambda asset in the template")
	}
}

// Two DatabaseUsers for one account on one cluster would revoke each other's
// grants and drop the account under each other: refused at synth, naming
// both construct paths.
func TestDuplicateUserNameRefused(t *testing.T) {
	err := duplicateUserErr
	if err == nil || !strings.Contains(err.Error(), "SecondUser") || !strings.Contains(err.Error(), "RdsIam/AppUser") ||
		!strings.Contains(err.Error(), `"APP_USER"`) {
		t.Fatalf("second user with the same name: %v; want an error naming both construct paths", err)
	}
}
