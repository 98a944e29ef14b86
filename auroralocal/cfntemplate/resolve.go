package cfntemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// DefaultURLSuffix is what AWS::URLSuffix resolves to when Env.URLSuffix is
// empty (it differs only in China and isolated partitions).
const DefaultURLSuffix = "amazonaws.com"

// maxDepth bounds recursion so a cyclic value built in Go (JSON cannot
// express one) fails with an error instead of exhausting the stack.
const maxDepth = 1000

// Env supplies the values CloudFormation would know at deploy time, so
// Resolve can turn intrinsics into plain values.
//
// Pseudo parameters come from the fields: AWS::Partition (Partition),
// AWS::Region (Region), AWS::AccountId (Account) and AWS::URLSuffix
// (URLSuffix, default DefaultURLSuffix). An empty field falls back to
// Refs["AWS::..."]; other pseudo parameters such as AWS::StackName are read
// from Refs only. Empty values are treated as missing.
type Env struct {
	Partition, Region, Account, URLSuffix string
	// Refs maps a logical id (or parameter name) to the value of
	// {"Ref": id}.
	Refs map[string]string
	// Attrs maps "LogicalId.Attribute" to the value of
	// {"Fn::GetAtt": ["LogicalId", "Attribute"]}.
	Attrs map[string]string
}

// Resolve returns a deep copy of v, a value decoded from template JSON
// (maps, arrays, strings, numbers, booleans, null), with every intrinsic
// function replaced by its value under env. v itself is not modified.
//
// Supported: Ref, Fn::GetAtt (array and "Id.Attr" string forms), Fn::Join,
// Fn::Sub (string and [string, {vars}] forms, with ${Param},
// ${AWS::Region}, ${Id.Attr} and the ${!Literal} escape), Fn::Select and
// Fn::Split. {"Ref": "AWS::NoValue"} removes the enclosing map entry or
// array element (Resolve returns nil if v itself is one).
//
// Errors name the unresolvable thing and where it was: a Ref or GetAtt
// missing from env, any other intrinsic (Fn::If, Fn::ImportValue, ...),
// malformed arguments, or a Go type JSON cannot produce. An unresolved value
// is never replaced by a wildcard or an empty string.
func Resolve(v any, env Env) (any, error) {
	out, _, err := resolver{env}.value(v, "", 0)
	if err != nil {
		return nil, fmt.Errorf("cfntemplate: resolve: %w", err)
	}
	return out, nil
}

type resolver struct{ env Env }

// value resolves v. drop reports {"Ref": "AWS::NoValue"}, which the caller
// must omit from its map or array.
func (r resolver) value(v any, path string, depth int) (out any, drop bool, err error) {
	if depth > maxDepth {
		return nil, false, at(path, fmt.Errorf("nested more than %d levels deep", maxDepth))
	}
	switch t := v.(type) {
	case nil, bool, string, float64, json.Number, int, int64:
		return t, false, nil
	case []any:
		list := make([]any, 0, len(t))
		for i, item := range t {
			o, drop, err := r.value(item, fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, false, err
			}
			if !drop {
				list = append(list, o)
			}
		}
		return list, false, nil
	case map[string]any:
		fn, arg, ok, err := asIntrinsic(t)
		if err != nil {
			return nil, false, at(path, err)
		}
		if ok {
			return r.intrinsic(fn, arg, path, depth)
		}
		m := make(map[string]any, len(t))
		for _, k := range slices.Sorted(maps.Keys(t)) {
			o, drop, err := r.value(t[k], path+"."+k, depth+1)
			if err != nil {
				return nil, false, err
			}
			if !drop {
				m[k] = o
			}
		}
		return m, false, nil
	}
	return nil, false, at(path, fmt.Errorf("unsupported value of Go type %T; want values as encoding/json decodes them", v))
}

// asIntrinsic recognises {"Ref": ...} and {"Fn::...": ...}. CloudFormation
// requires an intrinsic to be the only key of its object; an object mixing
// one with other keys is rejected rather than half-resolved.
func asIntrinsic(m map[string]any) (fn string, arg any, ok bool, err error) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k != "Ref" && !strings.HasPrefix(k, "Fn::") {
			continue
		}
		if len(m) != 1 {
			return "", nil, false, fmt.Errorf("intrinsic %s must be the only key in its object, found keys %s", k, strings.Join(slices.Sorted(maps.Keys(m)), ", "))
		}
		return k, m[k], true, nil
	}
	return "", nil, false, nil
}

