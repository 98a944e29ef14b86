// Package fromstack runs a synthesized rdsiam stack against the local
// Aurora stand-in: the stand-in authorizes logins with the IAM policies the
// template gives each role, the bootstrap handler receives the custom
// resource's properties from the template, and the query function gets the
// environment the template gives it. Only the addresses differ (the
// stand-in's host, port and cluster resource id replace the cluster's
// attributes), so a wrong policy, property or variable in the stack fails
// here as it would on AWS.
//
// Used by the end-to-end tests and by cmd/rdsiam-local; never by a Lambda.
package fromstack

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/rdsiam/rdsiam/auroralocal/iampolicy"
)

// Stack is a synthesized rdsiam template and the logical ids that matter
// for a local run.
type Stack struct {
	Template *iampolicy.Template
	// ClusterID is the AWS::RDS::DBCluster.
	ClusterID string
	// QueryFunctionID and QueryRoleID: the function whose environment names
	// a database user (DB_USER), and its role.
	QueryFunctionID, QueryRoleID string
	// BootstrapFunctionID and BootstrapRoleID: the custom-resource handler
	// (the Go function without DB_USER), and its role.
	BootstrapFunctionID, BootstrapRoleID string
	// UserIDs are the Custom::DatabaseUser resources.
	UserIDs []string

	raw map[string]any
}

// Parse reads a template synthesized from stacks.NewRdsIamStack.
func Parse(data []byte) (*Stack, error) {
	t, err := iampolicy.LoadTemplate(data)
	if err != nil {
		return nil, fmt.Errorf("fromstack: %w", err)
	}
	s := &Stack{Template: t}
	if err := json.Unmarshal(data, &s.raw); err != nil {
		return nil, fmt.Errorf("fromstack: %w", err)
	}
	clusters := t.ResourcesOfType("AWS::RDS::DBCluster")
	if len(clusters) != 1 {
		return nil, fmt.Errorf("fromstack: want one AWS::RDS::DBCluster, found %d", len(clusters))
	}
	s.ClusterID = clusters[0]
	s.UserIDs = t.ResourcesOfType("Custom::DatabaseUser")
	if len(s.UserIDs) == 0 {
		return nil, fmt.Errorf("fromstack: the template has no Custom::DatabaseUser")
	}
	for _, id := range t.ResourcesOfType("AWS::Lambda::Function") {
		r, _ := t.Resource(id)
		if r.Properties["Runtime"] != "provided.al2023" {
			continue // CDK's own Node.js helpers
		}
		role, err := roleOf(r)
		if err != nil {
			return nil, fmt.Errorf("fromstack: function %s: %w", id, err)
		}
		if _, ok := envVars(r)["DB_USER"]; ok {
			s.QueryFunctionID, s.QueryRoleID = id, role
		} else {
			s.BootstrapFunctionID, s.BootstrapRoleID = id, role
		}
	}
	if s.QueryFunctionID == "" || s.BootstrapFunctionID == "" {
		return nil, fmt.Errorf("fromstack: want a query function (with DB_USER) and a bootstrap function; found %q and %q",
			s.QueryFunctionID, s.BootstrapFunctionID)
	}
	return s, nil
}

// roleOf returns the logical id in a function's Role: {"Fn::GetAtt":[id,"Arn"]}.
func roleOf(r iampolicy.Resource) (string, error) {
	m, _ := r.Properties["Role"].(map[string]any)
	att, _ := m["Fn::GetAtt"].([]any)
	if len(att) != 2 || att[1] != "Arn" {
		return "", fmt.Errorf("Role is not a role of this template: %v", r.Properties["Role"])
	}
	id, _ := att[0].(string)
	return id, nil
}

