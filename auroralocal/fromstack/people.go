package fromstack

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/auroralocal/iampolicy"
)

// Person is an IAM principal outside the stack that stands for a person's
// role (an IAM Identity Center / SSO role) with some of the template's
// customer managed policies attached, e.g. a human user's connect policy.
type Person struct {
	// Name names the role: arn:aws:iam::<account>:role/<Name>.
	Name string
	// ManagedPolicyIDs are logical ids of the template's
	// AWS::IAM::ManagedPolicy resources attached to it; none means a role
	// without any database permission.
	ManagedPolicyIDs []string
}

// ManagedPolicy returns the document of the template's customer managed
// policy id, resolved for env.
func (s *Stack) ManagedPolicy(id string, env iampolicy.Env) (iampolicy.PolicySet, error) {
	r, ok := s.Template.Resource(id)
	if !ok || r.Type != "AWS::IAM::ManagedPolicy" {
		return nil, fmt.Errorf("fromstack: no AWS::IAM::ManagedPolicy %q (have %v)", id, s.Template.ResourcesOfType("AWS::IAM::ManagedPolicy"))
	}
	resolved, err := iampolicy.Resolve(r.Properties["PolicyDocument"], env)
	if err != nil {
		return nil, fmt.Errorf("fromstack: %s PolicyDocument: %w", id, err)
	}
	doc, err := iampolicy.ParseValue(resolved)
	if err != nil {
		return nil, fmt.Errorf("fromstack: %s PolicyDocument: %w", id, err)
	}
	doc.Name = "AWS::IAM::ManagedPolicy " + id
	return iampolicy.PolicySet{doc}, nil
}

// personPrincipals makes a principal with fresh keys for each person.
func (l *Local) personPrincipals(people []Person, account string) ([]auroralocal.Principal, error) {
	var out []auroralocal.Principal
	l.PeopleKeys = map[string]aws.Credentials{}
	for _, p := range people {
		var set iampolicy.PolicySet
		for _, id := range p.ManagedPolicyIDs {
			docs, err := l.Stack.ManagedPolicy(id, l.Env)
			if err != nil {
				return nil, err
			}
			set = append(set, docs...)
		}
		keys := aws.Credentials{AccessKeyID: "AKIA" + randomString(16), SecretAccessKey: randomString(40), Source: "rdsiam-local"}
		l.PeopleKeys[p.Name] = keys
		out = append(out, auroralocal.Principal{
			ARN:         fmt.Sprintf("arn:%s:iam::%s:role/%s", auroralocal.Partition, account, p.Name),
			AccessKeyID: keys.AccessKeyID, SecretAccessKey: keys.SecretAccessKey,
			Authorize: set.Authorize,
		})
	}
	return out, nil
}
