package test

import (
	"path/filepath"
	"testing"
)

// TestSnapshotsPeople: what issue 14 adds, as golden files. snapshots/
// people.json is the default stack's human user policy (and no way in);
// snapshots/people/ is the "people" variant (two human users, CloudShell
// access and the SSM bastion) with its IAM, security groups, users and nag
// suppressions. Rewrite with `make snapshots` when a change is meant.
func TestSnapshotsPeople(t *testing.T) {
	write := func(t *testing.T, path string, v any) {
		compareSnapshot(t, path, snapshotJSON(t, v))
	}
	t.Run("default", func(t *testing.T) {
		write(t, filepath.Join("snapshots", "people.json"), peopleSnapshot(tmpl(t, "default")))
	})
	people := tmpl(t, "people")
	for name, build := range map[string]func(*template) any{
		"people":           peopleSnapshot,
		"iam":              iamSnapshot,
		"security-groups":  securityGroupSnapshot,
		"database-users":   databaseUserSnapshot,
		"nag-suppressions": func(tp *template) any { return nagSuppressions(tp) },
	} {
		t.Run("people/"+name, func(t *testing.T) {
			write(t, filepath.Join("snapshots", "people", name+".json"), build(people))
		})
	}
}

// peopleSnapshot: the managed policies (name and document), the ways in
// (bastion instance and its launch template, VPC endpoints) and the
// outputs people use.
func peopleSnapshot(tp *template) any {
	policies := map[string]any{}
	for _, id := range tp.OfType("AWS::IAM::ManagedPolicy") {
		p := tp.Resources[id].Properties
		policies[id] = map[string]any{"name": p["ManagedPolicyName"], "document": p["PolicyDocument"], "attachedTo": [][]any{
			asList(p["Roles"]), asList(p["Users"]), asList(p["Groups"])}}
	}
	props := func(types ...string) map[string]any {
		out := map[string]any{}
		for _, typ := range types {
			for _, id := range tp.OfType(typ) {
				out[id] = tp.Resources[id].Properties
			}
		}
		return out
	}
	outputs := map[string]any{}
	for _, k := range []string{"ClusterPort", "DatabaseName", "HumanUsers", "HumanUser1Policy", "HumanUser2Policy",
		"VpcId", "CloudShellSecurityGroupId", "CloudShellSubnetIds", "BastionInstanceId", "BastionSessionPolicy"} {
		if o, ok := tp.Outputs[k]; ok {
			outputs[k] = o.Value
		}
	}
	return map[string]any{
		"managedPolicies": policies,
		"instances":       props("AWS::EC2::Instance", "AWS::EC2::LaunchTemplate"),
		"vpcEndpoints":    props("AWS::EC2::VPCEndpoint"),
		"outputs":         outputs,
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
