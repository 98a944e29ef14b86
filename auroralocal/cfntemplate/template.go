// Package cfntemplate is the one model of a synthesized CloudFormation
// template (the JSON `cdk synth` writes) that the tests, the IAM policy
// evaluator (auroralocal/iampolicy) and the local runner
// (auroralocal/fromstack) share: resources by logical id and by type, their
// properties, attributes and outputs, and the intrinsic functions (Ref,
// Fn::GetAtt, Fn::Sub ...) resolved from values the caller supplies.
//
// It imports only the standard library: reading a template pulls neither
// the CDK nor the stand-in into the reader.
package cfntemplate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Template is a parsed CloudFormation template. It is plain data: the
// caller owns it, and nothing in this module modifies one it is given
// (Resolve returns copies).
type Template struct {
	// Resources by logical id.
	Resources map[string]Resource
	// Outputs by name; nil when the template has none.
	Outputs map[string]Output
}

// Resource is one entry of a template's Resources section.
type Resource struct {
	Type string
	// Properties is the unresolved "Properties" object (nil if absent).
	Properties map[string]any
	// Condition names the CloudFormation condition that decides whether the
	// resource is created, or "" if it always is.
	Condition string
	// DependsOn lists the logical ids in "DependsOn" (CloudFormation
	// accepts one string or a list; both become a list here).
	DependsOn []string
	// Metadata is the "Metadata" object (cdk-nag's suppressions live here).
	Metadata map[string]any
}

// Output is one entry of a template's Outputs section.
type Output struct {
	// Value is unresolved: a literal or an intrinsic.
	Value       any
	Description string
}

// Parse reads a CloudFormation template in JSON. It requires a "Resources"
// object whose entries each have a non-empty string "Type", and optionally
// an object "Properties", a string "Condition", a string or list of strings
// "DependsOn" and an object "Metadata"; an "Outputs" section, when present,
// must be an object of objects. Other sections and attributes are ignored.
// Errors name the resource or output and the bad value.
func Parse(data []byte) (*Template, error) {
	var top map[string]any
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("cfntemplate: template is not a JSON object: %w", err)
	}
	rawResources, ok := top["Resources"]
	if !ok {
		return nil, fmt.Errorf("cfntemplate: template has no Resources section")
	}
	resources, ok := rawResources.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("cfntemplate: template Resources must be an object, got %s", Kind(rawResources))
	}
	t := &Template{Resources: make(map[string]Resource, len(resources))}
	for _, id := range slices.Sorted(maps.Keys(resources)) {
		res, err := parseResource(resources[id])
		if err != nil {
			return nil, fmt.Errorf("cfntemplate: template resource %q: %w", id, err)
		}
		t.Resources[id] = res
	}
	if raw, present := top["Outputs"]; present {
		outputs, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("cfntemplate: template Outputs must be an object, got %s", Kind(raw))
		}
		t.Outputs = make(map[string]Output, len(outputs))
		for _, name := range slices.Sorted(maps.Keys(outputs)) {
			o, ok := outputs[name].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("cfntemplate: template output %q must be an object, got %s", name, Kind(outputs[name]))
			}
			desc, _ := o["Description"].(string)
			t.Outputs[name] = Output{Value: o["Value"], Description: desc}
		}
	}
	return t, nil
}

func parseResource(v any) (Resource, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Resource{}, fmt.Errorf("must be an object, got %s", Kind(v))
	}
	var res Resource
	typ, ok := m["Type"].(string)
	if !ok || typ == "" {
		return Resource{}, fmt.Errorf("Type must be a non-empty string, got %s", Describe(m["Type"]))
	}
	res.Type = typ
	var err error
	if res.Properties, err = optionalObject(m, "Properties"); err != nil {
		return Resource{}, err
	}
	if res.Metadata, err = optionalObject(m, "Metadata"); err != nil {
		return Resource{}, err
	}
	if c, present := m["Condition"]; present {
		name, ok := c.(string)
		if !ok || name == "" {
			return Resource{}, fmt.Errorf("Condition must be a condition name, got %s", Describe(c))
		}
		res.Condition = name
	}
	if res.DependsOn, err = dependsOn(m["DependsOn"]); err != nil {
		return Resource{}, err
	}
	return res, nil
}

