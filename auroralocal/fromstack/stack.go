// Package fromstack runs a synthesized rdsiam stack against the local
// Aurora stand-in: the stand-in authorizes logins with the IAM policies the
// template gives each role, each user provider's handler receives its
// users' properties from the template, and each query function gets the
// environment the template gives it. Only the addresses differ (the
// stand-in's host, port and cluster resource id replace the cluster's
// attributes), so a wrong policy, property or variable in the stack fails
// here as it would on AWS.
//
// Used by the end-to-end tests and by cmd/rdsiam-local; never by a Lambda.
package fromstack

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/rdsiam/rdsiam/auroralocal/cfntemplate"
	"github.com/rdsiam/rdsiam/auroralocal/iampolicy"
	"github.com/rdsiam/rdsiam/lambda/userprops"
)

// Stack is a synthesized rdsiam template and the logical ids that matter
// for a local run.
type Stack struct {
	Template *cfntemplate.Template
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
	// UserHandlers are the custom-resource handlers (the Go functions
	// without DB_USER), one per user provider, by logical id.
	UserHandlers []Function
	// ProviderFunctionID and ProviderRoleID: the first of UserHandlers
	// (the only one in this repository's app).
	ProviderFunctionID, ProviderRoleID string
	// UserIDs are the Custom::DatabaseUser resources.
	UserIDs []string
	// SampleTableIDs are the Custom::SampleTable resources (the sample
	// app's table); none in a template that does not create it.
	SampleTableIDs []string

	// handlerOf is the handler each user's ServiceToken reaches.
	handlerOf map[string]Function
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
// any app that uses stacks.NewUserProvider and stacks.NewDatabaseUser; see
// FromTemplate.
func Parse(data []byte) (*Stack, error) {
	t, err := cfntemplate.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("fromstack: %w", err)
	}
	return FromTemplate(t)
}

// FromTemplate reads a parsed template: a created or an imported cluster
// (one: the engine plays one cluster), any number of user providers, of
// users on them and of functions that log in as them. Each user's
// ServiceToken must reach one provider's Go handler, directly or through
// CDK's provider framework function.
func FromTemplate(t *cfntemplate.Template) (*Stack, error) {
	s := &Stack{Template: t}
	s.UserIDs = t.OfType(userprops.UserResourceType)
	if len(s.UserIDs) == 0 {
		return nil, fmt.Errorf("fromstack: the template has no %s", userprops.UserResourceType)
	}
	s.SampleTableIDs = t.OfType(userprops.SampleTableResourceType)
	var err error
	if s.ClusterID, err = t.AtMostOne("AWS::RDS::DBCluster"); err != nil {
		return nil, fmt.Errorf("fromstack: the engine plays one cluster: %w", err)
	}
	if s.ClusterID == "" {
		if s.Imported, err = importedCluster(t, s.UserIDs); err != nil {
			return nil, err
		}
	}
	if err := s.readFunctions(); err != nil {
		return nil, err
	}
	s.QueryFunctionID, s.QueryRoleID = s.QueryFunctions[0].ID, s.QueryFunctions[0].RoleID
	s.ProviderFunctionID, s.ProviderRoleID = s.UserHandlers[0].ID, s.UserHandlers[0].RoleID
	return s, nil
}

// readFunctions sorts the template's Go functions into query functions
// (with DB_USER) and user handlers (without), and finds each user's
// handler.
func (s *Stack) readFunctions() error {
	t := s.Template
	handlers := map[string]Function{}
	for _, id := range t.OfType("AWS::Lambda::Function") {
		r := t.Resources[id]
		if r.Properties["Runtime"] != "provided.al2023" {
			continue // CDK's own Node.js helpers
		}
		role, ok := t.ArnOf(r.Properties["Role"])
		if !ok {
			return fmt.Errorf("fromstack: function %s: Role is not a role of this template: %v", id, r.Properties["Role"])
		}
		if _, ok := envVars(r)["DB_USER"]; ok {
			s.QueryFunctions = append(s.QueryFunctions, Function{id, role})
		} else {
			s.UserHandlers = append(s.UserHandlers, Function{id, role})
			handlers[id] = Function{id, role}
		}
	}
	if len(s.QueryFunctions) == 0 || len(s.UserHandlers) == 0 {
		return fmt.Errorf("fromstack: want query functions (with DB_USER) and user handlers (without); found %v and %v",
			s.QueryFunctions, s.UserHandlers)
	}
	s.handlerOf = map[string]Function{}
	for _, id := range slices.Concat(s.UserIDs, s.SampleTableIDs) {
		h, err := handlerOf(t, id, handlers)
		if err != nil {
			return err
		}
		s.handlerOf[id] = h
	}
	return nil
}

// handlerOf follows user resource id's ServiceToken to a Go handler: the
// token is the handler's Arn, or that of a relay (CDK's provider framework
// function) whose environment holds the handler's Arn.
func handlerOf(t *cfntemplate.Template, id string, handlers map[string]Function) (Function, error) {
	token := t.Resources[id].Properties["ServiceToken"]
	fn, ok := t.ArnOf(token)
	if !ok {
		return Function{}, fmt.Errorf("fromstack: user %s: ServiceToken %v is not the Arn of a function of this template", id, token)
	}
	if h, ok := handlers[fn]; ok {
		return h, nil
	}
	var found []Function
	for _, v := range envVars(t.Resources[fn]) {
		if target, ok := t.ArnOf(v); ok {
			if h, ok := handlers[target]; ok {
				found = append(found, h)
			}
		}
	}
	if len(found) != 1 {
		return Function{}, fmt.Errorf("fromstack: user %s: its ServiceToken function %s relays to %v; want exactly one of the user handlers %s",
			id, fn, found, strings.Join(slices.Sorted(maps.Keys(handlers)), ", "))
	}
	return found[0], nil
}