func (r resolver) intrinsic(fn string, arg any, path string, depth int) (any, bool, error) {
	here := path + "." + fn
	fail := func(err error) (any, bool, error) {
		return nil, false, at(here, err)
	}
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return fail(fmt.Errorf("Ref needs a logical id string, got %s", Describe(arg)))
		}
		if name == "AWS::NoValue" {
			return nil, true, nil
		}
		s, err := r.ref(name)
		if err != nil {
			return fail(err)
		}
		return s, false, nil
	case "Fn::GetAtt":
		s, err := r.getAtt(arg, here, depth)
		if err != nil {
			return fail(err)
		}
		return s, false, nil
	case "Fn::Join":
		s, err := r.join(arg, here, depth)
		if err != nil {
			return fail(err)
		}
		return s, false, nil
	case "Fn::Sub":
		s, err := r.sub(arg, here, depth)
		if err != nil {
			return fail(err)
		}
		return s, false, nil
	case "Fn::Select":
		v, err := r.selectElem(arg, here, depth)
		if err != nil {
			return fail(err)
		}
		return v, false, nil
	case "Fn::Split":
		v, err := r.split(arg, here, depth)
		if err != nil {
			return fail(err)
		}
		return v, false, nil
	}
	return fail(fmt.Errorf("intrinsic %s is not supported; supported: Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split", fn))
}

// ref resolves {"Ref": name} other than AWS::NoValue.
func (r resolver) ref(name string) (string, error) {
	field, fieldName := "", ""
	switch name {
	case "AWS::Partition":
		field, fieldName = r.env.Partition, "Partition"
	case "AWS::Region":
		field, fieldName = r.env.Region, "Region"
	case "AWS::AccountId":
		field, fieldName = r.env.Account, "Account"
	case "AWS::URLSuffix":
		field, fieldName = r.env.URLSuffix, "URLSuffix"
	}
	if field != "" {
		return field, nil
	}
	if v := r.env.Refs[name]; v != "" {
		return v, nil
	}
	switch {
	case name == "AWS::URLSuffix":
		return DefaultURLSuffix, nil
	case fieldName != "":
		return "", fmt.Errorf("Ref %s: Env.%s is empty (and Env.Refs has no %q)", name, fieldName, name)
	}
	return "", fmt.Errorf("Ref %q: no value in Env.Refs", name)
}

// getAtt resolves the argument of Fn::GetAtt: ["Id", "Attr"] (Attr may
// itself be an intrinsic) or "Id.Attr".
func (r resolver) getAtt(arg any, path string, depth int) (string, error) {
	var id, attr string
	switch t := arg.(type) {
	case string:
		var ok bool
		id, attr, ok = strings.Cut(t, ".")
		if !ok {
			return "", fmt.Errorf("Fn::GetAtt %q: want \"LogicalId.Attribute\"", t)
		}
	case []any:
		if len(t) != 2 {
			return "", fmt.Errorf("Fn::GetAtt needs [\"LogicalId\", \"Attribute\"], got %d elements", len(t))
		}
		var ok bool
		if id, ok = t[0].(string); !ok {
			return "", fmt.Errorf("Fn::GetAtt logical id must be a string, got %s", Describe(t[0]))
		}
		a, err := r.str(t[1], path+"[1]", depth)
		if err != nil {
			return "", fmt.Errorf("Fn::GetAtt attribute name: %w", err)
		}
		attr = a
	default:
		return "", fmt.Errorf("Fn::GetAtt needs [\"LogicalId\", \"Attribute\"] or \"LogicalId.Attribute\", got %s", Describe(arg))
	}
	if id == "" || attr == "" {
		return "", fmt.Errorf("Fn::GetAtt %q.%q: logical id and attribute must be non-empty", id, attr)
	}
	return r.attr(id, attr)
}

func (r resolver) attr(id, attr string) (string, error) {
	key := id + "." + attr
	if v := r.env.Attrs[key]; v != "" {
		return v, nil
	}
	return "", fmt.Errorf("Fn::GetAtt %s: no value in Env.Attrs[%q]", key, key)
}

