package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/auroralocal/cfntemplate"
	"github.com/rdsiam/rdsiam/auroralocal/fromstack"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
	"github.com/rdsiam/rdsiam/stacks"
)

// Synth assertions for the scale-out variants (template_test.go's
// "proxy", "readers" and "proxy-readers").

// connectResources returns, per role, the rds-db:connect resources its
// policies name, resolved for a stack "deployed" in eu-west-1 of account
// 123456789012 with the stand-in's cluster and proxy ids.
func connectResources(t *testing.T, variant string) (*fromstack.Stack, map[string][]string) {
	t.Helper()
	tp := tmpl(t, variant)
	s, err := fromstack.FromTemplate(tp.Template)
	if err != nil {
		t.Fatal(err)
	}
	env := s.Env(fromstack.Place{Partition: "aws", Region: "eu-west-1", Account: "123456789012",
		ClusterResourceID: "cluster-ABCDEFGHIJKLMNOPQRSTUVWXY0", Host: "localhost"})
	out := map[string][]string{}
	for role, stmts := range policyStatements(tp) {
		for _, st := range stmts {
			for _, a := range actionsOf(st) {
				if !strings.HasPrefix(strings.ToLower(a), "rds-db:") {
					continue
				}
				if a != "rds-db:connect" || st["Effect"] != "Allow" || st["Condition"] != nil {
					t.Errorf("%s: role %s statement %s: want a plain Allow of rds-db:connect", variant, role, asJSON(st))
				}
				r, err := cfntemplate.Resolve(st["Resource"], env)
				if err != nil {
					t.Fatalf("%s: resolve %s: %v", variant, asJSON(st["Resource"]), err)
				}
				// minimizePolicies merges statements: one Resource or a list.
				switch r := r.(type) {
				case string:
					out[role] = append(out[role], r)
				case []any:
					for _, x := range r {
						out[role] = append(out[role], fmt.Sprint(x))
					}
				default:
					t.Fatalf("%s: resource %s is neither a string nor a list", variant, asJSON(r))
				}
			}
		}
	}
	for role := range out {
		slices.Sort(out[role])
	}
	return s, out
}

const (
	clusterUserARN = "arn:aws:rds-db:eu-west-1:123456789012:dbuser:cluster-ABCDEFGHIJKLMNOPQRSTUVWXY0/app_user"
	proxyUserARN   = "arn:aws:rds-db:eu-west-1:123456789012:dbuser:" + fromstack.LocalProxyResourceID + "/app_user"
)

// TestScaleConnectARNs: the query role may log in where it connects, and
// nowhere else; the proxy's role may log in to the cluster as the user.
// The proxy ARN is the documented form, dbuser:prx-<id>/<user>, built from
// the last part of the proxy's ARN (aws-cdk #12415 once got this wrong).
func TestScaleConnectARNs(t *testing.T) {
	for _, tc := range []struct {
		variant          string
		query, proxyRole []string
	}{
		{"default", []string{clusterUserARN}, nil},
		{"proxy", []string{proxyUserARN}, []string{clusterUserARN}},
		{"readers", []string{clusterUserARN}, nil},
		{"proxy-readers", []string{clusterUserARN, proxyUserARN}, []string{clusterUserARN}},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			s, got := connectResources(t, tc.variant)
			_, proxyRole, err := s.ProxyID()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]string{s.QueryRoleID: tc.query}
			if tc.proxyRole != nil {
				want[proxyRole] = tc.proxyRole
			}
			if !jsonEqual(got, want) {
				t.Errorf("rds-db:connect by role %s\nwant %s", asJSON(got), asJSON(want))
			}
		})
	}
}

