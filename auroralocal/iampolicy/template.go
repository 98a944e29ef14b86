package iampolicy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// CloudFormation resource types this package reads.
const (
	TypeRole          = "AWS::IAM::Role"
	TypePolicy        = "AWS::IAM::Policy"
	TypeManagedPolicy = "AWS::IAM::ManagedPolicy"
	TypeRolePolicy    = "AWS::IAM::RolePolicy"
)

// Template is a parsed CloudFormation template (the JSON CDK synthesizes).
// Only its Resources section is kept.
type Template struct {
	resources map[string]Resource
}

// Resource is one entry of a template's Resources section.
type Resource struct {
	Type string
	// Properties is the unresolved "Properties" object (nil if absent).
	Properties map[string]any
	// Condition is the name of the CloudFormation condition that decides
	// whether the resource is created, or "" if it always is.
	Condition string
}

// LoadTemplate parses a CloudFormation template in JSON. It requires a
// "Resources" object whose entries each have a non-empty string "Type", an
// optional object "Properties" and an optional string "Condition"; other
// sections and resource attributes are ignored.
func LoadTemplate(data []byte) (*Template, error) {
	var top map[string]any
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("iampolicy: template is not a JSON object: %w", err)
	}
	rawResources, ok := top["Resources"]
	if !ok {
		return nil, fmt.Errorf("iampolicy: template has no Resources section")
	}
	resources, ok := rawResources.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("iampolicy: template Resources must be an object, got %s", jsonKind(rawResources))
	}
	t := &Template{resources: make(map[string]Resource, len(resources))}
	for _, id := range sortedKeys(resources) {
		res, err := parseResource(resources[id])
		if err != nil {
			return nil, fmt.Errorf("iampolicy: template resource %q: %w", id, err)
		}
		t.resources[id] = res
	}
	return t, nil
}

func parseResource(v any) (Resource, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Resource{}, fmt.Errorf("must be an object, got %s", jsonKind(v))
	}
	var res Resource
	typ, ok := m["Type"].(string)
	if !ok || typ == "" {
		return Resource{}, fmt.Errorf("Type must be a non-empty string, got %s", describe(m["Type"]))
	}
	res.Type = typ
	if p, present := m["Properties"]; present && p != nil {
		props, ok := p.(map[string]any)
		if !ok {
			return Resource{}, fmt.Errorf("Properties must be an object, got %s", jsonKind(p))
		}
		res.Properties = props
	}
	if c, present := m["Condition"]; present {
		name, ok := c.(string)
		if !ok || name == "" {
			return Resource{}, fmt.Errorf("Condition must be a condition name, got %s", describe(c))
		}
		res.Condition = name
	}
	return res, nil
}

