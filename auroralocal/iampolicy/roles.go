package iampolicy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rdsiam/rdsiam/auroralocal/cfntemplate"
)

// CloudFormation resource types this package reads.
const (
	TypeRole          = "AWS::IAM::Role"
	TypePolicy        = "AWS::IAM::Policy"
	TypeManagedPolicy = "AWS::IAM::ManagedPolicy"
	TypeRolePolicy    = "AWS::IAM::RolePolicy"
)

// roleTemplate reads a template's roles and the policies attached to them.
type roleTemplate struct{ *cfntemplate.Template }

// RolePolicies returns the identity-policy documents the template attaches
// to role roleLogicalID, with intrinsics resolved under env:
//   - each inline Policies[].PolicyDocument of the role (Name
//     "<role> inline policy <PolicyName>");
//   - every AWS::IAM::Policy and AWS::IAM::ManagedPolicy whose Roles
//     contains the role, every AWS::IAM::RolePolicy whose RoleName is the
//     role, and every AWS::IAM::ManagedPolicy the role's ManagedPolicyArns
//     references (Name "<Type> <LogicalId>"), in logical-id order.
//
// A Roles entry names the role if it is {"Ref": role}, or if it resolves to
// the role's name (its RoleName property, else Env.Refs[role]). A role
// without a known name has a generated name with a random suffix, which
// nothing in the template can spell out except {"Ref": role}.
//
// Not included, so callers must account for them: managed policies that
// are not resources of this template (AWS managed policies such as
// AWSLambdaBasicExecutionRole, or external customer managed ones; see
// ManagedPolicyARNs), permissions boundaries, and resource-based policies.
//
// Errors: roleLogicalID is not an AWS::IAM::Role of the template; a
// relevant value cannot be resolved (the error names it); a policy document
// does not parse; or a policy that attaches to the role is gated by a
// CloudFormation Condition, since whether it exists is unknown.
func RolePolicies(tp *cfntemplate.Template, roleLogicalID string, env cfntemplate.Env) (PolicySet, error) {
	t := roleTemplate{tp}
	role, err := t.role(roleLogicalID)
	if err != nil {
		return nil, err
	}
	set, err := inlinePolicies(roleLogicalID, role, env)
	if err != nil {
		return nil, err
	}
	viaARNs, _, err := t.roleManagedPolicies(roleLogicalID, role, env)
	if err != nil {
		return nil, err
	}
	for _, id := range t.policyResourceIDs() {
		res := t.Resources[id]
		attached := viaARNs[id]
		if !attached {
			attached, err = t.attachesTo(id, res, roleLogicalID, env)
			if err != nil {
				return nil, err
			}
		}
		if !attached {
			continue
		}
		if res.Condition != "" {
			return nil, fmt.Errorf("iampolicy: %s %q attaches to role %q but only exists when CloudFormation condition %q holds, which cannot be evaluated here", res.Type, id, roleLogicalID, res.Condition)
		}
		doc, err := policyDocument(res.Properties["PolicyDocument"], env)
		if err != nil {
			return nil, fmt.Errorf("iampolicy: %s %q PolicyDocument: %w", res.Type, id, err)
		}
		doc.Name = res.Type + " " + id
		set = append(set, doc)
	}
	return set, nil
}

// ManagedPolicy returns the document of the template's customer managed
// policy id (an AWS::IAM::ManagedPolicy), resolved under env, as a set one
// can attach to a principal outside the template (a person's role).
func ManagedPolicy(tp *cfntemplate.Template, id string, env cfntemplate.Env) (PolicySet, error) {
	r, ok := tp.Resources[id]
	if !ok || r.Type != TypeManagedPolicy {
		return nil, fmt.Errorf("iampolicy: no %s %q (have %v)", TypeManagedPolicy, id, tp.OfType(TypeManagedPolicy))
	}
	doc, err := policyDocument(r.Properties["PolicyDocument"], env)
	if err != nil {
		return nil, fmt.Errorf("iampolicy: %s %q PolicyDocument: %w", r.Type, id, err)
	}
	doc.Name = r.Type + " " + id
	return PolicySet{doc}, nil
}

// ManagedPolicyARNs returns, resolved under env and in template order
// without duplicates, the ARNs in the role's ManagedPolicyArns whose
// documents are not in the template: AWS managed policies such as
// "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" and
// external customer managed policies. RolePolicies does not include their
// permissions; ARNs of the template's own AWS::IAM::ManagedPolicy resources
// are left out here because RolePolicies does include those.
//
// Errors: roleLogicalID is not an AWS::IAM::Role of the template, or an
// entry does not resolve to a non-empty string (the error names it).
func ManagedPolicyARNs(tp *cfntemplate.Template, roleLogicalID string, env cfntemplate.Env) ([]string, error) {
	t := roleTemplate{tp}
	role, err := t.role(roleLogicalID)
	if err != nil {
		return nil, err
	}
	_, external, err := t.roleManagedPolicies(roleLogicalID, role, env)
	return external, err
}

