package iampolicy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/auroralocal/cfntemplate"
)

// stackTemplate mimics what CDK synthesizes for our stack, plus the other
// ways a template can attach policies to roles.
const stackTemplate = `{
  "Resources": {
    "DatabaseClusterABCD1234": {"Type": "AWS::RDS::DBCluster", "Properties": {"Engine": "aurora-mysql"}},
    "AppRole": {
      "Type": "AWS::IAM::Role",
      "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]},
        "ManagedPolicyArns": [
          {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]},
          {"Ref": "SharedManagedPolicy"}
        ]
      }
    },
    "AppRoleDefaultPolicy": {
      "Type": "AWS::IAM::Policy",
      "Properties": {
        "PolicyName": "AppRoleDefaultPolicy",
        "Roles": [{"Ref": "AppRole"}],
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [
          {"Action":"rds-db:connect","Effect":"Allow","Resource":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":rds-db:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":dbuser:",{"Fn::GetAtt":["DatabaseClusterABCD1234","DBClusterResourceId"]},"/app_user"]]}}
        ]}
      }
    },
    "SharedManagedPolicy": {
      "Type": "AWS::IAM::ManagedPolicy",
      "Properties": {
        "Roles": [{"Ref": "ReportRole"}],
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [
          {"Sid": "Reporting", "Action": "rds-db:connect", "Effect": "Allow",
           "Resource": {"Fn::Sub": "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:${DatabaseClusterABCD1234.DBClusterResourceId}/reporting"}}
        ]}
      }
    },
    "AuditRole": {
      "Type": "AWS::IAM::Role",
      "Properties": {
        "Policies": [
          {"PolicyName": "AnyUser", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "RDS-DB:Connect", "Effect": "Allow",
             "Resource": {"Fn::Sub": "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:${DatabaseClusterABCD1234.DBClusterResourceId}/*"}}
          ]}},
          {"PolicyName": "NotAdmin", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Sid": "NoAdmin", "Action": "rds-db:*", "Effect": "Deny",
             "Resource": {"Fn::Sub": ["arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:${Cluster}/${User}",
                                      {"Cluster": {"Fn::GetAtt": ["DatabaseClusterABCD1234", "DBClusterResourceId"]}, "User": "admin"}]}}
          ]}}
        ]
      }
    },
    "ReportRole": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "report-role"}},
    "ReportRoleByName": {
      "Type": "AWS::IAM::RolePolicy",
      "Properties": {"RoleName": "report-role", "PolicyName": "deny-admin", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "rds-db:connect", "Effect": "Deny", "NotResource": {"Fn::Sub": "arn:${AWS::Partition}:rds-db:*:*:dbuser:*/reporting"}}
      ]}}
    },
    "ImportedRolePolicy": {
      "Type": "AWS::IAM::Policy",
      "Properties": {"PolicyName": "imported", "Roles": ["some-imported-role"], "PolicyDocument": {"Statement": [
        {"Action": "*", "Effect": "Allow", "Resource": "*"}
      ]}}
    }
  }
}`

func loadStack(t *testing.T) *cfntemplate.Template {
	t.Helper()
	tmpl, err := cfntemplate.Parse([]byte(stackTemplate))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tmpl
}

// testEnv is what CloudFormation would know of stackTemplate's deployment.
func testEnv() cfntemplate.Env {
	return cfntemplate.Env{Partition: "aws", Region: testRegion, Account: testAccount,
		Attrs: map[string]string{"DatabaseClusterABCD1234.DBClusterResourceId": testCluster}}
}

