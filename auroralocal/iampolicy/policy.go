package iampolicy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/rdsiam/rdsiam/auroralocal/cfntemplate"
)

// Policy language versions IAM accepts. Only in Version2012 does "${...}"
// in a Resource mean a policy variable; in Version2008 it is literal text.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is a statement's "Effect": Allow or Deny.
type Effect string

// The only two effects IAM knows; anything else is rejected.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Document is one parsed IAM identity-policy document.
type Document struct {
	// Name labels the document in error messages and Results, e.g. the
	// CloudFormation resource it came from. It is not part of the IAM
	// document: Parse and ParseValue leave it empty, RolePolicies sets it.
	Name string
	// Version is "2012-10-17", "2008-10-17", or "" when the document had
	// none (IAM then applies 2008-10-17 rules).
	Version string
	// ID is the optional top-level "Id".
	ID string
	// Statement holds the statements in document order.
	Statement []Statement
}

// Statement is one IAM policy statement. A valid statement has exactly one
// of Action/NotAction and exactly one of Resource/NotResource non-empty.
type Statement struct {
	Sid    string
	Effect Effect
	// Action and NotAction hold action patterns ("rds-db:connect",
	// "rds-db:*", "*"), compared case-insensitively.
	Action    []string
	NotAction []string
	// Resource and NotResource hold resource patterns, compared
	// case-sensitively.
	Resource    []string
	NotResource []string
	// Condition maps operator ("StringEquals") to condition key to values,
	// with single values and non-string JSON scalars normalised to strings.
	// Nil or empty means the statement is unconditional.
	Condition map[string]map[string][]string
}

// Parse parses an IAM identity-policy document from JSON. See ParseValue for
// what is accepted and rejected.
func Parse(doc []byte) (Document, error) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return Document{}, fmt.Errorf("iampolicy: policy document is not valid JSON: %w", err)
	}
	return ParseValue(v)
}

// ParseValue parses an IAM identity-policy document already decoded from
// JSON (map[string]any as encoding/json produces), or a JSON string holding
// one (CloudFormation allows PolicyDocument as either).
//
// Accepted: Version ("2012-10-17", "2008-10-17" or absent), Id, and
// Statement as one object or an array. Each statement may have Sid, must have
// Effect "Allow" or "Deny", exactly one of Action/NotAction and exactly one of
// Resource/NotResource (each a string or non-empty array of non-empty
// strings; actions must be "*" or "service:name"), and optionally Condition.
// Everything else is rejected with an error naming it, notably Principal and
// NotPrincipal, which belong to resource policies and would change meaning.
func ParseValue(v any) (Document, error) {
	if s, ok := v.(string); ok {
		return Parse([]byte(s))
	}
	top, ok := v.(map[string]any)
	if !ok {
		return Document{}, fmt.Errorf("iampolicy: policy document must be a JSON object, got %s", cfntemplate.Kind(v))
	}
	var d Document
	for _, key := range sortedKeys(top) {
		val := top[key]
		switch key {
		case "Version":
			s, ok := val.(string)
			if !ok || (s != Version2012 && s != Version2008) {
				return Document{}, fmt.Errorf("iampolicy: Version %s is not supported; want %q or %q", cfntemplate.Describe(val), Version2012, Version2008)
			}
			d.Version = s
		case "Id":
			s, ok := val.(string)
			if !ok {
				return Document{}, fmt.Errorf("iampolicy: Id must be a string, got %s", cfntemplate.Kind(val))
			}
			d.ID = s
		case "Statement":
			// parsed below, once the other top-level keys are known to be valid
		default:
			return Document{}, fmt.Errorf("iampolicy: unknown policy element %q; allowed: Version, Id, Statement", key)
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return Document{}, fmt.Errorf("iampolicy: policy document has no Statement")
	}
	var items []any
	switch s := raw.(type) {
	case map[string]any:
		items = []any{s}
	case []any:
		items = s
	default:
		return Document{}, fmt.Errorf("iampolicy: Statement must be an object or an array of objects, got %s", cfntemplate.Kind(raw))
	}
	for i, item := range items {
		st, err := parseStatement(item)
		if err != nil {
			return Document{}, fmt.Errorf("iampolicy: statement #%d: %w", i, err)
		}
		d.Statement = append(d.Statement, st)
	}
	return d, nil
}

func parseStatement(v any) (Statement, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Statement{}, fmt.Errorf("statement must be a JSON object, got %s", cfntemplate.Kind(v))
	}
	var st Statement
	for _, key := range sortedKeys(m) {
		val := m[key]
		var err error
		switch key {
		case "Sid":
			s, ok := val.(string)
			if !ok {
				return Statement{}, fmt.Errorf("Sid must be a string, got %s", cfntemplate.Kind(val))
			}
			st.Sid = s
		case "Effect":
			s, _ := val.(string)
			st.Effect = Effect(s)
			if st.Effect != Allow && st.Effect != Deny {
				return Statement{}, fmt.Errorf("Effect %s is not allowed; want %q or %q", cfntemplate.Describe(val), Allow, Deny)
			}
		case "Action":
			st.Action, err = stringList(key, val)
		case "NotAction":
			st.NotAction, err = stringList(key, val)
		case "Resource":
			st.Resource, err = stringList(key, val)
		case "NotResource":
			st.NotResource, err = stringList(key, val)
		case "Condition":
			st.Condition, err = parseCondition(val)
		case "Principal", "NotPrincipal":
			return Statement{}, fmt.Errorf("%s is not allowed in an identity policy (it belongs to resource-based policies)", key)
		default:
			return Statement{}, fmt.Errorf("unknown statement element %q; allowed: Sid, Effect, Action, NotAction, Resource, NotResource, Condition", key)
		}
		if err != nil {
			return Statement{}, err
		}
	}
	if err := st.validate(); err != nil {
		return Statement{}, err
	}
	return st, nil
}

