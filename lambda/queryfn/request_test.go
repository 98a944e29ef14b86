package queryfn

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseRequestAccepts(t *testing.T) {
	name200 := strings.Repeat("ü", 200) // 200 characters, 400 bytes
	tests := []struct {
		body string
		want Request
	}{
		{`{"action":"whoami"}`, Request{Action: ActionWhoAmI}},
		{` {"action":"whoami","params":{}} `, Request{Action: ActionWhoAmI}},
		{`{"action":"whoami","params":null}`, Request{Action: ActionWhoAmI}},
		{`{"action":"count_items"}`, Request{Action: ActionCountItems}},
		{`{"action":"list_items"}`, Request{Action: ActionListItems, Limit: DefaultListLimit}},
		{`{"action":"list_items","params":{}}`, Request{Action: ActionListItems, Limit: DefaultListLimit}},
		{`{"action":"list_items","params":{"limit":1}}`, Request{Action: ActionListItems, Limit: 1}},
		{`{"action":"list_items","params":{"limit":100}}`, Request{Action: ActionListItems, Limit: 100}},
		{`{"params":{"limit":5},"action":"list_items"}`, Request{Action: ActionListItems, Limit: 5}},
		{`{"action":"get_item","params":{"id":1}}`, Request{Action: ActionGetItem, ID: 1}},
		{`{"action":"get_item","params":{"id":9223372036854775807}}`, Request{Action: ActionGetItem, ID: 1<<63 - 1}},
		{`{"action":"delete_item","params":{"id":42}}`, Request{Action: ActionDeleteItem, ID: 42}},
		{`{"action":"add_item","params":{"name":"widget"}}`, Request{Action: ActionAddItem, Name: "widget"}},
		{`{"action":"add_item","params":{"name":"x"}}`, Request{Action: ActionAddItem, Name: "x"}},
		{`{"action":"add_item","params":{"name":"` + name200 + `"}}`, Request{Action: ActionAddItem, Name: name200}},
		{`{"action":"add_item","params":{"name":"caf\u00e9 \ud83d\ude00"}}`, Request{Action: ActionAddItem, Name: "café 😀"}},
		{`{"action":"add_item","params":{"name":"Robert'); DROP TABLE items;--"}}`, Request{Action: ActionAddItem, Name: "Robert'); DROP TABLE items;--"}},
		{`{"action":"add_item","params":{"name":"back\\slash \"quoted\""}}`, Request{Action: ActionAddItem, Name: `back\slash "quoted"`}},
	}
	for _, tt := range tests {
		t.Run(tt.body[:min(len(tt.body), 60)], func(t *testing.T) {
			got, err := ParseRequest([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseRequest(%s): %v", tt.body, err)
			}
			if got != tt.want {
				t.Fatalf("ParseRequest(%s) = %+v, want %+v", tt.body, got, tt.want)
			}
		})
	}
}

func TestParseRequestRejects(t *testing.T) {
	allowed := "allowed: add_item, count_items, delete_item, get_item, list_items, whoami"
	tests := []struct {
		name string
		body string
		want string // substring of the error after "invalid request: "
	}{
		// Body shape.
		{"empty body", ``, "empty body"},
		{"whitespace body", " \n\t", "empty body"},
		{"array", `[{"action":"whoami"}]`, "body must be a JSON object, got an array"},
		{"string", `"whoami"`, "body must be a JSON object, got a string"},
		{"number", `42`, "body must be a JSON object, got a number (42)"},
		{"null", `null`, "body must be a JSON object, got null"},
		{"boolean", `true`, "body must be a JSON object, got a boolean"},
		{"not JSON", `action=whoami`, "body must be a JSON object, got invalid JSON"},
		{"truncated", `{"action":"whoami"`, "body is not valid JSON"},
		{"trailing comma", `{"action":"whoami",}`, "body is not valid JSON"},
		{"trailing data", `{"action":"whoami"} {}`, "body has data after the JSON object"},
		{"trailing garbage", `{"action":"whoami"}x`, "body has data after the JSON object"},
		{"invalid UTF-8", "{\"action\":\"whoami\",\"x\":\"\xff\"}", "body is not valid UTF-8"},
		{"too large", `{"action":"whoami","pad":"` + strings.Repeat("a", MaxRequestBytes) + `"}`, "at most 16384 allowed"},
		{"duplicate action", `{"action":"whoami","action":"count_items"}`, `body has "action" more than once`},

		// Top-level fields.
		{"unknown field", `{"action":"whoami","verbose":true}`, `unknown field "verbose"; allowed: action, params`},
		{"case-different field", `{"Action":"whoami"}`, `unknown field "Action"`},
		{"missing action", `{}`, `missing "action"; ` + allowed},
		{"missing action with params", `{"params":{"id":1}}`, `missing "action"`},
		{"action number", `{"action":1}`, `"action" must be a string, got a number (1)`},
		{"action null", `{"action":null}`, `"action" must be a string, got null`},
		{"action object", `{"action":{}}`, `"action" must be a string, got an object`},
		{"unknown action", `{"action":"drop_table"}`, `unknown action "drop_table"; ` + allowed},
		{"action wrong case", `{"action":"WHOAMI"}`, `unknown action "WHOAMI"`},
		{"empty action", `{"action":""}`, `unknown action ""`},
		{"long unknown action is shortened", `{"action":"` + strings.Repeat("x", 500) + `"}`, `unknown action "` + strings.Repeat("x", 64) + `..."`},

		// params container.
		{"params array", `{"action":"list_items","params":[10]}`, `"params" must be a JSON object, got an array`},
		{"params string", `{"action":"whoami","params":""}`, `"params" must be a JSON object, got a string`},
		{"duplicate param", `{"action":"get_item","params":{"id":1,"id":2}}`, `"params" has "id" more than once`},
		{"missing required params", `{"action":"get_item"}`, "get_item requires params.id"},
		{"null required params", `{"action":"delete_item","params":null}`, "delete_item requires params.id"},
		{"empty params for add", `{"action":"add_item","params":{}}`, "add_item requires params.name"},

		// Extra parameters.
		{"param for whoami", `{"action":"whoami","params":{"id":1}}`, `whoami takes no parameters, got "id"`},
		{"param for count", `{"action":"count_items","params":{"limit":1}}`, `count_items takes no parameters, got "limit"`},
		{"unknown list param", `{"action":"list_items","params":{"offset":5}}`, `list_items does not take parameter "offset"; allowed: limit`},
		{"extra get param", `{"action":"get_item","params":{"id":1,"name":"x"}}`, `get_item does not take parameter "name"; allowed: id`},
		{"id for add", `{"action":"add_item","params":{"name":"x","id":3}}`, `add_item does not take parameter "id"; allowed: name`},

		// limit.
		{"limit zero", `{"action":"list_items","params":{"limit":0}}`, "list_items params.limit: want an integer 1..100, got 0"},
		{"limit too big", `{"action":"list_items","params":{"limit":101}}`, "want an integer 1..100, got 101"},
		{"limit negative", `{"action":"list_items","params":{"limit":-1}}`, "got -1"},
		{"limit fraction", `{"action":"list_items","params":{"limit":1.5}}`, "want an integer 1..100, got a number (1.5)"},
		{"limit 1.0", `{"action":"list_items","params":{"limit":1.0}}`, "got a number (1.0)"},
		{"limit exponent", `{"action":"list_items","params":{"limit":1e1}}`, "got a number (1e1)"},
		{"limit string", `{"action":"list_items","params":{"limit":"10"}}`, "want an integer 1..100, got a string"},
		{"limit null", `{"action":"list_items","params":{"limit":null}}`, "got null"},
		{"limit huge", `{"action":"list_items","params":{"limit":99999999999999999999}}`, "got 99999999999999999999"},

		// id.
		{"id zero", `{"action":"get_item","params":{"id":0}}`, "get_item params.id: want an integer 1..9223372036854775807, got 0"},
		{"id negative", `{"action":"delete_item","params":{"id":-5}}`, "delete_item params.id: want an integer 1..9223372036854775807, got -5"},
		{"id overflow", `{"action":"get_item","params":{"id":9223372036854775808}}`, "got 9223372036854775808"},
		{"id string", `{"action":"get_item","params":{"id":"1"}}`, "got a string"},
		{"id boolean", `{"action":"get_item","params":{"id":true}}`, "got a boolean"},
		{"id array", `{"action":"get_item","params":{"id":[1]}}`, "got an array"},

		// name.
		{"name empty", `{"action":"add_item","params":{"name":""}}`, "add_item params.name: 0 characters; want 1..200"},
		{"name too long", `{"action":"add_item","params":{"name":"` + strings.Repeat("é", 201) + `"}}`, "201 characters; want 1..200"},
		{"name number", `{"action":"add_item","params":{"name":5}}`, "want a string of 1..200 characters, got a number (5)"},
		{"name null", `{"action":"add_item","params":{"name":null}}`, "got null"},
		{"name lone high surrogate", `{"action":"add_item","params":{"name":"a\ud800b"}}`, "unpaired UTF-16 surrogate"},
		{"name lone low surrogate", `{"action":"add_item","params":{"name":"\udc00"}}`, "unpaired UTF-16 surrogate"},
		{"name reversed surrogates", `{"action":"add_item","params":{"name":"\ude00\ud83d"}}`, "unpaired UTF-16 surrogate"},
		{"name high surrogate at end", `{"action":"add_item","params":{"name":"x\ud83d"}}`, "unpaired UTF-16 surrogate"},
		{"name NUL", `{"action":"add_item","params":{"name":"a\u0000b"}}`, "contains a control character"},
		{"name newline", `{"action":"add_item","params":{"name":"line1\nline2"}}`, "contains a control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRequest([]byte(tt.body))
			if err == nil {
				t.Fatalf("ParseRequest(%s) = %+v, want an error", tt.body, got)
			}
			if !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("error %v does not wrap ErrInvalidRequest", err)
			}
			if !strings.HasPrefix(err.Error(), "invalid request: ") {
				t.Errorf("error %q does not start with %q", err, "invalid request: ")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if got != (Request{}) {
				t.Errorf("ParseRequest returned %+v alongside an error", got)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		req  Request
		want string // "" means valid
	}{
		{Request{Action: ActionWhoAmI}, ""},
		{Request{Action: ActionListItems, Limit: 50}, ""},
		{Request{Action: ActionAddItem, Name: "x"}, ""},
		{Request{Action: ActionDeleteItem, ID: 3}, ""},
		{Request{}, `unknown action ""`},
		{Request{Action: "truncate"}, `unknown action "truncate"`},
		{Request{Action: ActionListItems}, "list_items limit 0 out of range; want 1..100"},
		{Request{Action: ActionListItems, Limit: 101}, "limit 101 out of range"},
		{Request{Action: ActionGetItem}, "get_item id 0 out of range"},
		{Request{Action: ActionDeleteItem, ID: -1}, "delete_item id -1 out of range"},
		{Request{Action: ActionAddItem}, "add_item name: 0 characters"},
		{Request{Action: ActionAddItem, Name: "a\x00"}, "control character"},
		{Request{Action: ActionAddItem, Name: "\xff"}, "not valid UTF-8"},
		{Request{Action: ActionWhoAmI, Limit: 5}, "whoami does not take a limit"},
		{Request{Action: ActionCountItems, ID: 5}, "count_items does not take an id"},
		{Request{Action: ActionGetItem, ID: 1, Name: "x"}, "get_item does not take a name"},
	}
	for _, tt := range tests {
		err := tt.req.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v.Validate() = %v, want nil", tt.req, err)
		case tt.want != "" && (err == nil || !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v.Validate() = %v, want an invalid-request error containing %q", tt.req, err, tt.want)
		}
	}
}

func TestRequestJSONRoundTrip(t *testing.T) {
	for _, r := range []Request{
		{Action: ActionWhoAmI},
		{Action: ActionCountItems},
		{Action: ActionListItems, Limit: 7},
		{Action: ActionGetItem, ID: 1<<63 - 1},
		{Action: ActionDeleteItem, ID: 12},
		{Action: ActionAddItem, Name: "<tag> & \"quotes\" \u2028 😀"},
	} {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", r, err)
		}
		got, err := ParseRequest(b)
		if err != nil {
			t.Fatalf("ParseRequest(%s): %v", b, err)
		}
		if got != r {
			t.Errorf("round trip of %+v through %s gave %+v", r, b, got)
		}
	}
}

func TestHasLoneSurrogate(t *testing.T) {
	tests := []struct {
		lit  string
		want bool
	}{
		{`"plain"`, false},
		{`"\ud83d\ude00"`, false},
		{`"\uD83D\uDE00"`, false},
		{`"\u00e9\n\t\\u0041"`, false}, // \\u is an escaped backslash, then text
		{`"\\\ud800"`, true},
		{`"\ud800"`, true},
		{`"\ud800\u0041"`, true},
		{`"\ud800\n"`, true},
		{`"\udfff"`, true},
		{`"\ud83d\ud83d\ude00"`, true},
	}
	for _, tt := range tests {
		if got := hasLoneSurrogate([]byte(tt.lit)); got != tt.want {
			t.Errorf("hasLoneSurrogate(%s) = %v, want %v", tt.lit, got, tt.want)
		}
	}
}
