package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/rdsiam/rdsiam/lambda/sqlident"
)

// A value is checked once per layer, by one rule, and the refusal is worded
// for whoever gave the value: the app's configuration names the context key
// (ConfigError), a construct names its props field (PropsError). The rules
// themselves (the key table's, and the shared ones in configrules.go)
// return a problem, which says what is wrong and what is allowed but not
// where the value came from.

// ConfigError is a configuration value that cannot be used. Its message
// names the context key, the value given and what is allowed.
type ConfigError struct {
	Key     string
	Value   any
	Allowed string
	// Reason is the rule the value broke, when it says more than Allowed.
	Reason string
}

func (e *ConfigError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("context key %q: invalid value %s: %s; allowed: %s", e.Key, formatValue(e.Value), e.Reason, e.Allowed)
	}
	return fmt.Sprintf("context key %q: invalid value %s; allowed: %s", e.Key, formatValue(e.Value), e.Allowed)
}

// PropsError is a construct prop that cannot be used. Its message names the
// props field ("QueryFunctionProps.MemoryMB"), the value and what is allowed;
// a construct caller never set a context key, so it names none.
type PropsError struct {
	// Field is "<Props type>.<field>", e.g. "ClusterProps.EngineVersion".
	Field   string
	Value   any
	Allowed string
	// Reason is the rule the value broke, when it says more than Allowed.
	Reason string
	// OutOfRange: the value is outside the numeric range Allowed names.
	OutOfRange bool
}

func (e *PropsError) Error() string {
	what := "is not valid"
	if e.OutOfRange {
		what = "is out of range"
	}
	if e.Reason != "" {
		what += ": " + e.Reason
	}
	return fmt.Sprintf("%s %s %s (allowed %s)", e.Field, formatValue(e.Value), what, e.Allowed)
}

// problem is why a value is refused, without saying where it came from.
type problem struct {
	Reason, Allowed string
	outOfRange      bool
}

// forKey words p for the context key key.
func (p *problem) forKey(key string, value any) error {
	return &ConfigError{Key: key, Value: value, Reason: p.Reason, Allowed: p.Allowed}
}

// forProp words p for the props field field ("QueryFunctionProps.MemoryMB").
func (p *problem) forProp(field string, value any) error {
	return &PropsError{Field: field, Value: value, Reason: p.Reason, Allowed: p.Allowed, OutOfRange: p.outOfRange}
}

// identProblem turns a sqlident validation error about value into a problem.
func identProblem(value any, err error) *problem {
	var ie *sqlident.InvalidError
	if errors.As(err, &ie) {
		reason := ie.Reason
		if !reflect.DeepEqual(value, ie.Value) {
			reason = fmt.Sprintf("%s %q %s", ie.What, ie.Value, ie.Reason)
		}
		return &problem{Reason: reason, Allowed: strings.TrimPrefix(ie.Allowed, "allowed: ")}
	}
	return &problem{Allowed: err.Error()}
}

// identError turns a sqlident validation error into a ConfigError for key.
func identError(key string, value any, err error) error {
	return identProblem(value, err).forKey(key, value)
}

func formatValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}
