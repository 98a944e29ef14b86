package cfntemplate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// sub resolves the argument of Fn::Sub: "template" or ["template", {vars}].
//
// In the template, ${Name} is replaced by vars[Name] if present, else by
// the Fn::GetAtt value when Name contains a dot (${Id.Attr}), else by the
// Ref value (${Param}, ${AWS::Region}). ${!Text} is CloudFormation's escape
// and yields the literal "${Text}".
func (r resolver) sub(arg any, path string, depth int) (string, error) {
	var tmpl string
	vars := map[string]string{}
	switch t := arg.(type) {
	case string:
		tmpl = t
	case []any:
		if len(t) != 2 {
			return "", fmt.Errorf("Fn::Sub needs \"template\" or [\"template\", {variables}], got an array of %d elements", len(t))
		}
		s, ok := t[0].(string)
		if !ok {
			return "", fmt.Errorf("Fn::Sub template must be a string, got %s", Describe(t[0]))
		}
		tmpl = s
		m, ok := t[1].(map[string]any)
		if !ok {
			return "", fmt.Errorf("Fn::Sub variables must be an object, got %s", Describe(t[1]))
		}
		// Resolved eagerly, as CloudFormation does: an unresolvable variable
		// is an error even if the template happens not to use it.
		for _, name := range slices.Sorted(maps.Keys(m)) {
			v, err := r.str(m[name], path+"[1]."+name, depth)
			if err != nil {
				return "", fmt.Errorf("Fn::Sub variable %q: %w", name, err)
			}
			vars[name] = v
		}
	default:
		return "", fmt.Errorf("Fn::Sub needs \"template\" or [\"template\", {variables}], got %s", Describe(arg))
	}

	var b strings.Builder
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			b.WriteString(tmpl)
			return b.String(), nil
		}
		b.WriteString(tmpl[:i])
		rest := tmpl[i+2:]
		if strings.HasPrefix(rest, "!") {
			// Escape: emit "${" and carry on after the "!"; the rest of the
			// placeholder is ordinary text.
			b.WriteString("${")
			tmpl = rest[1:]
			continue
		}
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return "", fmt.Errorf("Fn::Sub template %q has an unterminated \"${\"", tmplForError(arg))
		}
		name := rest[:end]
		val, err := r.subVar(name, vars)
		if err != nil {
			return "", fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		b.WriteString(val)
		tmpl = rest[end+1:]
	}
}

func (r resolver) subVar(name string, vars map[string]string) (string, error) {
	if v, ok := vars[name]; ok {
		return v, nil
	}
	switch {
	case name == "":
		return "", errors.New("empty variable name")
	case name == "AWS::NoValue":
		return "", errors.New("AWS::NoValue cannot be substituted into a string")
	case strings.Contains(name, "."):
		id, attr, _ := strings.Cut(name, ".")
		if id == "" || attr == "" {
			return "", fmt.Errorf("want ${LogicalId.Attribute}, got ${%s}", name)
		}
		return r.attr(id, attr)
	}
	return r.ref(name)
}

// tmplForError recovers the template string for an error message.
func tmplForError(arg any) string {
	if t, ok := arg.([]any); ok && len(t) > 0 {
		s, _ := t[0].(string)
		return s
	}
	s, _ := arg.(string)
	return s
}
