package cfntemplate

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Kind names the JSON type of a decoded value, for error messages.
func Kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, json.Number, int, int64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("Go type %T", v)
}

// Describe shows a bad value in an error: strings quoted, others by kind.
func Describe(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return Kind(v)
}
