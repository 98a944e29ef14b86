package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// PeopleAccessProps configures PeopleAccess: how a person's client reaches a
// cluster in isolated subnets. Both ways are off by default; neither gives
// anyone database access by itself (that takes a token signed by a
// principal holding a human user's connect policy).
type PeopleAccessProps struct {
	// Network is the cluster's; the ways in live in its subnets. Required.
	Network *Network
	// Cluster is what the ways in reach, on its port only. Required.
	Cluster *Cluster
	// CloudShell creates a security group for a CloudShell VPC environment,
	// allowed by the cluster on 3306 (and allowed out only there). Default
	// false. CloudShell itself costs nothing extra.
	CloudShell bool
	// Bastion creates an SSM-managed EC2 instance (t4g.nano, Amazon Linux
	// 2023, no SSH key, no public IP, IMDSv2 only, encrypted disk) that
	// Session Manager port forwarding uses as a hop to the cluster, and the
	// three interface endpoints the SSM agent needs in isolated subnets
	// (ssm, ssmmessages, ec2messages). Default false. It costs the instance
	// (about USD 3/month) and the endpoints (about USD 44/month for three
	// endpoints in two AZs), at us-east-1 prices.
	Bastion bool
}

// PeopleAccess holds what PeopleAccessProps asked for; unset fields are nil.
type PeopleAccess struct {
	constructs.Construct
	CloudShellSecurityGroup awsec2.SecurityGroup
	Bastion                 awsec2.Instance
	// BastionSessionPolicy lets a principal start port forwarding through
	// the bastion, and nothing else there (no shell); attached to nothing.
	BastionSessionPolicy awsiam.ManagedPolicy
}

// bastionInstanceType is the smallest Graviton type: the bastion only relays
// bytes for Session Manager.
const bastionInstanceType = "t4g.nano"

// NewPeopleAccess creates the selected ways in.
func NewPeopleAccess(scope constructs.Construct, id string, props PeopleAccessProps) (*PeopleAccess, error) {
	if props.Network == nil || props.Cluster == nil {
		return nil, fmt.Errorf("people access %s: Network and Cluster are required", id)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &PeopleAccess{Construct: c}
	if props.CloudShell {
		a.CloudShellSecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("CloudShellSecurityGroup"), &awsec2.SecurityGroupProps{
			Vpc:              props.Network.Vpc,
			Description:      jsii.String("CloudShell VPC environment: MySQL to the Aurora cluster only"),
			AllowAllOutbound: jsii.Bool(false),
		})
		props.Cluster.AllowFrom(a.CloudShellSecurityGroup, "MySQL from CloudShell VPC environments")
	}
	if props.Bastion {
		a.Bastion = newBastion(c, props.Network, props.Cluster)
		a.BastionSessionPolicy = newBastionSessionPolicy(c, a.Bastion)
	}
	return a, nil
}