// optionalObject is m[key] as an object, nil when absent or null.
func optionalObject(m map[string]any, key string) (map[string]any, error) {
	v, present := m[key]
	if !present || v == nil {
		return nil, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s must be an object, got %s", key, Kind(v))
	}
	return obj, nil
}

func dependsOn(v any) ([]string, error) {
	switch d := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{d}, nil
	case []any:
		out := make([]string, len(d))
		for i, e := range d {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, fmt.Errorf("DependsOn[%d] must be a logical id, got %s", i, Describe(e))
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("DependsOn must be a logical id or a list of them, got %s", Describe(v))
}

// OfType returns the logical ids of all resources whose Type is exactly
// typ, sorted; nil if there are none (or t is nil).
func (t *Template) OfType(typ string) []string {
	if t == nil {
		return nil
	}
	var ids []string
	for id, res := range t.Resources {
		if res.Type == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// AtMostOne returns the logical id of the one resource of typ, "" when
// there is none, and an error naming them all when there are several.
func (t *Template) AtMostOne(typ string) (string, error) {
	switch ids := t.OfType(typ); len(ids) {
	case 0:
		return "", nil
	case 1:
		return ids[0], nil
	default:
		return "", fmt.Errorf("cfntemplate: want at most one %s, found %s", typ, strings.Join(ids, ", "))
	}
}

// One returns the one resource of typ whose logical id starts with prefix
// ("" matches every id: CDK appends a hash to the construct path), and an
// error naming what there is when there is not exactly one.
func (t *Template) One(typ, prefix string) (string, Resource, error) {
	var found []string
	for _, id := range t.OfType(typ) {
		if strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		return "", Resource{}, fmt.Errorf("cfntemplate: want one %s with logical id prefix %q, found %v (all of the type: %v)",
			typ, prefix, found, t.OfType(typ))
	}
	return found[0], t.Resources[found[0]], nil
}

// Ref builds the intrinsic CDK writes for a reference to resource id, for
// comparing with a template's values.
func Ref(id string) map[string]any { return map[string]any{"Ref": id} }

// GetAtt builds the intrinsic CDK writes for attribute attr of resource id.
func GetAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

// RefTarget returns id when v is exactly {"Ref": id}.
func RefTarget(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	id, ok := m["Ref"].(string)
	return id, ok
}

// GetAttTarget returns id and attribute when v is exactly
// {"Fn::GetAtt": [id, attribute]} or {"Fn::GetAtt": "id.attribute"}.
func GetAttTarget(v any) (id, attr string, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", "", false
	}
	switch a := m["Fn::GetAtt"].(type) {
	case []any:
		if len(a) != 2 {
			return "", "", false
		}
		id, ok1 := a[0].(string)
		attr, ok2 := a[1].(string)
		return id, attr, ok1 && ok2 && id != "" && attr != ""
	case string:
		id, attr, found := strings.Cut(a, ".")
		return id, attr, found && id != "" && attr != ""
	}
	return "", "", false
}

// ArnOf returns the logical id of the template resource that v names by
// {"Fn::GetAtt": [id, "Arn"]}, as CDK writes a function's Role or a custom
// resource's ServiceToken.
func (t *Template) ArnOf(v any) (string, bool) {
	id, attr, ok := GetAttTarget(v)
	if !ok || attr != "Arn" {
		return "", false
	}
	_, inTemplate := t.Resources[id]
	return id, inTemplate
}

// Walk calls visit for every value (object, list, string, number...) in
// the resources' properties and the outputs' values, in no particular
// order: the places intrinsics and literal ARNs live.
func (t *Template) Walk(visit func(any)) {
	for _, r := range t.Resources {
		walk(r.Properties, visit)
	}
	for _, o := range t.Outputs {
		walk(o.Value, visit)
	}
}

func walk(v any, visit func(any)) {
	visit(v)
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			walk(e, visit)
		}
	case []any:
		for _, e := range x {
			walk(e, visit)
		}
	}
}