func TestRolePoliciesAuthorize(t *testing.T) {
	env := testEnv()
	cluster := env.Attrs["DatabaseClusterABCD1234.DBClusterResourceId"]
	arn := func(user string) string { return dbUserARN(env.Region, env.Account, cluster, user) }
	tests := []struct {
		role     string
		action   string
		resource string
		want     Decision
		wantBy   string // substring naming the deciding policy
	}{
		// CDK's AWS::IAM::Policy statement for the app role.
		{"AppRole", "rds-db:connect", arn("app_user"), Allowed, "AWS::IAM::Policy AppRoleDefaultPolicy"},
		{"AppRole", "rds-db:connect", arn("admin"), ImplicitDeny, ""},
		{"AppRole", "rds-db:connect", dbUserARN(env.Region, env.Account, "cluster-OTHER", "app_user"), ImplicitDeny, ""},
		{"AppRole", "rds-db:connect", dbUserARN("us-east-1", env.Account, cluster, "app_user"), ImplicitDeny, ""},
		{"AppRole", "rds-db:connect", dbUserARN(env.Region, "999999999999", cluster, "app_user"), ImplicitDeny, ""},
		{"AppRole", "RDS-DB:CONNECT", arn("app_user"), Allowed, "AppRoleDefaultPolicy"},
		{"AppRole", "rds-db:connect", arn("APP_USER"), ImplicitDeny, ""},
		// The template's own managed policy, attached through ManagedPolicyArns.
		{"AppRole", "rds-db:connect", arn("reporting"), Allowed, "AWS::IAM::ManagedPolicy SharedManagedPolicy"},
		// Inline wildcard allow, inline explicit deny (Fn::Sub with variables).
		{"AuditRole", "rds-db:connect", arn("anyone"), Allowed, "AuditRole inline policy AnyUser"},
		{"AuditRole", "rds-db:connect", arn("admin"), ExplicitDeny, `Sid "NoAdmin"`},
		{"AuditRole", "rds-db:connect", dbUserARN(env.Region, env.Account, "cluster-OTHER", "anyone"), ImplicitDeny, ""},
		// Managed policy attached via its Roles; RolePolicy via the role's name;
		// the policy naming an imported role does not apply.
		{"ReportRole", "rds-db:connect", arn("reporting"), Allowed, "SharedManagedPolicy"},
		{"ReportRole", "rds-db:connect", arn("app_user"), ExplicitDeny, "AWS::IAM::RolePolicy ReportRoleByName"},
		{"ReportRole", "s3:GetObject", "arn:aws:s3:::bucket/key", ImplicitDeny, ""},
	}
	tmpl := loadStack(t)
	for _, tc := range tests {
		t.Run(tc.role+" "+tc.action+" "+tc.resource, func(t *testing.T) {
			set, err := RolePolicies(tmpl, tc.role, env)
			if err != nil {
				t.Fatalf("RolePolicies(%s): %v", tc.role, err)
			}
			got, err := set.Evaluate(tc.action, tc.resource)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if got.Decision != tc.want {
				t.Fatalf("%s %s on %s = %v, want %v", tc.role, tc.action, tc.resource, got, tc.want)
			}
			if tc.wantBy != "" && !strings.Contains(got.String(), tc.wantBy) {
				t.Errorf("result %v does not name %q", got, tc.wantBy)
			}
		})
	}
}

func TestRolePoliciesResolvesCDKStatement(t *testing.T) {
	env := testEnv()
	set, err := RolePolicies(loadStack(t), "AppRole", env)
	if err != nil {
		t.Fatal(err)
	}
	want := dbUserARN(env.Region, env.Account, env.Attrs["DatabaseClusterABCD1234.DBClusterResourceId"], "app_user")
	for _, doc := range set {
		if doc.Name == TypePolicy+" AppRoleDefaultPolicy" {
			if got := doc.Statement[0].Resource; !reflect.DeepEqual(got, []string{want}) {
				t.Fatalf("resolved Resource = %q, want [%q]", got, want)
			}
			return
		}
	}
	t.Fatalf("AppRoleDefaultPolicy missing from %d documents", len(set))
}

func TestManagedPolicyARNs(t *testing.T) {
	tmpl := loadStack(t)
	for _, env := range []cfntemplate.Env{testEnv(), {Partition: "aws-cn"}} {
		got, err := ManagedPolicyARNs(tmpl, "AppRole", env)
		if err != nil {
			t.Fatalf("ManagedPolicyARNs(AppRole) with partition %q: %v", env.Partition, err)
		}
		// Only the AWS managed policy: SharedManagedPolicy is in the template
		// and therefore in RolePolicies instead.
		want := []string{"arn:" + env.Partition + ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ManagedPolicyARNs(AppRole) = %q, want %q", got, want)
		}
	}
	if got, err := ManagedPolicyARNs(tmpl, "AuditRole", testEnv()); err != nil || len(got) != 0 {
		t.Errorf("ManagedPolicyARNs(AuditRole) = %q, %v; want none", got, err)
	}
}