// TestProxyResource: IAM end to end (no secret, no Auth list), TLS
// required, in the cluster's isolated subnets, its own security group,
// its own role trusted by RDS only, fronting the cluster.
func TestProxyResource(t *testing.T) {
	for _, variant := range []string{"proxy", "proxy-readers"} {
		t.Run(variant, func(t *testing.T) {
			tp := tmpl(t, variant)
			proxyID, proxy := tp.only(t, "AWS::RDS::DBProxy")
			p := proxy.Properties
			if p["DefaultAuthScheme"] != "IAM_AUTH" || p["RequireTLS"] != true || p["EngineFamily"] != "MYSQL" {
				t.Errorf("proxy %s: %s; want DefaultAuthScheme IAM_AUTH, RequireTLS, MYSQL", proxyID, asJSON(p))
			}
			if _, ok := p["Auth"]; ok {
				t.Errorf("proxy has an Auth list (a secret on the user path): %s", asJSON(p["Auth"]))
			}
			if strings.Contains(strings.ToLower(asJSON(p)), "secret") {
				t.Errorf("proxy properties mention a secret: %s", asJSON(p))
			}
			_, subnets := tp.only(t, "AWS::RDS::DBSubnetGroup")
			if !jsonEqual(p["VpcSubnetIds"], subnets.Properties["SubnetIds"]) {
				t.Errorf("proxy subnets %s, want the cluster's %s", asJSON(p["VpcSubnetIds"]), asJSON(subnets.Properties["SubnetIds"]))
			}
			proxySG, _ := tp.byPrefix(t, "AWS::EC2::SecurityGroup", "ProxySecurityGroup")
			if !jsonEqual(p["VpcSecurityGroupIds"], []any{getAtt(proxySG, "GroupId")}) {
				t.Errorf("proxy security groups %s, want only %s", asJSON(p["VpcSecurityGroupIds"]), proxySG)
			}
			roleID, role := tp.byPrefix(t, "AWS::IAM::Role", "ProxyRole")
			if !jsonEqual(p["RoleArn"], getAtt(roleID, "Arn")) {
				t.Errorf("proxy role %s, want %s", asJSON(p["RoleArn"]), roleID)
			}
			trust := asJSON(role.Properties["AssumeRolePolicyDocument"])
			if !strings.Contains(trust, `"Service":"rds.amazonaws.com"`) || strings.Count(trust, `"Principal"`) != 1 {
				t.Errorf("proxy role trust %s, want rds.amazonaws.com only", trust)
			}
			for _, st := range policyStatements(tp)[roleID] {
				if acts := actionsOf(st); !slices.Equal(acts, []string{"rds-db:connect"}) {
					t.Errorf("proxy role may %v; want rds-db:connect only", acts)
				}
			}
			clusterID, _ := tp.only(t, "AWS::RDS::DBCluster")
			_, tg := tp.only(t, "AWS::RDS::DBProxyTargetGroup")
			if !jsonEqual(tg.Properties["DBClusterIdentifiers"], []any{ref(clusterID)}) || !jsonEqual(tg.Properties["DBProxyName"], ref(proxyID)) {
				t.Errorf("target group %s, want the cluster behind this proxy", asJSON(tg.Properties))
			}
			// The connector's one SET (time_zone) must not pin every client
			// connection: the proxy's own connections start with it, and
			// variable SETs do not pin.
			// Its share of the writer's connections leaves the user provider and
			// connectionHeadroom theirs (the connection budget).
			cfg := stacks.DefaultConfig()
			variants[variant](&cfg)
			pct, err := cfg.ProxyMaxConnectionsPercent()
			if err != nil || pct < 1 || pct >= 100 {
				t.Fatalf("ProxyMaxConnectionsPercent = %d, %v", pct, err)
			}
			wantPool := map[string]any{"InitQuery": "SET time_zone = " + iamdb.SessionTimeZone,
				"SessionPinningFilters": []any{"EXCLUDE_VARIABLE_SETS"}, "MaxConnectionsPercent": float64(pct)}
			if !jsonEqual(tg.Properties["ConnectionPoolConfigurationInfo"], wantPool) {
				t.Errorf("proxy pool %s, want %s", asJSON(tg.Properties["ConnectionPoolConfigurationInfo"]), asJSON(wantPool))
			}
			if tp.Outputs["ProxyEndpoint"].Value == nil || !jsonEqual(tp.Outputs["ProxyEndpoint"].Value, getAtt(proxyID, "Endpoint")) {
				t.Errorf("ProxyEndpoint output %s", asJSON(tp.Outputs["ProxyEndpoint"]))
			}
		})
	}
}