// validate checks the invariants Evaluate relies on. It runs at parse time
// and again at evaluation time, because Documents can also be built in Go.
func (st Statement) validate() error {
	label := "statement"
	if st.Sid != "" {
		label = fmt.Sprintf("statement %q", st.Sid)
	}
	switch st.Effect {
	case Allow, Deny:
	case "":
		return fmt.Errorf("%s has no Effect; want %q or %q", label, Allow, Deny)
	default:
		return fmt.Errorf("%s: Effect %q is not allowed; want %q or %q", label, st.Effect, Allow, Deny)
	}
	if err := exactlyOne(label, "Action", st.Action, "NotAction", st.NotAction); err != nil {
		return err
	}
	if err := exactlyOne(label, "Resource", st.Resource, "NotResource", st.NotResource); err != nil {
		return err
	}
	for _, a := range append(append([]string(nil), st.Action...), st.NotAction...) {
		if err := validActionPattern(a); err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
	}
	for _, r := range append(append([]string(nil), st.Resource...), st.NotResource...) {
		if r == "" {
			return fmt.Errorf("%s: empty resource pattern; want an ARN, an ARN pattern or \"*\"", label)
		}
	}
	return nil
}

func exactlyOne(label, aName string, a []string, bName string, b []string) error {
	switch {
	case len(a) > 0 && len(b) > 0:
		return fmt.Errorf("%s has both %s and %s; IAM allows exactly one", label, aName, bName)
	case len(a) == 0 && len(b) == 0:
		return fmt.Errorf("%s has neither %s nor %s; IAM requires one", label, aName, bName)
	}
	return nil
}

// validActionPattern accepts "*" or "service:name" where either part may use
// wildcards; IAM rejects anything else, and so do we.
func validActionPattern(a string) error {
	if a == "*" {
		return nil
	}
	service, name, ok := strings.Cut(a, ":")
	if !ok || service == "" || name == "" || strings.Contains(name, ":") {
		return fmt.Errorf("action %q is malformed; want \"*\" or \"service:action\" such as \"rds-db:connect\"", a)
	}
	return nil
}

// stringList reads an element that IAM allows as a string or an array of
// strings. Empty strings and empty arrays are rejected: IAM rejects them
// too, and accepting them would make "matches nothing" easy to write by
// accident.
func stringList(key string, v any) ([]string, error) {
	switch t := v.(type) {
	case string:
		if t == "" {
			return nil, fmt.Errorf("%s must not be an empty string", key)
		}
		return []string{t}, nil
	case []any:
		if len(t) == 0 {
			return nil, fmt.Errorf("%s must not be an empty array", key)
		}
		out := make([]string, 0, len(t))
		for i, item := range t {
			s, ok := item.(string)
			if !ok || s == "" {
				return nil, fmt.Errorf("%s[%d] must be a non-empty string, got %s", key, i, cfntemplate.Describe(item))
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s must be a string or an array of strings, got %s", key, cfntemplate.Kind(v))
}

// parseCondition checks the Condition block's shape (operator → key →
// value or values) and normalises values to strings, which is how IAM
// compares them. The block is kept only so Evaluate can name operators.
func parseCondition(v any) (map[string]map[string][]string, error) {
	ops, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("Condition must be an object of operator → {key: values}, got %s", cfntemplate.Kind(v))
	}
	out := make(map[string]map[string][]string, len(ops))
	for _, op := range sortedKeys(ops) {
		if op == "" {
			return nil, fmt.Errorf("Condition has an empty operator name")
		}
		keys, ok := ops[op].(map[string]any)
		if !ok || len(keys) == 0 {
			return nil, fmt.Errorf("Condition operator %q must map to a non-empty object of key → values, got %s", op, cfntemplate.Describe(ops[op]))
		}
		out[op] = make(map[string][]string, len(keys))
		for _, key := range sortedKeys(keys) {
			vals, err := conditionValues(keys[key])
			if err != nil {
				return nil, fmt.Errorf("Condition %s %q: %w", op, key, err)
			}
			out[op][key] = vals
		}
	}
	return out, nil
}

func conditionValues(v any) ([]string, error) {
	if list, ok := v.([]any); ok {
		out := make([]string, 0, len(list))
		for i, item := range list {
			s, ok := scalarString(item)
			if !ok {
				return nil, fmt.Errorf("value [%d] must be a string, number or boolean, got %s", i, cfntemplate.Kind(item))
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, ok := scalarString(v)
	if !ok {
		return nil, fmt.Errorf("value must be a string, number, boolean or array of them, got %s", cfntemplate.Kind(v))
	}
	return []string{s}, nil
}

func scalarString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case json.Number:
		return t.String(), true
	}
	return "", false
}

// sortedKeys makes map iteration, and therefore which error is reported
// first, deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
