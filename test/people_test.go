package test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/auroralocal/fromstack"
	"github.com/rdsiam/rdsiam/auroralocal/iampolicy"
	"github.com/rdsiam/rdsiam/internal/stackoutputs"
	"github.com/rdsiam/rdsiam/stacks"
)

// TestHumanUserPolicies: each human user's managed policy allows
// rds-db:connect as exactly that user, on this cluster, and nothing else;
// it has the fixed name a permission set refers to, is attached to nothing,
// and its user exists as a Custom::DatabaseUser with the configured grants.
func TestHumanUserPolicies(t *testing.T) {
	for variant, users := range map[string][]stacks.HumanUser{
		"default": stacks.DefaultHumanUsers(),
		"people":  {{Name: "people_ro", Grants: []string{"SELECT", "SHOW VIEW"}}, {Name: "oncall", Grants: []string{"SELECT", "UPDATE"}}},
	} {
		t.Run(variant, func(t *testing.T) {
			tp := tmpl(t, variant)
			s, err := fromstack.FromTemplate(tp.Template)
			if err != nil {
				t.Fatal(err)
			}
			env := s.Env(fromstack.Place{Partition: "aws", Region: testRegion, Account: testAccount, ClusterResourceID: testCluster, Host: "db.example"})
			connectARN := func(cluster, user string) string {
				return "arn:aws:rds-db:" + testRegion + ":" + testAccount + ":dbuser:" + cluster + "/" + user
			}
			var names []string
			for i, u := range users {
				names = append(names, u.Name)
				id := outputRef(t, tp, stackoutputs.HumanUserPolicy(i))
				p := tp.Resources[id].Properties
				if want := stacks.HumanUserPolicyName("RdsIam", u.Name); p["ManagedPolicyName"] != want {
					t.Errorf("%s: name %v, want %q", id, p["ManagedPolicyName"], want)
				}
				for _, k := range []string{"Roles", "Users", "Groups"} {
					if p[k] != nil {
						t.Errorf("%s is attached to %s %v; teams attach it themselves", id, k, p[k])
					}
				}
				set, err := iampolicy.ManagedPolicy(s.Template, id, env)
				if err != nil {
					t.Fatal(err)
				}
				cases := []struct {
					action, resource string
					allowed          bool
				}{
					{"rds-db:connect", connectARN(testCluster, u.Name), true},
					{"rds-db:connect", connectARN(testCluster, "app_user"), false},
					{"rds-db:connect", connectARN(testCluster, "admin"), false},
					{"rds-db:connect", connectARN(testCluster, u.Name+"2"), false},
					{"rds-db:connect", connectARN("cluster-OTHER", u.Name), false},
					{"rds-db:connect", "*", false},
					{"secretsmanager:GetSecretValue", env.Attrs[s.ClusterID+".MasterUserSecret.SecretArn"], false},
				}
				for _, other := range users {
					if other.Name != u.Name {
						cases = append(cases, struct {
							action, resource string
							allowed          bool
						}{"rds-db:connect", connectARN(testCluster, other.Name), false})
					}
				}
				for _, c := range cases {
					if got, err := set.Authorize(c.action, c.resource); err != nil || got != c.allowed {
						t.Errorf("%s policy: %s on %s = %v (%v), want %v", u.Name, c.action, c.resource, got, err, c.allowed)
					}
				}
				if !hasDatabaseUser(tp, u.Name, u.Grants) {
					t.Errorf("no Custom::DatabaseUser %s with grants %v", u.Name, u.Grants)
				}
			}
			if got := tp.Outputs[stackoutputs.HumanUsers].Value; got != strings.Join(names, ",") {
				t.Errorf("output HumanUsers = %v, want %q", got, strings.Join(names, ","))
			}
		})
	}
}

func hasDatabaseUser(tp *template, name string, grants []string) bool {
	for _, id := range tp.OfType("Custom::DatabaseUser") {
		p := tp.Resources[id].Properties
		if p["UserName"] != name {
			continue
		}
		var got []string
		for _, g := range p["Privileges"].([]any) {
			got = append(got, g.(string))
		}
		want := slices.Clone(grants)
		slices.Sort(want)
		return slices.Equal(got, want)
	}
	return false
}

