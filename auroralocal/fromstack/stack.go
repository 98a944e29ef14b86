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
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/rdsiam/rdsiam/auroralocal/iampolicy"
	"github.com/rdsiam/rdsiam/lambda/userprops"
)

// Stack is a synthesized rdsiam template and the logical ids that matter
// for a local run.
type Stack struct {
	Template *iampolicy.Template
	// ClusterID is the AWS::RDS::DBCluster; "" when the cluster is
	// imported (Imported says what the template knows of it).
	ClusterID string
	// Imported is the cluster a template without an AWS::RDS::DBCluster
	// names in literals (awsrds.DatabaseCluster_FromDatabaseClusterAttributes);
	// nil when the template creates its cluster.
	Imported *ImportedCluster
	// QueryFunctions are the functions whose environment names a database
	// user (DB_USER), with their roles, by logical id.
	QueryFunctions []Function
	// QueryFunctionID and QueryRoleID: the first of QueryFunctions (the
	// only one in this repository's app).
	QueryFunctionID, QueryRoleID string
	// BootstrapFunctionID and BootstrapRoleID: the custom-resource handler
	// (the Go function without DB_USER), and its role.
	BootstrapFunctionID, BootstrapRoleID string
	// UserIDs are the Custom::DatabaseUser resources.
	UserIDs []string
	// SampleTableIDs are the Custom::SampleTable resources (the sample
	// app's table); none in a template that does not create it.
	SampleTableIDs []string

	raw map[string]any
}

// Function is a Go function of the template and its role.
type Function struct{ ID, RoleID string }

// ImportedCluster is an imported cluster's attributes as the template
// holds them: the user resources' Endpoint and SecretArn, and the
// resource id in the rds-db:connect ARNs.
type ImportedCluster struct {
	ResourceID, Endpoint, SecretArn string
}

// connectResourceID finds the cluster resource id in literal rds-db ARNs.
var connectResourceID = regexp.MustCompile(`:dbuser:(cluster-[A-Za-z0-9]+)/`)

// Parse reads a template synthesized from stacks.NewRdsIamStack, or from
// any app that uses stacks.NewUserProvider and stacks.NewDatabaseUser: a
// created or an imported cluster, one bootstrap function, any number of
// users and of functions that log in as them.
func Parse(data []byte) (*Stack, error) {
	t, err := iampolicy.LoadTemplate(data)
	if err != nil {
		return nil, fmt.Errorf("fromstack: %w", err)
	}
	s := &Stack{Template: t}
	if err := json.Unmarshal(data, &s.raw); err != nil {
		return nil, fmt.Errorf("fromstack: %w", err)
	}
	s.UserIDs = t.ResourcesOfType(userprops.UserResourceType)
	if len(s.UserIDs) == 0 {
		return nil, fmt.Errorf("fromstack: the template has no %s", userprops.UserResourceType)
	}
	s.SampleTableIDs = t.ResourcesOfType(userprops.SampleTableResourceType)
	switch clusters := t.ResourcesOfType("AWS::RDS::DBCluster"); len(clusters) {
	case 0:
		if s.Imported, err = importedCluster(t, s.UserIDs, data); err != nil {
			return nil, err
		}
	case 1:
		s.ClusterID = clusters[0]
	default:
		return nil, fmt.Errorf("fromstack: want at most one AWS::RDS::DBCluster, found %v", clusters)
	}
	var bootstraps []Function
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
			s.QueryFunctions = append(s.QueryFunctions, Function{id, role})
		} else {
			bootstraps = append(bootstraps, Function{id, role})
		}
	}
	if len(s.QueryFunctions) == 0 || len(bootstraps) != 1 {
		return nil, fmt.Errorf("fromstack: want query functions (with DB_USER) and one bootstrap function (without); found %v and %v",
			s.QueryFunctions, bootstraps)
	}
	s.QueryFunctionID, s.QueryRoleID = s.QueryFunctions[0].ID, s.QueryFunctions[0].RoleID
	s.BootstrapFunctionID, s.BootstrapRoleID = bootstraps[0].ID, bootstraps[0].RoleID
	return s, nil
}

// importedCluster reads an imported cluster's attributes: every user
// resource must name the same literal endpoint and secret, and the
// template's rds-db ARNs one resource id.
func importedCluster(t *iampolicy.Template, userIDs []string, data []byte) (*ImportedCluster, error) {
	var c ImportedCluster
	for _, id := range userIDs {
		r, _ := t.Resource(id)
		endpoint, ok1 := r.Properties["Endpoint"].(string)
		secret, ok2 := r.Properties["SecretArn"].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("fromstack: no AWS::RDS::DBCluster, and user %s's Endpoint and SecretArn are not literals of an imported cluster: %v, %v",
				id, r.Properties["Endpoint"], r.Properties["SecretArn"])
		}
		if c.Endpoint != "" && (endpoint != c.Endpoint || secret != c.SecretArn) {
			return nil, fmt.Errorf("fromstack: users name two clusters (%s and %s); one provider per template is supported", c.Endpoint, endpoint)
		}
		c.Endpoint, c.SecretArn = endpoint, secret
	}
	ids := map[string]bool{}
	for _, m := range connectResourceID.FindAllSubmatch(data, -1) {
		ids[string(m[1])] = true
	}
	if len(ids) != 1 {
		return nil, fmt.Errorf("fromstack: an imported cluster's rds-db:connect ARNs must name one cluster resource id, found %v", slices.Sorted(maps.Keys(ids)))
	}
	for id := range ids {
		c.ResourceID = id
	}
	return &c, nil
}

