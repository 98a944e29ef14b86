package stacks

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Reading CDK context values: cdk.json delivers JSON types, `-c key=value`
// strings; both are accepted for every kind of key.

// contextReader converts raw context values, keeping the first error.
type contextReader struct {
	get func(string) any
	err error
}

func (r *contextReader) fail(key string, v any, allowed string) {
	if r.err == nil {
		r.err = &ConfigError{Key: key, Value: v, Allowed: allowed}
	}
}

func (r *contextReader) str(key string, dst *string) {
	switch v := r.get(key).(type) {
	case nil:
	case string:
		*dst = strings.TrimSpace(v)
	default:
		r.fail(key, v, "a string")
	}
}

// list accepts a JSON array of strings, a JSON array in a string
// (`-c grants='["SELECT"]'`) or a comma-separated string (`-c grants=SELECT,INSERT`).
func (r *contextReader) list(key string, dst *[]string) {
	const allowed = `a list of strings: a JSON array or a comma-separated string`
	switch v := r.get(key).(type) {
	case nil:
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				r.fail(key, v, allowed)
				return
			}
			out = append(out, strings.TrimSpace(s))
		}
		*dst = out
	case string:
		s := strings.TrimSpace(v)
		if strings.HasPrefix(s, "[") {
			var out []string
			if err := json.Unmarshal([]byte(s), &out); err != nil {
				r.fail(key, v, allowed)
				return
			}
			*dst = out
			return
		}
		out := []string{}
		if s != "" {
			for _, part := range strings.Split(s, ",") {
				out = append(out, strings.TrimSpace(part))
			}
		}
		*dst = out
	default:
		r.fail(key, v, allowed)
	}
}

func (r *contextReader) boolean(key string, dst *bool) {
	switch v := r.get(key).(type) {
	case nil:
	case bool:
		*dst = v
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			r.fail(key, v, "true or false")
			return
		}
		*dst = b
	default:
		r.fail(key, v, "true or false")
	}
}

func (r *contextReader) float(key string, dst *float64) {
	switch v := r.get(key).(type) {
	case nil:
	case float64:
		*dst = v
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			r.fail(key, v, "a number")
			return
		}
		*dst = f
	default:
		r.fail(key, v, "a number")
	}
}

func (r *contextReader) integer(key string, dst *int) {
	switch v := r.get(key).(type) {
	case nil:
	case float64:
		if v != float64(int(v)) {
			r.fail(key, v, "a whole number")
			return
		}
		*dst = int(v)
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			r.fail(key, v, "a whole number")
			return
		}
		*dst = n
	default:
		r.fail(key, v, "a whole number")
	}
}

// jsonArray reads a JSON array of T for key: from cdk.json as a JSON array,
// or from `-c key='[...]'` as a JSON string. Unknown fields are refused, so
// a typo such as "grant" is not silently an entry without grants; allowed
// is the key table's text for the error.
func jsonArray[T any](r *contextReader, key string, dst *[]T, allowed string) {
	raw := r.get(key)
	var data []byte
	switch v := raw.(type) {
	case nil:
		return
	case string:
		data = []byte(strings.TrimSpace(v))
	case []any:
		var err error
		if data, err = json.Marshal(v); err != nil {
			r.fail(key, v, allowed)
			return
		}
	default:
		r.fail(key, v, allowed)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var out []T
	if err := dec.Decode(&out); err != nil {
		if r.err == nil {
			r.err = &ConfigError{Key: key, Value: raw, Reason: err.Error(), Allowed: allowed}
		}
		return
	}
	if out == nil {
		out = []T{}
	}
	*dst = out
}