// TestPeopleAccess: off by default; on, the cluster admits exactly the
// CloudShell and bastion groups besides the functions, the bastion has no
// key, no public address, IMDSv2 only and an encrypted disk, its role holds
// no data permission, and the SSM endpoints are private to it.
func TestPeopleAccess(t *testing.T) {
	def := tmpl(t, "default")
	if n := len(def.OfType("AWS::EC2::Instance")); n != 0 {
		t.Errorf("default stack has %d instances", n)
	}
	for _, k := range []string{stackoutputs.BastionInstanceID, stackoutputs.CloudShellSecurityGroupID, stackoutputs.CloudShellSubnetIDs} {
		if _, ok := def.Outputs[k]; ok {
			t.Errorf("default stack has output %s", k)
		}
	}

	tp := tmpl(t, "people")
	clusterSG, _ := tp.byPrefix(t, "AWS::EC2::SecurityGroup", "ClusterSecurityGroup")
	shellSG, _ := tp.byPrefix(t, "AWS::EC2::SecurityGroup", "PeopleAccessCloudShellSecurityGroup")
	bastionSG, _ := tp.byPrefix(t, "AWS::EC2::SecurityGroup", "PeopleAccessBastionSecurityGroup")
	querySG, _ := tp.byPrefix(t, "AWS::EC2::SecurityGroup", "QueryFunctionSecurityGroup")
	handlerSG, _ := tp.byPrefix(t, "AWS::EC2::SecurityGroup", "DatabaseUsersHandlerSecurityGroup")
	sources := clusterIngressSources(t, tp, clusterSG)
	want := []string{querySG, handlerSG, shellSG, bastionSG}
	slices.Sort(sources)
	slices.Sort(want)
	if !slices.Equal(sources, want) {
		t.Errorf("cluster admits %v, want %v", sources, want)
	}
	if hasOpenIngress(tp) {
		t.Errorf("a security group admits 0.0.0.0/0 or ::/0")
	}
	// The CloudShell group may only reach the cluster on 3306: one egress
	// rule (CloudFormation then drops the default allow-all) and no inline one.
	var shellEgress []string
	for _, id := range tp.OfType("AWS::EC2::SecurityGroupEgress") {
		p := tp.Resources[id].Properties
		if !jsonEqual(p["GroupId"], getAtt(shellSG, "GroupId")) {
			continue
		}
		shellEgress = append(shellEgress, id)
		if !jsonEqual(p["DestinationSecurityGroupId"], getAtt(clusterSG, "GroupId")) || p["FromPort"] != float64(3306) || p["ToPort"] != float64(3306) {
			t.Errorf("CloudShell egress %s: %s", id, asJSON(p))
		}
	}
	if len(shellEgress) != 1 || tp.Resources[shellSG].Properties["SecurityGroupEgress"] != nil {
		t.Errorf("CloudShell egress rules %v, inline %s: want exactly the one to the cluster", shellEgress, asJSON(tp.Resources[shellSG].Properties["SecurityGroupEgress"]))
	}

	instID, inst := tp.only(t, "AWS::EC2::Instance")
	p := inst.Properties
	if p["KeyName"] != nil {
		t.Errorf("bastion has an SSH key %v", p["KeyName"])
	}
	if ni := asJSON(p["NetworkInterfaces"]); !strings.Contains(ni, `"AssociatePublicIpAddress":false`) || !strings.Contains(ni, "Isolated") {
		t.Errorf("bastion network interfaces %s: want no public address, an isolated subnet", ni)
	}
	if md := asJSON(p["MetadataOptions"]); !strings.Contains(md, `"HttpTokens":"required"`) {
		t.Errorf("bastion metadata options %s: want IMDSv2 only", md)
	}
	if len(tp.OfType("AWS::EC2::LaunchTemplate")) != 0 {
		t.Errorf("a launch template (fixed names clash between deployments): %v", tp.OfType("AWS::EC2::LaunchTemplate"))
	}
	if bd := asJSON(p["BlockDeviceMappings"]); !strings.Contains(bd, `"Encrypted":true`) {
		t.Errorf("bastion disk %s: want encrypted", bd)
	}
	if out := tp.Outputs[stackoutputs.BastionInstanceID].Value; !jsonEqual(out, ref(instID)) {
		t.Errorf("output BastionInstanceId = %v", out)
	}
	// The bastion's role: the SSM agent's managed policy, nothing inline,
	// no attached policy from this stack.
	roleID, role := tp.byPrefix(t, "AWS::IAM::Role", "PeopleAccessBastionRole")
	if role.Properties["Policies"] != nil || len(attachedPolicies(tp, roleID)) != 0 {
		t.Errorf("bastion role has policies beyond the SSM agent's: %s %v", asJSON(role.Properties["Policies"]), attachedPolicies(tp, roleID))
	}
	if arns := asJSON(role.Properties["ManagedPolicyArns"]); !strings.Contains(arns, "AmazonSSMManagedInstanceCore") || strings.Count(arns, "policy/") != 1 {
		t.Errorf("bastion role managed policies %s", arns)
	}
	// The bastion session policy: port forwarding to this instance with the
	// one document (checked even when none is named), ending only one's own
	// sessions; attached to nothing.
	polID := outputRef(t, tp, stackoutputs.BastionSessionPolicy)
	pol := tp.Resources[polID].Properties
	if pol["ManagedPolicyName"] != stacks.BastionSessionPolicyName("RdsIam") || pol["Roles"] != nil || pol["Users"] != nil || pol["Groups"] != nil {
		t.Errorf("bastion session policy %s: %s", polID, asJSON(pol))
	}
	doc := asJSON(readable(pol["PolicyDocument"]))
	for _, want := range []string{
		`"Action":"ssm:StartSession"`,
		`"Condition":{"BoolIfExists":{"ssm:SessionDocumentAccessCheck":"true"}}`,
		`instance/${` + instID + `}`,
		`::document/AWS-StartPortForwardingSessionToRemoteHost`,
		`"Action":["ssm:ResumeSession","ssm:TerminateSession"]`, // sorted: minimizePolicies
		`session/${aws:userid}-*`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("bastion session policy lacks %s: %s", want, doc)
		}
	}
	if strings.Count(doc, `"Effect":"Allow"`) != 2 || strings.Contains(doc, "ssm:SendCommand") || strings.Contains(doc, `"Resource":"*"`) {
		t.Errorf("bastion session policy allows more: %s", doc)
	}

	var services []string
	for _, id := range tp.OfType("AWS::EC2::VPCEndpoint") {
		ep := tp.Resources[id].Properties
		svc, _ := readable(ep["ServiceName"]).(string)
		if ep["PrivateDnsEnabled"] != true {
			t.Errorf("endpoint %s %s without private DNS", id, svc)
		}
		services = append(services, svc[strings.LastIndex(svc, ".")+1:])
	}
	slices.Sort(services)
	if want := []string{"ec2messages", "secretsmanager", "ssm", "ssmmessages"}; !slices.Equal(services, want) {
		t.Errorf("endpoints %v, want %v", services, want)
	}
}