// ClusterResourceID is the resource id the local engine plays: the
// imported cluster's, or LocalClusterResourceID for a created one.
func (s *Stack) ClusterResourceID() string {
	if s.Imported != nil {
		return s.Imported.ResourceID
	}
	return LocalClusterResourceID
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

// HostRef keeps Place.Host in an Env's Refs: no template can Ref it (a
// logical id has no colon).
const HostRef = "rdsiam:Host"

// Env resolves the template's intrinsics for place. The cluster's resource
// id and endpoint get the stand-in's values; every other Ref and GetAtt in
// the template gets a placeholder "local:<id>" or "local:<id>.<attribute>",
// which no rds-db ARN can match by accident.
func (s *Stack) Env(place Place) iampolicy.Env {
	env := iampolicy.Env{
		Partition: place.Partition, Region: place.Region, Account: place.Account,
		Refs:  map[string]string{"AWS::StackName": "local", "AWS::URLSuffix": iampolicy.DefaultURLSuffix, HostRef: place.Host},
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
	if s.Imported != nil {
		// Its attributes are literals; UserProperties and FunctionEnv
		// point its endpoint at the engine.
		return env
	}
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
//
// For an imported cluster, the Endpoint the template names becomes
// env's host (Env's place.Host, kept as Refs[HostRef]).
func (s *Stack) UserProperties(userID string, env iampolicy.Env, port int) (map[string]any, error) {
	if !slices.Contains(s.UserIDs, userID) {
		return nil, fmt.Errorf("fromstack: no %s %q (have %v)", userprops.UserResourceType, userID, s.UserIDs)
	}
	return s.resourceProperties(userID, env, port)
}

// SampleTableProperties is UserProperties for a Custom::SampleTable.
func (s *Stack) SampleTableProperties(id string, env iampolicy.Env, port int) (map[string]any, error) {
	if !slices.Contains(s.SampleTableIDs, id) {
		return nil, fmt.Errorf("fromstack: no %s %q (have %v)", userprops.SampleTableResourceType, id, s.SampleTableIDs)
	}
	return s.resourceProperties(id, env, port)
}

func (s *Stack) resourceProperties(userID string, env iampolicy.Env, port int) (map[string]any, error) {
	r, _ := s.Template.Resource(userID)
	resolved, err := iampolicy.Resolve(r.Properties, env)
	if err != nil {
		return nil, fmt.Errorf("fromstack: %s properties: %w", userID, err)
	}
	props, _ := resolved.(map[string]any)
	props["Port"] = fmt.Sprint(port)
	if s.Imported != nil && props["Endpoint"] == s.Imported.Endpoint {
		props["Endpoint"] = env.Refs[HostRef]
	}
	return props, nil
}

// FunctionEnv returns the query function's resolved environment, with
// DB_PORT replaced by the stand-in's port.
func (s *Stack) FunctionEnv(env iampolicy.Env, port int) (map[string]string, error) {
	return s.FunctionEnvOf(s.QueryFunctionID, env, port)
}

// FunctionEnvOf is FunctionEnv for any of QueryFunctions; an imported
// cluster's endpoint in DB_ENDPOINT becomes env's host.
func (s *Stack) FunctionEnvOf(functionID string, env iampolicy.Env, port int) (map[string]string, error) {
	if !slices.ContainsFunc(s.QueryFunctions, func(f Function) bool { return f.ID == functionID }) {
		return nil, fmt.Errorf("fromstack: no query function %q (have %v)", functionID, s.QueryFunctions)
	}
	r, _ := s.Template.Resource(functionID)
	resolved, err := iampolicy.Resolve(envVars(r), env)
	if err != nil {
		return nil, fmt.Errorf("fromstack: %s environment: %w", functionID, err)
	}
	out := map[string]string{}
	for k, v := range resolved.(map[string]any) {
		out[k] = fmt.Sprint(v)
	}
	out["DB_PORT"] = fmt.Sprint(port)
	if s.Imported != nil && out["DB_ENDPOINT"] == s.Imported.Endpoint {
		out["DB_ENDPOINT"] = env.Refs[HostRef]
	}
	return out, nil
}