func (r resolver) join(arg any, path string, depth int) (string, error) {
	args, ok := arg.([]any)
	if !ok || len(args) != 2 {
		return "", fmt.Errorf("Fn::Join needs [delimiter, [values...]], got %s", Describe(arg))
	}
	delim, ok := args[0].(string)
	if !ok {
		return "", fmt.Errorf("Fn::Join delimiter must be a string, got %s", Describe(args[0]))
	}
	parts, err := r.strList(args[1], path+"[1]", depth, "Fn::Join")
	if err != nil {
		return "", err
	}
	return strings.Join(parts, delim), nil
}

func (r resolver) selectElem(arg any, path string, depth int) (any, error) {
	args, ok := arg.([]any)
	if !ok || len(args) != 2 {
		return nil, fmt.Errorf("Fn::Select needs [index, [values...]], got %s", Describe(arg))
	}
	idxVal, _, err := r.value(args[0], path+"[0]", depth+1)
	if err != nil {
		return nil, err
	}
	idx, err := index(idxVal)
	if err != nil {
		return nil, fmt.Errorf("Fn::Select: %w", err)
	}
	listVal, _, err := r.value(args[1], path+"[1]", depth+1)
	if err != nil {
		return nil, err
	}
	list, ok := listVal.([]any)
	if !ok {
		return nil, fmt.Errorf("Fn::Select needs a list to select from, got %s", Kind(listVal))
	}
	if idx >= len(list) {
		return nil, fmt.Errorf("Fn::Select index %d is out of range for a list of %d elements", idx, len(list))
	}
	return list[idx], nil
}

// index reads an Fn::Select index, which templates write as a number or a
// numeric string.
func index(v any) (int, error) {
	var n float64
	switch t := v.(type) {
	case float64:
		n = t
	case int:
		n = float64(t)
	case int64:
		n = float64(t)
	case json.Number, string:
		s := fmt.Sprint(t)
		i, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("index %q is not an integer", s)
		}
		n = float64(i)
	default:
		return 0, fmt.Errorf("index must be a number, got %s", Kind(v))
	}
	if n < 0 || n != math.Trunc(n) || n > math.MaxInt32 {
		return 0, fmt.Errorf("index %v must be a non-negative integer", n)
	}
	return int(n), nil
}

func (r resolver) split(arg any, path string, depth int) ([]any, error) {
	args, ok := arg.([]any)
	if !ok || len(args) != 2 {
		return nil, fmt.Errorf("Fn::Split needs [delimiter, string], got %s", Describe(arg))
	}
	delim, ok := args[0].(string)
	if !ok || delim == "" {
		return nil, fmt.Errorf("Fn::Split delimiter must be a non-empty string, got %s", Describe(args[0]))
	}
	src, err := r.str(args[1], path+"[1]", depth)
	if err != nil {
		return nil, fmt.Errorf("Fn::Split source: %w", err)
	}
	parts := strings.Split(src, delim)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

// str resolves v and requires a string result.
func (r resolver) str(v any, path string, depth int) (string, error) {
	o, drop, err := r.value(v, path, depth+1)
	if err != nil {
		return "", err
	}
	s, ok := o.(string)
	if drop || !ok {
		if drop {
			return "", at(path, errors.New("AWS::NoValue where a string is required"))
		}
		return "", at(path, fmt.Errorf("want a string, got %s", Kind(o)))
	}
	return s, nil
}

// strList resolves v and requires a list of strings (NoValue elements are
// already dropped by value).
func (r resolver) strList(v any, path string, depth int, fn string) ([]string, error) {
	o, _, err := r.value(v, path, depth+1)
	if err != nil {
		return nil, err
	}
	list, ok := o.([]any)
	if !ok {
		return nil, fmt.Errorf("%s needs a list of strings, got %s", fn, Kind(o))
	}
	out := make([]string, len(list))
	for i, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("%s element %d must be a string, got %s", fn, i, Kind(item))
		}
		out[i] = s
	}
	return out, nil
}

// pathError says where in the resolved value an error happened. Only the
// innermost location is kept, so nested intrinsics do not repeat it.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return "at " + where(e.path) + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// at attaches path to err unless err already carries a location.
func at(path string, err error) error {
	var pe *pathError
	if errors.As(err, &pe) {
		return err
	}
	return &pathError{path: path, err: err}
}

// where renders a resolution path for messages; the root has none.
func where(path string) string {
	if path == "" {
		return "top level"
	}
	return strings.TrimPrefix(path, ".")
}