// HandlerOf returns the user handler that user (or sample table) resource
// userID's provider runs.
func (s *Stack) HandlerOf(userID string) (Function, error) {
	h, ok := s.handlerOf[userID]
	if !ok {
		return Function{}, fmt.Errorf("fromstack: no %s or %s %q (have %v and %v)", userprops.UserResourceType,
			userprops.SampleTableResourceType, userID, s.UserIDs, s.SampleTableIDs)
	}
	return h, nil
}

// importedCluster reads an imported cluster's attributes: every user
// resource, whichever provider serves it, must name the same literal
// endpoint and secret, and the template's rds-db ARNs one resource id.
func importedCluster(t *cfntemplate.Template, userIDs []string) (*ImportedCluster, error) {
	var c ImportedCluster
	for _, id := range userIDs {
		p := t.Resources[id].Properties
		endpoint, ok1 := p["Endpoint"].(string)
		secret, ok2 := p["SecretArn"].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("fromstack: no AWS::RDS::DBCluster, and user %s's Endpoint and SecretArn are not literals of an imported cluster: %v, %v",
				id, p["Endpoint"], p["SecretArn"])
		}
		if c.Endpoint != "" && endpoint != c.Endpoint {
			return nil, fmt.Errorf("fromstack: users name two clusters (%s and %s); the engine plays one", c.Endpoint, endpoint)
		}
		if c.SecretArn != "" && secret != c.SecretArn {
			return nil, fmt.Errorf("fromstack: users name two admin secrets (%s and %s) for cluster %s; the engine has one master", c.SecretArn, secret, endpoint)
		}
		c.Endpoint, c.SecretArn = endpoint, secret
	}
	ids := map[string]bool{}
	t.Walk(func(v any) {
		if s, ok := v.(string); ok {
			for _, m := range connectResourceID.FindAllStringSubmatch(s, -1) {
				ids[m[1]] = true
			}
		}
	})
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

func envVars(r cfntemplate.Resource) map[string]any {
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
func (s *Stack) Env(place Place) cfntemplate.Env {
	env := cfntemplate.Env{
		Partition: place.Partition, Region: place.Region, Account: place.Account,
		Refs:  map[string]string{"AWS::StackName": "local", "AWS::URLSuffix": cfntemplate.DefaultURLSuffix, HostRef: place.Host},
		Attrs: map[string]string{},
	}
	s.Template.Walk(func(v any) {
		if r, ok := cfntemplate.RefTarget(v); ok && !strings.HasPrefix(r, "AWS::") {
			env.Refs[r] = "local:" + r
		}
		if id, attr, ok := cfntemplate.GetAttTarget(v); ok {
			env.Attrs[id+"."+attr] = "local:" + id + "." + attr
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

// RolePolicies returns a role's identity policies, resolved for env. It
// fails if the role has AWS managed policies attached: their content is not
// in the template, so they could grant rds-db:connect unseen.
func (s *Stack) RolePolicies(roleID string, env cfntemplate.Env) (iampolicy.PolicySet, error) {
	managed, err := iampolicy.ManagedPolicyARNs(s.Template, roleID, env)
	if err != nil {
		return nil, fmt.Errorf("fromstack: role %s: %w", roleID, err)
	}
	if len(managed) > 0 {
		return nil, fmt.Errorf("fromstack: role %s has managed policies %v that cannot be read from the template", roleID, managed)
	}
	set, err := iampolicy.RolePolicies(s.Template, roleID, env)
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
func (s *Stack) UserProperties(userID string, env cfntemplate.Env, port int) (map[string]any, error) {
	if !slices.Contains(s.UserIDs, userID) {
		return nil, fmt.Errorf("fromstack: no %s %q (have %v)", userprops.UserResourceType, userID, s.UserIDs)
	}
	return s.resourceProperties(userID, env, port)
}

// SampleTableProperties is UserProperties for a Custom::SampleTable.
func (s *Stack) SampleTableProperties(id string, env cfntemplate.Env, port int) (map[string]any, error) {
	if !slices.Contains(s.SampleTableIDs, id) {
		return nil, fmt.Errorf("fromstack: no %s %q (have %v)", userprops.SampleTableResourceType, id, s.SampleTableIDs)
	}
	return s.resourceProperties(id, env, port)
}

func (s *Stack) resourceProperties(userID string, env cfntemplate.Env, port int) (map[string]any, error) {
	resolved, err := cfntemplate.Resolve(s.Template.Resources[userID].Properties, env)
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
func (s *Stack) FunctionEnv(env cfntemplate.Env, port int) (map[string]string, error) {
	return s.FunctionEnvOf(s.QueryFunctionID, env, port)
}

// FunctionEnvOf is FunctionEnv for any of QueryFunctions; an imported
// cluster's endpoint in DB_ENDPOINT becomes env's host.
func (s *Stack) FunctionEnvOf(functionID string, env cfntemplate.Env, port int) (map[string]string, error) {
	if !slices.ContainsFunc(s.QueryFunctions, func(f Function) bool { return f.ID == functionID }) {
		return nil, fmt.Errorf("fromstack: no query function %q (have %v)", functionID, s.QueryFunctions)
	}
	resolved, err := cfntemplate.Resolve(envVars(s.Template.Resources[functionID]), env)
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
