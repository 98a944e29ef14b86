package stacks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/internal/stackoutputs"
)

// ConnectArn is the rds-db:connect resource for this user:
// arn:<partition>:rds-db:<region>:<account>:dbuser:<cluster resource id>/<user>,
// the same ARN GrantConnect grants.
func (u *DatabaseUser) ConnectArn() *string {
	return awscdk.Stack_Of(u.Construct).FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("rds-db"),
		Resource:     jsii.String("dbuser"),
		ResourceName: awscdk.Fn_Join(jsii.String("/"), &[]*string{u.cluster.ClusterResourceIdentifier(), jsii.String(u.UserName)}),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

// PersonUserProps configures PersonUser.
type PersonUserProps struct {
	// Provider runs the custom resource; it fixes the cluster. Required.
	Provider *UserProvider
	// User is the database user and its grants. Required.
	User HumanUser
	// DatabaseName is the database the grants apply to. Required.
	DatabaseName string
	// PolicyName names the managed policy; it must be unique in the
	// account. Default "": HumanUserPolicyName(<stack name>, User.Name).
	PolicyName string
	// RetainOnDelete keeps the database user when the resource is deleted.
	// Default false: the user is dropped.
	RetainOnDelete bool
}

// PersonUser is a database user for people and the customer managed policy
// that lets a principal log in as it, and as nothing else. The policy is
// attached to nothing: a team attaches it to its SSO roles (an IAM Identity
// Center permission set's customer managed policy reference, by name).
type PersonUser struct {
	constructs.Construct
	User   *DatabaseUser
	Policy awsiam.ManagedPolicy
}

// NewPersonUser creates the user with NewDatabaseUser and its policy.
func NewPersonUser(scope constructs.Construct, id string, props PersonUserProps) (*PersonUser, error) {
	c := constructs.NewConstruct(scope, jsii.String(id))
	u, err := NewDatabaseUser(c, "User", DatabaseUserProps{
		Provider:       props.Provider,
		UserName:       props.User.Name,
		DatabaseName:   props.DatabaseName,
		Grants:         props.User.Grants,
		RetainOnDelete: props.RetainOnDelete,
	})
	if err != nil {
		return nil, fmt.Errorf("person user %s: %w", id, err)
	}
	name := props.PolicyName
	if name == "" {
		name = HumanUserPolicyName(*awscdk.Stack_Of(c).StackName(), props.User.Name)
	}
	policy := awsiam.NewManagedPolicy(c, jsii.String("ConnectPolicy"), &awsiam.ManagedPolicyProps{
		ManagedPolicyName: jsii.String(name),
		Description:       jsii.String(fmt.Sprintf("rdsiam: log in to the database as %s (IAM authentication); attach to the roles of people who may", props.User.Name)),
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("rds-db:connect"),
			Resources: &[]*string{u.ConnectArn()},
		})},
	})
	return &PersonUser{Construct: c, User: u, Policy: policy}, nil
}

// addPeople creates the human users and the ways in that cfg asks for.
func (s *RdsIamStack) addPeople(cfg Config) error {
	for i, h := range cfg.HumanUsers {
		p, err := NewPersonUser(s.Stack, fmt.Sprintf("HumanUser%d", i+1), PersonUserProps{
			Provider:       s.Users,
			User:           h,
			DatabaseName:   cfg.DatabaseName,
			PolicyName:     HumanUserPolicyName(cfg.StackName, h.Name),
			RetainOnDelete: cfg.RetainUser,
		})
		if err != nil {
			return err
		}
		s.People = append(s.People, p)
	}
	var err error
	s.Access, err = NewPeopleAccess(s.Stack, "PeopleAccess", PeopleAccessProps{
		Network: s.Network, Cluster: s.Cluster,
		CloudShell: cfg.CloudShellAccess, Bastion: cfg.SSMBastion,
	})
	return err
}

// addPeopleOutputs names what `rdsiam connect` and docs/people.md's commands
// need: the port, the database, the human users and their policies, and the
// ways in.
func (s *RdsIamStack) addPeopleOutputs() {
	out := func(id string, value *string, description string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{
			Value: value, Description: jsii.String(description),
		})
	}
	out(stackoutputs.ClusterPort, jsii.String(strconv.Itoa(DatabasePort)), "Port of the Aurora cluster")
	out(stackoutputs.DatabaseName, jsii.String(s.User.DatabaseName), "Database the users are granted on")
	names := make([]string, len(s.People))
	for i, p := range s.People {
		names[i] = p.User.UserName
		out(stackoutputs.HumanUserPolicy(i), p.Policy.ManagedPolicyArn(),
			fmt.Sprintf("Managed policy allowing rds-db:connect as %s: attach it to the SSO roles (permission sets) of people who may log in as %s", p.User.UserName, p.User.UserName))
	}
	if len(names) > 0 {
		out(stackoutputs.HumanUsers, jsii.String(strings.Join(names, ",")), "Database users for people (rdsiam connect --user <name>)")
	}
	if s.Access.CloudShellSecurityGroup != nil || s.Access.Bastion != nil {
		out(stackoutputs.VpcID, s.Network.Vpc.VpcId(), "VPC of the cluster")
	}
	if sg := s.Access.CloudShellSecurityGroup; sg != nil {
		out(stackoutputs.CloudShellSecurityGroupID, sg.SecurityGroupId(), "Security group for a CloudShell VPC environment (the cluster admits it on 3306)")
		var subnets []*string
		for _, sn := range *s.Network.Vpc.SelectSubnets(s.Network.Subnets).SubnetIds {
			subnets = append(subnets, sn)
		}
		out(stackoutputs.CloudShellSubnetIDs, awscdk.Fn_Join(jsii.String(","), &subnets), "Subnets for a CloudShell VPC environment")
	}
	if b := s.Access.Bastion; b != nil {
		out(stackoutputs.BastionInstanceID, b.InstanceId(), "SSM-managed bastion for port forwarding (rdsiam connect --ssm)")
		out(stackoutputs.BastionSessionPolicy, s.Access.BastionSessionPolicy.ManagedPolicyArn(),
			"Managed policy allowing port forwarding through the bastion (no shell): attach it, with a human user's policy, to the SSO roles that use rdsiam connect --ssm")
	}
}