func envVars(r iampolicy.Resource) map[string]any {
	env, _ := r.Properties["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	return vars
}

// Place is where the stack "is deployed" locally.
type Place struct {
	Partition, Region, Account string
	// ClusterResourceID stands for the cluster's DBClusterResourceId.
	ClusterResourceID string
	// Host stands for the cluster endpoint's address.
	Host string
}

// Env resolves the template's intrinsics for place. The cluster's resource
// id and endpoint get the stand-in's values; every other Ref and GetAtt in
// the template gets a placeholder "local:<id>" or "local:<id>.<attribute>",
// which no rds-db ARN can match by accident.
func (s *Stack) Env(place Place) iampolicy.Env {
	env := iampolicy.Env{
		Partition: place.Partition, Region: place.Region, Account: place.Account,
		Refs:  map[string]string{"AWS::StackName": "local", "AWS::URLSuffix": iampolicy.DefaultURLSuffix},
		Attrs: map[string]string{},
	}
	walk(s.raw, func(v map[string]any) {
		if r, ok := v["Ref"].(string); ok && !strings.HasPrefix(r, "AWS::") {
			env.Refs[r] = "local:" + r
		}
		if a, ok := v["Fn::GetAtt"].([]any); ok && len(a) == 2 {
			env.Attrs[fmt.Sprintf("%v.%v", a[0], a[1])] = fmt.Sprintf("local:%v.%v", a[0], a[1])
		}
	})
	env.Attrs[s.ClusterID+".DBClusterResourceId"] = place.ClusterResourceID
	env.Attrs[s.ClusterID+".Endpoint.Address"] = place.Host
	// The handler checks the property is a secret ARN; this one is made up.
	env.Attrs[s.ClusterID+".MasterUserSecret.SecretArn"] = fmt.Sprintf(
		"arn:%s:secretsmanager:%s:%s:secret:rds!%s-local", place.Partition, place.Region, place.Account, place.ClusterResourceID)
	s.scaleAttrs(&env, place)
	return env
}

func walk(v any, visit func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		visit(x)
		for _, e := range x {
			walk(e, visit)
		}
	case []any:
		for _, e := range x {
			walk(e, visit)
		}
	}
}

// RolePolicies returns a role's identity policies, resolved for env. It
// fails if the role has AWS managed policies attached: their content is not
// in the template, so they could grant rds-db:connect unseen.
func (s *Stack) RolePolicies(roleID string, env iampolicy.Env) (iampolicy.PolicySet, error) {
	managed, err := s.Template.ManagedPolicyARNs(roleID, env)
	if err != nil {
		return nil, fmt.Errorf("fromstack: role %s: %w", roleID, err)
	}
	if len(managed) > 0 {
		return nil, fmt.Errorf("fromstack: role %s has managed policies %v that cannot be read from the template", roleID, managed)
	}
	set, err := s.Template.RolePolicies(roleID, env)
	if err != nil {
		return nil, fmt.Errorf("fromstack: role %s: %w", roleID, err)
	}
	return set, nil
}

// UserProperties returns the resolved ResourceProperties of a
// Custom::DatabaseUser as CloudFormation would send them, with Port
// replaced by the stand-in's port (the template says 3306).
func (s *Stack) UserProperties(userID string, env iampolicy.Env, port int) (map[string]any, error) {
	if !slices.Contains(s.UserIDs, userID) {
		return nil, fmt.Errorf("fromstack: no Custom::DatabaseUser %q (have %v)", userID, s.UserIDs)
	}
	r, _ := s.Template.Resource(userID)
	resolved, err := iampolicy.Resolve(r.Properties, env)
	if err != nil {
		return nil, fmt.Errorf("fromstack: %s properties: %w", userID, err)
	}
	props, _ := resolved.(map[string]any)
	props["Port"] = fmt.Sprint(port)
	return props, nil
}

// FunctionEnv returns the query function's resolved environment, with
// DB_PORT replaced by the stand-in's port.
func (s *Stack) FunctionEnv(env iampolicy.Env, port int) (map[string]string, error) {
	r, _ := s.Template.Resource(s.QueryFunctionID)
	resolved, err := iampolicy.Resolve(envVars(r), env)
	if err != nil {
		return nil, fmt.Errorf("fromstack: %s environment: %w", s.QueryFunctionID, err)
	}
	out := map[string]string{}
	for k, v := range resolved.(map[string]any) {
		out[k] = fmt.Sprint(v)
	}
	out["DB_PORT"] = fmt.Sprint(port)
	return out, nil
}