func (t roleTemplate) role(id string) (cfntemplate.Resource, error) {
	if t.Template == nil {
		return cfntemplate.Resource{}, fmt.Errorf("iampolicy: no template loaded (nil *cfntemplate.Template)")
	}
	res, ok := t.Resources[id]
	if !ok || res.Type != TypeRole {
		roles := t.OfType(TypeRole)
		if len(roles) == 0 {
			return cfntemplate.Resource{}, fmt.Errorf("iampolicy: %q is not an %s in the template, which has no roles", id, TypeRole)
		}
		return cfntemplate.Resource{}, fmt.Errorf("iampolicy: %q is not an %s in the template; roles: %s", id, TypeRole, strings.Join(roles, ", "))
	}
	return res, nil
}

// policyResourceIDs lists, sorted, every resource that can carry a policy
// document for a role.
func (t roleTemplate) policyResourceIDs() []string {
	var ids []string
	for _, typ := range []string{TypePolicy, TypeManagedPolicy, TypeRolePolicy} {
		ids = append(ids, t.OfType(typ)...)
	}
	sort.Strings(ids)
	return ids
}

func inlinePolicies(roleID string, role cfntemplate.Resource, env cfntemplate.Env) (PolicySet, error) {
	raw, ok := role.Properties["Policies"]
	if !ok {
		return nil, nil
	}
	resolved, err := cfntemplate.Resolve(raw, env)
	if err != nil {
		return nil, fmt.Errorf("iampolicy: role %q Policies: %w", roleID, err)
	}
	if resolved == nil {
		return nil, nil // {"Ref": "AWS::NoValue"}
	}
	list, ok := resolved.([]any)
	if !ok {
		return nil, fmt.Errorf("iampolicy: role %q Policies must be an array, got %s", roleID, cfntemplate.Kind(resolved))
	}
	var set PolicySet
	for i, item := range list {
		entry, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("iampolicy: role %q Policies[%d] must be an object, got %s", roleID, i, cfntemplate.Kind(item))
		}
		name, ok := entry["PolicyName"].(string)
		if !ok {
			name = fmt.Sprintf("#%d", i)
		}
		doc, err := policyDocument(entry["PolicyDocument"], env)
		if err != nil {
			return nil, fmt.Errorf("iampolicy: role %q inline policy %q: %w", roleID, name, err)
		}
		doc.Name = roleID + " inline policy " + name
		set = append(set, doc)
	}
	return set, nil
}

// policyDocument resolves and parses a PolicyDocument property.
func policyDocument(raw any, env cfntemplate.Env) (Document, error) {
	if raw == nil {
		return Document{}, fmt.Errorf("PolicyDocument is missing")
	}
	resolved, err := cfntemplate.Resolve(raw, env)
	if err != nil {
		return Document{}, err
	}
	return ParseValue(resolved)
}

// roleManagedPolicies splits the role's ManagedPolicyArns into the
// template's own AWS::IAM::ManagedPolicy resources (by logical id) and the
// resolved ARNs of everything else.
func (t roleTemplate) roleManagedPolicies(roleID string, role cfntemplate.Resource, env cfntemplate.Env) (inTemplate map[string]bool, external []string, err error) {
	inTemplate = map[string]bool{}
	raw, ok := role.Properties["ManagedPolicyArns"]
	if !ok {
		return inTemplate, nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		// Possibly an intrinsic producing the whole list.
		resolved, err := cfntemplate.Resolve(raw, env)
		if err != nil {
			return nil, nil, fmt.Errorf("iampolicy: role %q ManagedPolicyArns: %w", roleID, err)
		}
		if list, ok = resolved.([]any); !ok && resolved != nil {
			return nil, nil, fmt.Errorf("iampolicy: role %q ManagedPolicyArns must be an array, got %s", roleID, cfntemplate.Kind(resolved))
		}
	}
	seen := map[string]bool{}
	for i, item := range list {
		// CDK writes {"Ref": "SomeManagedPolicy"} for the stack's own managed
		// policies; Ref of one is its ARN, which need not be in env.
		if id, ok := cfntemplate.RefTarget(item); ok && t.Resources[id].Type == TypeManagedPolicy {
			inTemplate[id] = true
			continue
		}
		resolved, err := cfntemplate.Resolve(item, env)
		if err != nil {
			return nil, nil, fmt.Errorf("iampolicy: role %q ManagedPolicyArns[%d]: %w", roleID, i, err)
		}
		if resolved == nil {
			continue // {"Ref": "AWS::NoValue"}
		}
		arn, ok := resolved.(string)
		if !ok || arn == "" {
			return nil, nil, fmt.Errorf("iampolicy: role %q ManagedPolicyArns[%d] must resolve to a policy ARN, got %s", roleID, i, cfntemplate.Describe(resolved))
		}
		if id := t.managedPolicyWithARN(arn, env); id != "" {
			inTemplate[id] = true
			continue
		}
		if !seen[arn] {
			seen[arn] = true
			external = append(external, arn)
		}
	}
	return inTemplate, external, nil
}

