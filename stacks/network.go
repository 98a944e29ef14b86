package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// NetworkProps configures Network. Its zero value is the app's default
// network: a new VPC with isolated subnets only and flow logs, and the
// Secrets Manager endpoint the user provider needs there.
type NetworkProps struct {
	// VpcID selects an existing VPC. Default "": a new VPC with two
	// availability zones and isolated subnets only (no NAT gateway, no
	// internet gateway).
	VpcID string
	// SubnetIDs and AvailabilityZones describe the existing VPC's subnets to
	// use, in the same order. Required with VpcID. They are taken as given
	// (no lookup), so synth needs no AWS credentials. Default: none (unused
	// without VpcID).
	SubnetIDs         []string
	AvailabilityZones []string
	// NoSecretsManagerEndpoint leaves out the interface endpoint for
	// Secrets Manager, the only AWS API the user provider's handler calls;
	// set it only with VpcID, for a VPC that already has one (isolated
	// subnets have no other way out). Default: false, the endpoint is
	// created, open only to what is allowed to it (the user provider opens
	// it to its handler through UserProviderProps.SecretsManager).
	NoSecretsManagerEndpoint bool
}

// Network is where the database and the functions live: isolated subnets,
// reachable from nothing outside the VPC.
type Network struct {
	constructs.Construct
	Vpc     awsec2.IVpc
	Subnets *awsec2.SubnetSelection
	// EndpointSecurityGroup guards the Secrets Manager endpoint (nil when no
	// endpoint is created); UserProviderProps.SecretsManager opens it to the
	// provider's handler.
	EndpointSecurityGroup awsec2.ISecurityGroup
}

// NewNetwork checks props, then creates or imports the VPC and the Secrets
// Manager endpoint.
func NewNetwork(scope constructs.Construct, id string, props NetworkProps) (*Network, error) {
	if err := props.validate(id); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	n := &Network{Construct: c}
	if props.VpcID == "" {
		vpc := awsec2.NewVpc(c, jsii.String("Vpc"), &awsec2.VpcProps{
			MaxAzs:                       jsii.Number(2),
			NatGateways:                  jsii.Number(0),
			RestrictDefaultSecurityGroup: jsii.Bool(true),
			SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
				Name:       jsii.String("Isolated"),
				SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED,
				CidrMask:   jsii.Number(24),
			}},
		})
		// Flow logs record rejected and accepted traffic for audits; a
		// year's retention is the usual compliance floor.
		vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
			Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(
				awslogs.NewLogGroup(c, jsii.String("FlowLogGroup"), &awslogs.LogGroupProps{
					Retention: awslogs.RetentionDays_ONE_YEAR,
				}), nil),
			TrafficType: awsec2.FlowLogTrafficType_ALL,
		})
		n.Vpc = vpc
	} else {
		n.Vpc = awsec2.Vpc_FromVpcAttributes(c, jsii.String("Vpc"), &awsec2.VpcAttributes{
			VpcId:             jsii.String(props.VpcID),
			AvailabilityZones: jsii.Strings(props.AvailabilityZones...),
			IsolatedSubnetIds: jsii.Strings(props.SubnetIDs...),
		})
		// Nothing here reads or adds routes (the endpoint is an
		// interface endpoint), so the route table ids are not asked for.
		for _, subnet := range *n.Vpc.IsolatedSubnets() {
			awscdk.Annotations_Of(subnet).AcknowledgeWarning(jsii.String("@aws-cdk/aws-ec2:noSubnetRouteTableId"),
				jsii.String("no route of the existing subnets is read or changed"))
		}
	}
	n.Subnets = &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}

	if !props.NoSecretsManagerEndpoint {
		sg := awsec2.NewSecurityGroup(c, jsii.String("SecretsManagerEndpointSecurityGroup"), &awsec2.SecurityGroupProps{
			Vpc: n.Vpc,
			// The words are the first release's: CloudFormation replaces a
			// security group whose description changes.
			Description:      jsii.String("Secrets Manager endpoint: HTTPS from the bootstrap function only"),
			AllowAllOutbound: jsii.Bool(false),
		})
		n.Vpc.AddInterfaceEndpoint(jsii.String("SecretsManagerEndpoint"), &awsec2.InterfaceVpcEndpointOptions{
			Service:           awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER(),
			Subnets:           n.Subnets,
			PrivateDnsEnabled: jsii.Bool(true),
			SecurityGroups:    &[]awsec2.ISecurityGroup{sg},
			Open:              jsii.Bool(false),
		})
		n.EndpointSecurityGroup = sg
	}
	return n, nil
}

// validate checks props with the rules of the context keys that set them
// in the app (and Config.Validate's between them), naming the field.
func (props NetworkProps) validate(id string) error {
	var errs propChecks
	checkProp(&errs, "NetworkProps.VpcID", props.VpcID, vpcIDRule)
	checkProp(&errs, "NetworkProps.SubnetIDs", props.SubnetIDs, subnetIDsRule)
	checkProp(&errs, "NetworkProps.AvailabilityZones", props.AvailabilityZones, availabilityZonesRule)
	refuse := func(field string, value any, allowed string) {
		errs = append(errs, &PropsError{Field: "NetworkProps." + field, Value: value, Allowed: allowed})
	}
	switch {
	case props.VpcID == "" && len(props.SubnetIDs)+len(props.AvailabilityZones) > 0:
		refuse("SubnetIDs", props.SubnetIDs, "none without VpcID (a new VPC makes its own subnets), and AvailabilityZones none either")
	case props.VpcID == "" && props.NoSecretsManagerEndpoint:
		refuse("NoSecretsManagerEndpoint", true, "false without VpcID: the new VPC's isolated subnets have no other way to Secrets Manager")
	case props.VpcID != "" && len(props.SubnetIDs) < 2:
		refuse("SubnetIDs", props.SubnetIDs, "at least two subnet ids (in two availability zones) with VpcID")
	case props.VpcID != "" && len(props.AvailabilityZones) != len(props.SubnetIDs):
		refuse("AvailabilityZones", props.AvailabilityZones, fmt.Sprintf("one availability zone per subnet id, in the same order (%d)", len(props.SubnetIDs)))
	}
	return errs.err("network " + id)
}

// secretsManager is the endpoint's security group as UserProviderProps
// wants it; nil when there is no endpoint. A typed nil would not compare
// equal to nil inside the interface, hence the check.
func (n *Network) secretsManager() awsec2.IConnectable {
	if n.EndpointSecurityGroup == nil {
		return nil
	}
	return n.EndpointSecurityGroup
}