// ResourcesOfType returns the logical ids of all resources whose Type is
// exactly typ, sorted; nil if there are none.
func (t *Template) ResourcesOfType(typ string) []string {
	if t == nil {
		return nil
	}
	var ids []string
	for id, res := range t.resources {
		if res.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Resource returns the resource with logical id id and whether it exists.
// Properties is a deep copy, so callers may modify it freely.
func (t *Template) Resource(id string) (Resource, bool) {
	if t == nil {
		return Resource{}, false
	}
	res, ok := t.resources[id]
	if !ok {
		return Resource{}, false
	}
	if res.Properties != nil {
		res.Properties = deepCopy(res.Properties).(map[string]any)
	}
	return res, true
}

// Roles returns the logical ids of all AWS::IAM::Role resources, sorted.
func (t *Template) Roles() []string {
	return t.ResourcesOfType(TypeRole)
}

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
func (t *Template) RolePolicies(roleLogicalID string, env Env) (PolicySet, error) {
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
		res := t.resources[id]
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
func (t *Template) ManagedPolicyARNs(roleLogicalID string, env Env) ([]string, error) {
	role, err := t.role(roleLogicalID)
	if err != nil {
		return nil, err
	}
	_, external, err := t.roleManagedPolicies(roleLogicalID, role, env)
	return external, err
}

func (t *Template) role(id string) (Resource, error) {
	if t == nil {
		return Resource{}, fmt.Errorf("iampolicy: no template loaded (nil *Template)")
	}
	res, ok := t.resources[id]
	if !ok || res.Type != TypeRole {
		roles := t.Roles()
		if len(roles) == 0 {
			return Resource{}, fmt.Errorf("iampolicy: %q is not an %s in the template, which has no roles", id, TypeRole)
		}
		return Resource{}, fmt.Errorf("iampolicy: %q is not an %s in the template; roles: %s", id, TypeRole, strings.Join(roles, ", "))
	}
	return res, nil
}

// policyResourceIDs lists, sorted, every resource that can carry a policy
// document for a role.
func (t *Template) policyResourceIDs() []string {
	var ids []string
	for _, typ := range []string{TypePolicy, TypeManagedPolicy, TypeRolePolicy} {
		ids = append(ids, t.ResourcesOfType(typ)...)
	}
	sort.Strings(ids)
	return ids
}

func inlinePolicies(roleID string, role Resource, env Env) (PolicySet, error) {
	raw, ok := role.Properties["Policies"]
	if !ok {
		return nil, nil
	}
	resolved, err := Resolve(raw, env)
	if err != nil {
		return nil, fmt.Errorf("iampolicy: role %q Policies: %w", roleID, err)
	}
	if resolved == nil {
		return nil, nil // {"Ref": "AWS::NoValue"}
	}
	list, ok := resolved.([]any)
	if !ok {
		return nil, fmt.Errorf("iampolicy: role %q Policies must be an array, got %s", roleID, jsonKind(resolved))
	}
	var set PolicySet
	for i, item := range list {
		entry, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("iampolicy: role %q Policies[%d] must be an object, got %s", roleID, i, jsonKind(item))
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
func policyDocument(raw any, env Env) (Document, error) {
	if raw == nil {
		return Document{}, fmt.Errorf("PolicyDocument is missing")
	}
	resolved, err := Resolve(raw, env)
	if err != nil {
		return Document{}, err
	}
	return ParseValue(resolved)
}

// roleManagedPolicies splits the role's ManagedPolicyArns into the
// template's own AWS::IAM::ManagedPolicy resources (by logical id) and the
// resolved ARNs of everything else.
func (t *Template) roleManagedPolicies(roleID string, role Resource, env Env) (inTemplate map[string]bool, external []string, err error) {
	inTemplate = map[string]bool{}
	raw, ok := role.Properties["ManagedPolicyArns"]
	if !ok {
		return inTemplate, nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		// Possibly an intrinsic producing the whole list.
		resolved, err := Resolve(raw, env)
		if err != nil {
			return nil, nil, fmt.Errorf("iampolicy: role %q ManagedPolicyArns: %w", roleID, err)
		}
		if list, ok = resolved.([]any); !ok && resolved != nil {
			return nil, nil, fmt.Errorf("iampolicy: role %q ManagedPolicyArns must be an array, got %s", roleID, jsonKind(resolved))
		}
	}
	seen := map[string]bool{}
	for i, item := range list {
		// CDK writes {"Ref": "SomeManagedPolicy"} for the stack's own managed
		// policies; Ref of one is its ARN, which need not be in env.
		if id, ok := refTarget(item); ok && t.resources[id].Type == TypeManagedPolicy {
			inTemplate[id] = true
			continue
		}
		resolved, err := Resolve(item, env)
		if err != nil {
			return nil, nil, fmt.Errorf("iampolicy: role %q ManagedPolicyArns[%d]: %w", roleID, i, err)
		}
		if resolved == nil {
			continue // {"Ref": "AWS::NoValue"}
		}
		arn, ok := resolved.(string)
		if !ok || arn == "" {
			return nil, nil, fmt.Errorf("iampolicy: role %q ManagedPolicyArns[%d] must resolve to a policy ARN, got %s", roleID, i, describe(resolved))
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
func (t *Template) managedPolicyWithARN(arn string, env Env) string {
	for _, id := range t.ResourcesOfType(TypeManagedPolicy) {
		if env.Refs[id] == arn {
			return id
		}
	}
	return ""
}

// attachesTo reports whether policy resource res (logical id id) names the
// role through its own Roles or RoleName property.
func (t *Template) attachesTo(id string, res Resource, roleID string, env Env) (bool, error) {
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
		resolved, err := Resolve(raw, env)
		if err != nil {
			return false, fmt.Errorf("iampolicy: %s %q Roles: %w", res.Type, id, err)
		}
		if list, ok = resolved.([]any); !ok && resolved != nil {
			return false, fmt.Errorf("iampolicy: %s %q Roles must be an array, got %s", res.Type, id, jsonKind(resolved))
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
func (t *Template) namesRole(v any, roleID string, env Env) (bool, error) {
	if id, ok := refTarget(v); ok {
		if id == roleID {
			return true, nil
		}
		if _, isResource := t.resources[id]; isResource {
			return false, nil // names a different resource, whatever its name
		}
	}
	resolved, err := Resolve(v, env)
	if err != nil {
		return false, err
	}
	if resolved == nil {
		return false, nil // {"Ref": "AWS::NoValue"}
	}
	name, ok := resolved.(string)
	if !ok || name == "" {
		return false, fmt.Errorf("want a role name, got %s", describe(resolved))
	}
	roleName, known, err := t.roleName(roleID, env)
	if err != nil {
		return false, err
	}
	return known && name == roleName, nil
}

// roleName returns the role's physical name if the template or env fixes it.
func (t *Template) roleName(roleID string, env Env) (name string, known bool, err error) {
	if raw, ok := t.resources[roleID].Properties["RoleName"]; ok {
		resolved, err := Resolve(raw, env)
		if err != nil {
			return "", false, fmt.Errorf("role %q RoleName: %w", roleID, err)
		}
		if s, ok := resolved.(string); ok && s != "" {
			return s, true, nil
		}
		if resolved != nil {
			return "", false, fmt.Errorf("role %q RoleName must be a string, got %s", roleID, describe(resolved))
		}
	}
	if s := env.Refs[roleID]; s != "" {
		return s, true, nil
	}
	return "", false, nil
}

// refTarget returns id for exactly {"Ref": id}.
func refTarget(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	id, ok := m["Ref"].(string)
	return id, ok
}

// deepCopy copies a JSON-decoded value so callers cannot alter the template.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, x := range t {
			l[i] = deepCopy(x)
		}
		return l
	}
	return v
}
