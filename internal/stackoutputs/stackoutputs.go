// Package stackoutputs names the CloudFormation outputs of the rdsiam stack
// that programs read: the stack (package stacks) writes them and
// `rdsiam connect` (package connect) reads them, so a rename cannot break
// one side silently. It imports nothing, so the CLI does not pull in the CDK.
package stackoutputs

import "strconv"

// Output keys.
const (
	// ClusterEndpoint is the writer endpoint's host name, no port.
	ClusterEndpoint = "ClusterEndpoint"
	// ClusterPort is the port the cluster listens on.
	ClusterPort = "ClusterPort"
	// DatabaseName is the database the users are granted on.
	DatabaseName = "DatabaseName"
	// HumanUsers is the comma-separated list of database users for people.
	HumanUsers = "HumanUsers"
	// CloudShellSecurityGroupID and CloudShellSubnetIDs are what a
	// CloudShell VPC environment needs (only with cloudShellAccess).
	CloudShellSecurityGroupID = "CloudShellSecurityGroupId"
	CloudShellSubnetIDs       = "CloudShellSubnetIds"
	// VpcID is the stack's VPC (with cloudShellAccess or ssmBastion).
	VpcID = "VpcId"
	// BastionInstanceID is the SSM-managed bastion (only with ssmBastion).
	BastionInstanceID = "BastionInstanceId"
	// BastionSessionPolicy is the ARN of the managed policy that allows
	// port forwarding through the bastion (only with ssmBastion).
	BastionSessionPolicy = "BastionSessionPolicy"
)

// HumanUserPolicy is the output holding the ARN of the managed policy for
// the i-th (0-based) human user: "HumanUser1Policy", "HumanUser2Policy", …
// (output ids are alphanumeric, so the user name cannot be part of it; the
// description names the user).
func HumanUserPolicy(i int) string {
	return "HumanUser" + strconv.Itoa(i+1) + "Policy"
}