// managedPolicyWithARN finds a template managed policy whose ARN (as given
// by Env.Refs) is arn, so an ARN spelled out elsewhere is not mistaken for
// an external policy.
func (t roleTemplate) managedPolicyWithARN(arn string, env cfntemplate.Env) string {
	for _, id := range t.OfType(TypeManagedPolicy) {
		if env.Refs[id] == arn {
			return id
		}
	}
	return ""
}

// attachesTo reports whether policy resource res (logical id id) names the
// role through its own Roles or RoleName property.
func (t roleTemplate) attachesTo(id string, res cfntemplate.Resource, roleID string, env cfntemplate.Env) (bool, error) {
	if res.Type == TypeRolePolicy {
		raw, ok := res.Properties["RoleName"]
		if !ok {
			return false, fmt.Errorf("iampolicy: %s %q has no RoleName", res.Type, id)
		}
		hit, err := t.namesRole(raw, roleID, env)
		if err != nil {
			return false, fmt.Errorf("iampolicy: %s %q RoleName: %w", res.Type, id, err)
		}
		return hit, nil
	}
	raw, ok := res.Properties["Roles"]
	if !ok {
		return false, nil // attached to users or groups only, or via ManagedPolicyArns
	}
	list, ok := raw.([]any)
	if !ok {
		resolved, err := cfntemplate.Resolve(raw, env)
		if err != nil {
			return false, fmt.Errorf("iampolicy: %s %q Roles: %w", res.Type, id, err)
		}
		if list, ok = resolved.([]any); !ok && resolved != nil {
			return false, fmt.Errorf("iampolicy: %s %q Roles must be an array, got %s", res.Type, id, cfntemplate.Kind(resolved))
		}
	}
	for i, item := range list {
		hit, err := t.namesRole(item, roleID, env)
		if err != nil {
			return false, fmt.Errorf("iampolicy: %s %q Roles[%d]: %w", res.Type, id, i, err)
		}
		if hit {
			return true, nil
		}
	}
	return false, nil
}

// namesRole reports whether v, a role name as written in a template, names
// role roleID.
func (t roleTemplate) namesRole(v any, roleID string, env cfntemplate.Env) (bool, error) {
	if id, ok := cfntemplate.RefTarget(v); ok {
		if id == roleID {
			return true, nil
		}
		if _, isResource := t.Resources[id]; isResource {
			return false, nil // names a different resource, whatever its name
		}
	}
	resolved, err := cfntemplate.Resolve(v, env)
	if err != nil {
		return false, err
	}
	if resolved == nil {
		return false, nil // {"Ref": "AWS::NoValue"}
	}
	name, ok := resolved.(string)
	if !ok || name == "" {
		return false, fmt.Errorf("want a role name, got %s", cfntemplate.Describe(resolved))
	}
	roleName, known, err := t.roleName(roleID, env)
	if err != nil {
		return false, err
	}
	return known && name == roleName, nil
}

// roleName returns the role's physical name if the template or env fixes it.
func (t roleTemplate) roleName(roleID string, env cfntemplate.Env) (name string, known bool, err error) {
	if raw, ok := t.Resources[roleID].Properties["RoleName"]; ok {
		resolved, err := cfntemplate.Resolve(raw, env)
		if err != nil {
			return "", false, fmt.Errorf("role %q RoleName: %w", roleID, err)
		}
		if s, ok := resolved.(string); ok && s != "" {
			return s, true, nil
		}
		if resolved != nil {
			return "", false, fmt.Errorf("role %q RoleName must be a string, got %s", roleID, cfntemplate.Describe(resolved))
		}
	}
	if s := env.Refs[roleID]; s != "" {
		return s, true, nil
	}
	return "", false, nil
}