func TestRolePoliciesErrors(t *testing.T) {
	role := func(id string) string { return `"` + id + `": {"Type": "AWS::IAM::Role"}` }
	policy := func(id, roleRef, statement, extra string) string {
		return `"` + id + `": {"Type": "AWS::IAM::Policy"` + extra + `, "Properties": {"PolicyName": "p", "Roles": [` + roleRef + `],
			"PolicyDocument": {"Version": "2012-10-17", "Statement": [` + statement + `]}}}`
	}
	const connectAny = `{"Action": "rds-db:connect", "Effect": "Allow", "Resource": "*"}`
	tests := []struct {
		name      string
		resources string
		role      string
		env       cfntemplate.Env
		wantErr   []string
	}{
		{
			"unresolvable GetAtt",
			role("R") + "," + policy("P", `{"Ref": "R"}`, `{"Action": "rds-db:connect", "Effect": "Allow", "Resource": {"Fn::GetAtt": ["MissingCluster", "DBClusterResourceId"]}}`, ""),
			"R", testEnv(), []string{`AWS::IAM::Policy "P"`, "MissingCluster.DBClusterResourceId"},
		},
		{
			"missing region",
			role("R") + "," + policy("P", `{"Ref": "R"}`, `{"Action": "rds-db:connect", "Effect": "Allow", "Resource": {"Fn::Sub": "arn:aws:rds-db:${AWS::Region}:*"}}`, ""),
			"R", cfntemplate.Env{}, []string{"AWS::Region", "Env.Region"},
		},
		{
			"policy gated by a CloudFormation condition",
			role("R") + "," + policy("P", `{"Ref": "R"}`, connectAny, `, "Condition": "IsProd"`),
			"R", testEnv(), []string{`"P"`, `"IsProd"`},
		},
		{
			"unknown role names the roles there are",
			role("R") + "," + role("S"),
			"Nope", testEnv(), []string{`"Nope"`, "roles: R, S"},
		},
		{
			"not a role",
			role("R") + "," + policy("P", `{"Ref": "R"}`, connectAny, ""),
			"P", testEnv(), []string{`"P" is not an AWS::IAM::Role`},
		},
		{
			"Principal in an attached policy",
			role("R") + "," + policy("P", `{"Ref": "R"}`, `{"Action": "rds-db:connect", "Effect": "Allow", "Resource": "*", "Principal": "*"}`, ""),
			"R", testEnv(), []string{`"P"`, "Principal"},
		},
		{
			"Roles entry that cannot be resolved",
			role("R") + "," + policy("P", `{"Fn::ImportValue": "OtherStackRole"}`, connectAny, ""),
			"R", testEnv(), []string{`"P" Roles[0]`, "Fn::ImportValue"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := cfntemplate.Parse([]byte(`{"Resources": {` + tc.resources + `}}`))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			set, err := RolePolicies(tmpl, tc.role, tc.env)
			if err == nil {
				t.Fatalf("RolePolicies(%s) = %d documents, want an error", tc.role, len(set))
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// A statement with a Condition resolves fine; deciding on it is the error.
func TestTemplateConditionStatementFailsAuthorize(t *testing.T) {
	tmpl, err := cfntemplate.Parse([]byte(`{"Resources": {
		"R": {"Type": "AWS::IAM::Role"},
		"P": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "R"}], "PolicyDocument": {"Statement": [
			{"Action": "rds-db:connect", "Effect": "Allow", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "db"}}}
		]}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := RolePolicies(tmpl, "R", testEnv())
	if err != nil {
		t.Fatalf("RolePolicies: %v", err)
	}
	ok, err := set.Authorize("rds-db:connect", dbUserARN(testRegion, testAccount, testCluster, "app_user"))
	if ok || err == nil || !strings.Contains(err.Error(), "StringEquals") {
		t.Fatalf("Authorize = %v, %v; want false and an error naming StringEquals", ok, err)
	}
}

func TestNilTemplate(t *testing.T) {
	var tmpl *cfntemplate.Template
	if _, err := RolePolicies(tmpl, "X", cfntemplate.Env{}); err == nil {
		t.Error("nil Template RolePolicies succeeded")
	}
	if _, err := ManagedPolicyARNs(tmpl, "X", cfntemplate.Env{}); err == nil {
		t.Error("nil Template ManagedPolicyARNs succeeded")
	}
}
