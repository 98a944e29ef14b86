package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// goFunctionProps are the parts that differ between the two Go functions.
type goFunctionProps struct {
	Binary      GoBinary
	Description string
	// SecurityGroupDescription is the function's security group's
	// description. Default "": Description + ": no egress except the rules
	// added for it". CloudFormation replaces a security group whose
	// description changes, so a function renamed after release keeps its
	// old one here.
	SecurityGroupDescription string
	// Vpc is where the function runs, in Subnets (nil: CDK's default
	// selection). Default nil: not in a VPC.
	Vpc         awsec2.IVpc
	Subnets     *awsec2.SubnetSelection
	MemoryMB    int
	Timeout     awscdk.Duration
	Environment map[string]*string
	// Reserved is the reserved concurrency; 0 reserves none.
	Reserved int
}

// goFunction is a provided.al2023 arm64 function running a binary built by
// BuildGoLambdas, with its own log group (one year) and a role holding only
// scoped inline policies: CDK's default role would attach the AWS managed
// AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole, which grant
// logs on every log group in the account.
type goFunction struct {
	Function      awslambda.Function
	Role          awsiam.Role
	LogGroup      awslogs.LogGroup
	SecurityGroup awsec2.SecurityGroup // nil outside a VPC
}

func newGoFunction(scope constructs.Construct, id string, props goFunctionProps) *goFunction {
	f := &goFunction{}
	f.LogGroup = awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	f.Role = newLambdaRole(scope, id+"Role", f.LogGroup, props.Vpc != nil)

	fp := &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(props.Binary.Dir), nil),
		Description:  jsii.String(props.Description),
		MemorySize:   jsii.Number(float64(props.MemoryMB)),
		Timeout:      props.Timeout,
		Role:         f.Role,
		LogGroup:     f.LogGroup,
		Environment:  &props.Environment,
		Tracing:      awslambda.Tracing_DISABLED,
	}
	if props.Reserved > 0 {
		fp.ReservedConcurrentExecutions = jsii.Number(float64(props.Reserved))
	}
	if props.Vpc != nil {
		sgDescription := props.SecurityGroupDescription
		if sgDescription == "" {
			sgDescription = props.Description + ": no egress except the rules added for it"
		}
		f.SecurityGroup = awsec2.NewSecurityGroup(scope, jsii.String(id+"SecurityGroup"), &awsec2.SecurityGroupProps{
			Vpc:              props.Vpc,
			Description:      jsii.String(sgDescription),
			AllowAllOutbound: jsii.Bool(false),
		})
		fp.Vpc = props.Vpc
		fp.VpcSubnets = props.Subnets
		fp.SecurityGroups = &[]awsec2.ISecurityGroup{f.SecurityGroup}
	}
	f.Function = awslambda.NewFunction(scope, jsii.String(id), fp)
	suppress(f.Function, nagSynchronousOnly, nagNoTracing)
	return f
}

// newLambdaRole is a role Lambda can assume, allowed to write to its own log
// group and, in a VPC, to manage the network interfaces Lambda attaches.
func newLambdaRole(scope constructs.Construct, id string, logs awslogs.ILogGroup, inVpc bool) awsiam.Role {
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WriteOwnLogs"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: jsii.Strings(*logs.LogGroupArn()),
		}),
	}
	if inVpc {
		// These EC2 actions do not support resource-level scoping for the
		// calls Lambda makes, so "*" is what AWS's own managed policy uses.
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ManageVpcNetworkInterfaces"),
			Actions: jsii.Strings("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
				"ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
				"ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"),
			Resources: jsii.Strings("*"),
		}))
	}
	role := awsiam.NewRole(scope, jsii.String(id), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		InlinePolicies: &map[string]awsiam.PolicyDocument{
			"Runtime": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements}),
		},
	})
	if inVpc {
		const why = "Statement ManageVpcNetworkInterfaces only: ec2:CreateNetworkInterface and the other ENI calls Lambda makes for a VPC function cannot be scoped to resources (the same statement as AWS's AWSLambdaVPCAccessExecutionRole, without its account-wide log rights)."
		suppress(role,
			nagRule{ID: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"}, Reason: why},
			nagRule{ID: "Serverless-LambdaStarPermissions", Reason: why})
	}
	return role
}