// sgEdges lists the security-group rules on port 3306 as
// "from -> to" pairs of logical ids (ingress and egress both).
func sgEdges(tp *template) []string {
	id := func(v any) string {
		m, _ := v.(map[string]any)
		att, _ := m["Fn::GetAtt"].([]any)
		if len(att) != 2 {
			return asJSON(v)
		}
		return att[0].(string)
	}
	is3306 := func(p map[string]any) bool {
		return p["FromPort"] == float64(3306) || jsonEqual(p["FromPort"], getAtt(tp.OfType("AWS::RDS::DBCluster")[0], "Endpoint.Port"))
	}
	var edges []string
	for _, rid := range tp.OfType("AWS::EC2::SecurityGroupIngress") {
		p := tp.Resources[rid].Properties
		if is3306(p) {
			edges = append(edges, "in "+id(p["SourceSecurityGroupId"])+" -> "+id(p["GroupId"]))
		}
	}
	for _, rid := range tp.OfType("AWS::EC2::SecurityGroupEgress") {
		p := tp.Resources[rid].Properties
		if is3306(p) {
			edges = append(edges, "out "+id(p["GroupId"])+" -> "+id(p["DestinationSecurityGroupId"]))
		}
	}
	slices.Sort(edges)
	return slices.Compact(edges)
}

// TestScaleSecurityGroups: with a proxy, the function reaches the proxy
// and the proxy the cluster, each on 3306 only; the function reaches the
// cluster only to read from readers.
func TestScaleSecurityGroups(t *testing.T) {
	for _, tc := range []struct {
		variant string
		want    []string
	}{
		{"proxy", []string{
			"in DatabaseUsersHandlerSecurityGroup -> ClusterSecurityGroup", "in ProxySecurityGroup -> ClusterSecurityGroup",
			"in QueryFunctionSecurityGroup -> ProxySecurityGroup",
			"out DatabaseUsersHandlerSecurityGroup -> ClusterSecurityGroup", "out ProxySecurityGroup -> ClusterSecurityGroup",
			"out QueryFunctionSecurityGroup -> ProxySecurityGroup"}},
		{"readers", []string{
			"in DatabaseUsersHandlerSecurityGroup -> ClusterSecurityGroup", "in QueryFunctionSecurityGroup -> ClusterSecurityGroup",
			"out DatabaseUsersHandlerSecurityGroup -> ClusterSecurityGroup", "out QueryFunctionSecurityGroup -> ClusterSecurityGroup"}},
		{"proxy-readers", []string{
			"in DatabaseUsersHandlerSecurityGroup -> ClusterSecurityGroup", "in ProxySecurityGroup -> ClusterSecurityGroup",
			"in QueryFunctionSecurityGroup -> ClusterSecurityGroup", "in QueryFunctionSecurityGroup -> ProxySecurityGroup",
			"out DatabaseUsersHandlerSecurityGroup -> ClusterSecurityGroup", "out ProxySecurityGroup -> ClusterSecurityGroup",
			"out QueryFunctionSecurityGroup -> ClusterSecurityGroup", "out QueryFunctionSecurityGroup -> ProxySecurityGroup"}},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			tp := tmpl(t, tc.variant)
			var got []string
			for _, e := range sgEdges(tp) {
				got = append(got, stripHashes(e))
			}
			got = slices.Compact(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("port 3306 rules\n got %q\nwant %q", got, tc.want)
			}
			if hasOpenIngress(tp) {
				t.Errorf("a security group admits the internet")
			}
		})
	}
}

