package iampolicy_test

import (
	"fmt"

	"github.com/rdsiam/rdsiam/auroralocal/cfntemplate"
	"github.com/rdsiam/rdsiam/auroralocal/iampolicy"
)

// Deciding rds-db:connect for a role straight from a synthesized template.
func Example() {
	template := []byte(`{"Resources": {
	  "FnRole": {"Type": "AWS::IAM::Role"},
	  "FnRolePolicy": {"Type": "AWS::IAM::Policy", "Properties": {
	    "Roles": [{"Ref": "FnRole"}],
	    "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Action": "rds-db:connect", "Effect": "Allow",
	      "Resource": {"Fn::Sub": "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:${Db.DBClusterResourceId}/app_user"}}]}}}}}`)
	env := cfntemplate.Env{
		Partition: "aws", Region: "eu-west-1", Account: "123456789012",
		Attrs: map[string]string{"Db.DBClusterResourceId": "cluster-XYZ"},
	}

	tmpl, err := cfntemplate.Parse(template)
	if err != nil {
		fmt.Println(err)
		return
	}
	policies, err := iampolicy.RolePolicies(tmpl, "FnRole", env)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, user := range []string{"app_user", "admin"} {
		arn := "arn:aws:rds-db:eu-west-1:123456789012:dbuser:cluster-XYZ/" + user
		result, err := policies.Evaluate("rds-db:connect", arn)
		fmt.Println(user, result, err)
	}
	// Output:
	// app_user Allowed by policy #0 "AWS::IAM::Policy FnRolePolicy" statement #0 <nil>
	// admin ImplicitDeny (no statement matched) <nil>
}
