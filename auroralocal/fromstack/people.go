package fromstack

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rdsiam/rdsiam/auroralocal"
	"github.com/rdsiam/rdsiam/auroralocal/iampolicy"
	"github.com/rdsiam/rdsiam/internal/standin"
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

// personPrincipals makes a principal with fresh keys for each person.
func (l *Local) personPrincipals(people []Person, account string) ([]auroralocal.Principal, error) {
	var out []auroralocal.Principal
	l.PeopleKeys = map[string]aws.Credentials{}
	for _, p := range people {
		var set iampolicy.PolicySet
		for _, id := range p.ManagedPolicyIDs {
			docs, err := iampolicy.ManagedPolicy(l.Stack.Template, id, l.Env)
			if err != nil {
				return nil, err
			}
			set = append(set, docs...)
		}
		keys := standin.NewKeys("rdsiam-local")
		l.PeopleKeys[p.Name] = keys
		out = append(out, auroralocal.Principal{
			ARN:         fmt.Sprintf("arn:%s:iam::%s:role/%s", auroralocal.Partition, account, p.Name),
			AccessKeyID: keys.AccessKeyID, SecretAccessKey: keys.SecretAccessKey,
			Authorize: set.Authorize,
		})
	}
	return out, nil
}