// stripHashes drops CDK's 8-hex-digit suffix from logical ids.
func stripHashes(s string) string {
	var out []string
	for _, w := range strings.Fields(s) {
		if n := len(w); n > 8 && strings.Trim(w[n-8:], "0123456789ABCDEF") == "" {
			w = w[:n-8]
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// TestScaleFunctionEnvironment: the function's endpoints, by the names
// queryfn reads.
func TestScaleFunctionEnvironment(t *testing.T) {
	for _, tc := range []struct {
		variant     string
		writer      func(proxyID, clusterID string) any
		withReader  bool
		readerClass string
		readerCount int
	}{
		{"default", func(_, c string) any { return getAtt(c, "Endpoint.Address") }, false, "", 0},
		{"proxy", func(p, _ string) any { return getAtt(p, "Endpoint") }, false, "", 0},
		{"readers", func(_, c string) any { return getAtt(c, "Endpoint.Address") }, true, "db.serverless", 1},
		{"proxy-readers", func(p, _ string) any { return getAtt(p, "Endpoint") }, true, "db.r7g.large", 2},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			tp := tmpl(t, tc.variant)
			clusterID, _ := tp.only(t, "AWS::RDS::DBCluster")
			proxyID := ""
			if ids := tp.OfType("AWS::RDS::DBProxy"); len(ids) == 1 {
				proxyID = ids[0]
			}
			_, fn := tp.byPrefix(t, "AWS::Lambda::Function", "QueryFunction")
			vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
			if !jsonEqual(vars[queryfn.EnvEndpoint], tc.writer(proxyID, clusterID)) {
				t.Errorf("%s = %s", queryfn.EnvEndpoint, asJSON(vars[queryfn.EnvEndpoint]))
			}
			reader, has := vars[queryfn.EnvReaderEndpoint]
			if has != tc.withReader || (has && !jsonEqual(reader, getAtt(clusterID, "ReadEndpoint.Address"))) {
				t.Errorf("%s = %s (set %v), want set %v to the cluster's reader endpoint", queryfn.EnvReaderEndpoint, asJSON(reader), has, tc.withReader)
			}
			out, hasOut := tp.Outputs["ReaderEndpoint"]
			if hasOut != tc.withReader || (hasOut && !jsonEqual(out.Value, getAtt(clusterID, "ReadEndpoint.Address"))) {
				t.Errorf("ReaderEndpoint output %s (present %v), want present %v", asJSON(out), hasOut, tc.withReader)
			}
			var readers int
			for _, id := range tp.OfType("AWS::RDS::DBInstance") {
				p := tp.Resources[id].Properties
				if strings.HasPrefix(id, "ClusterDatabaseReader") {
					readers++
					if p["DBInstanceClass"] != tc.readerClass || p["PubliclyAccessible"] != false || !jsonEqual(p["DBClusterIdentifier"], ref(clusterID)) {
						t.Errorf("reader %s: %s", id, asJSON(p))
					}
				}
			}
			if readers != tc.readerCount {
				t.Errorf("%d reader instances, want %d", readers, tc.readerCount)
			}
		})
	}
}

// TestScaleConfigRefused: bad values fail the synth naming the key.
func TestScaleConfigRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*stacks.Config)
		key    string
	}{
		{"negative readers", func(c *stacks.Config) { c.Readers = -1 }, `"readers"`},
		{"too many readers", func(c *stacks.Config) { c.Readers = stacks.MaxReaders + 1 }, `"readers"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := stacks.DefaultConfig()
			tc.mutate(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("Validate = %v, want an error naming %s", err, tc.key)
			}
		})
	}
}

// TestSnapshotsScale keeps snapshots of the security-relevant parts of
// the proxy and readers variants (see TestSnapshots).
func TestSnapshotsScale(t *testing.T) {
	for _, variant := range []string{"proxy", "readers"} {
		tp := tmpl(t, variant)
		for name, build := range map[string]func(*template) any{
			"iam":             iamSnapshot,
			"security-groups": securityGroupSnapshot,
			"aurora":          func(tp *template) any { return scaleAuroraSnapshot(tp) },
		} {
			t.Run(variant+"/"+name, func(t *testing.T) {
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(readable(build(tp))); err != nil {
					t.Fatal(err)
				}
				compareSnapshot(t, filepath.Join("snapshots", variant, name+".json"), buf.Bytes())
			})
		}
	}
}

// scaleAuroraSnapshot is auroraSnapshot plus the proxy and its target group.
func scaleAuroraSnapshot(tp *template) any {
	out := auroraSnapshot(tp).(map[string]any)
	for _, typ := range []string{"AWS::RDS::DBProxy", "AWS::RDS::DBProxyTargetGroup"} {
		for _, id := range tp.OfType(typ) {
			out[id] = maps(tp.Resources[id].Properties)
		}
	}
	return out
}