// newBastion is the SSM-managed hop and its endpoints.
func newBastion(c constructs.Construct, network *Network, cluster *Cluster) awsec2.Instance {
	sg := awsec2.NewSecurityGroup(c, jsii.String("BastionSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              network.Vpc,
		Description:      jsii.String("SSM bastion: HTTPS to the SSM endpoints, MySQL to the cluster; nothing in"),
		AllowAllOutbound: jsii.Bool(false),
	})
	cluster.AllowFrom(sg, "MySQL from the SSM bastion (port forwarding)")

	endpointSG := awsec2.NewSecurityGroup(c, jsii.String("SsmEndpointSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              network.Vpc,
		Description:      jsii.String("SSM endpoints: HTTPS from the bastion only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	endpointSG.AddIngressRule(sg, awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS from the SSM bastion"), nil)
	sg.AddEgressRule(endpointSG, awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS to the SSM endpoints"), nil)
	for _, ep := range []struct {
		id      string
		service awsec2.InterfaceVpcEndpointAwsService
	}{
		{"SsmEndpoint", awsec2.InterfaceVpcEndpointAwsService_SSM()},
		{"SsmMessagesEndpoint", awsec2.InterfaceVpcEndpointAwsService_SSM_MESSAGES()},
		{"Ec2MessagesEndpoint", awsec2.InterfaceVpcEndpointAwsService_EC2_MESSAGES()},
	} {
		awsec2.NewInterfaceVpcEndpoint(c, jsii.String(ep.id), &awsec2.InterfaceVpcEndpointProps{
			Vpc:               network.Vpc,
			Service:           ep.service,
			Subnets:           network.Subnets,
			PrivateDnsEnabled: jsii.Bool(true),
			SecurityGroups:    &[]awsec2.ISecurityGroup{endpointSG},
			Open:              jsii.Bool(false),
		})
	}

	role := awsiam.NewRole(c, jsii.String("BastionRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description: jsii.String("rdsiam SSM bastion: Session Manager only; no database or secret access"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonSSMManagedInstanceCore")),
		},
	})
	suppress(role, nagRule{ID: "AwsSolutions-IAM4",
		AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore"},
		Reason:    "The policy the SSM agent is documented against; AWS keeps it in step with the agent's APIs. It grants Session Manager and instance-information calls, no data access."})

	instance := awsec2.NewInstance(c, jsii.String("Bastion"), &awsec2.InstanceProps{
		Vpc:                      network.Vpc,
		VpcSubnets:               network.Subnets,
		InstanceType:             awsec2.NewInstanceType(jsii.String(bastionInstanceType)),
		MachineImage:             awsec2.MachineImage_LatestAmazonLinux2023(&awsec2.AmazonLinux2023ImageSsmParameterProps{CpuType: awsec2.AmazonLinuxCpuType_ARM_64}),
		SecurityGroup:            sg,
		Role:                     role,
		AssociatePublicIpAddress: jsii.Bool(false),
		DetailedMonitoring:       jsii.Bool(true),
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(8), &awsec2.EbsDeviceOptions{
				Encrypted: jsii.Bool(true), VolumeType: awsec2.EbsDeviceVolumeType_GP3, DeleteOnTermination: jsii.Bool(true),
			}),
		}},
	})
	// IMDSv2 only, set on the instance itself: the instance's RequireImdsv2
	// would add a launch template with a fixed name ("BastionLaunchTemplate"),
	// which two deployments in one account and region could not share.
	instance.Instance().SetMetadataOptions(&awsec2.CfnInstance_MetadataOptionsProperty{
		HttpTokens: jsii.String("required"), HttpEndpoint: jsii.String("enabled"),
	})
	suppress(instance, nagRule{ID: "AwsSolutions-EC29",
		Reason: "The bastion holds no data and is replaced rather than repaired; termination protection would make every stack update or deletion fail on it."})
	return instance
}

// BastionSessionPolicyName is the managed policy people attach (with a
// human user's connect policy) to use the bastion: "<stack>-bastion-session".
func BastionSessionPolicyName(stackName string) string {
	return stackName + "-bastion-session"
}

// newBastionSessionPolicy allows Session Manager port forwarding to the
// bastion with AWS-StartPortForwardingSessionToRemoteHost only. The
// ssm:SessionDocumentAccessCheck condition makes Session Manager check the
// document even when none is named; without it, StartSession on the
// instance would also open the default shell session.
func newBastionSessionPolicy(c constructs.Construct, bastion awsec2.Instance) awsiam.ManagedPolicy {
	stack := awscdk.Stack_Of(c)
	instanceArn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ec2"), Resource: jsii.String("instance"), ResourceName: bastion.InstanceId()})
	documentArn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ssm"), Account: jsii.String(""), Resource: jsii.String("document"), ResourceName: jsii.String("AWS-StartPortForwardingSessionToRemoteHost")})
	ownSessions := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ssm"), Resource: jsii.String("session"), ResourceName: jsii.String("${aws:userid}-*")})
	policy := awsiam.NewManagedPolicy(c, jsii.String("BastionSessionPolicy"), &awsiam.ManagedPolicyProps{
		ManagedPolicyName: jsii.String(BastionSessionPolicyName(*stack.StackName())),
		Description:       jsii.String("rdsiam: port forwarding to the database through the SSM bastion (rdsiam connect --ssm); no shell"),
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:    jsii.Strings("ssm:StartSession"),
				Resources:  &[]*string{instanceArn, documentArn},
				Conditions: &map[string]any{"BoolIfExists": map[string]any{"ssm:SessionDocumentAccessCheck": "true"}},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("ssm:TerminateSession", "ssm:ResumeSession"),
				Resources: &[]*string{ownSessions},
			}),
		},
	})
	suppress(policy, nagRule{ID: "AwsSolutions-IAM5",
		AppliesTo: []string{"Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:session/<aws:userid>-*"},
		Reason:    "A person may end or resume only the sessions Session Manager named after their own user id; session ids are not known in advance."})
	return policy
}
