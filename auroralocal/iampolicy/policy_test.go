package iampolicy

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseAcceptsIAMForms(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want Document
	}{
		{
			name: "statement object, string action and resource",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"rds-db:connect","Resource":"arn:x"}}`,
			want: Document{Version: Version2012, Statement: []Statement{
				{Effect: Allow, Action: []string{"rds-db:connect"}, Resource: []string{"arn:x"}},
			}},
		},
		{
			name: "statement array, array action and resource, Sid and Id",
			doc: `{"Version":"2012-10-17","Id":"doc1","Statement":[
				{"Sid":"A","Effect":"Deny","Action":["rds-db:connect","s3:Get*"],"Resource":["arn:a","arn:b"]},
				{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:c"}]}`,
			want: Document{Version: Version2012, ID: "doc1", Statement: []Statement{
				{Sid: "A", Effect: Deny, Action: []string{"rds-db:connect", "s3:Get*"}, Resource: []string{"arn:a", "arn:b"}},
				{Effect: Allow, NotAction: []string{"iam:*"}, NotResource: []string{"arn:c"}},
			}},
		},
		{
			name: "no Version, wildcard action, condition values normalised to strings",
			doc: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
				"Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":[10,"20"]}}}]}`,
			want: Document{Statement: []Statement{
				{Effect: Allow, Action: []string{"*"}, Resource: []string{"*"}, Condition: map[string]map[string][]string{
					"Bool":            {"aws:SecureTransport": {"true"}},
					"NumericLessThan": {"s3:max-keys": {"10", "20"}},
				}},
			}},
		},
		{
			name: "old version",
			doc:  `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"rds-db:*","Resource":"*"}]}`,
			want: Document{Version: Version2008, Statement: []Statement{
				{Effect: Allow, Action: []string{"rds-db:*"}, Resource: []string{"*"}},
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse =\n%#v\nwant\n%#v", got, tc.want)
			}
			// CloudFormation may also hand over the document as a JSON string.
			fromString, err := ParseValue(tc.doc)
			if err != nil {
				t.Fatalf("ParseValue(string): %v", err)
			}
			if !reflect.DeepEqual(fromString, tc.want) {
				t.Fatalf("ParseValue(string) =\n%#v\nwant\n%#v", fromString, tc.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	const allow = `"Effect":"Allow","Action":"rds-db:connect","Resource":"*"`
	tests := []struct {
		name    string
		doc     string
		wantErr []string // all must appear in the error
	}{
		{"not JSON", `{`, []string{"not valid JSON"}},
		{"not an object", `[]`, []string{"must be a JSON object", "array"}},
		{"no Statement", `{"Version":"2012-10-17"}`, []string{"no Statement"}},
		{"Statement is a string", `{"Statement":"x"}`, []string{"Statement must be an object or an array", "string"}},
		{"statement not an object", `{"Statement":[1]}`, []string{"statement #0", "number"}},
		{"unknown version", `{"Version":"2020-01-01","Statement":[{` + allow + `}]}`, []string{`"2020-01-01"`, Version2012}},
		{"unknown top-level key", `{"Statment":[],"Statement":[]}`, []string{`"Statment"`, "allowed: Version, Id, Statement"}},
		{"Principal", `{"Statement":[{` + allow + `,"Principal":{"AWS":"*"}}]}`, []string{"Principal is not allowed in an identity policy"}},
		{"NotPrincipal", `{"Statement":[{` + allow + `,"NotPrincipal":"*"}]}`, []string{"NotPrincipal is not allowed"}},
		{"unknown Effect", `{"Statement":[{"Effect":"Permit","Action":"a:b","Resource":"*"}]}`, []string{`"Permit"`, `"Allow" or "Deny"`}},
		{"lower-case Effect", `{"Statement":[{"Effect":"allow","Action":"a:b","Resource":"*"}]}`, []string{`"allow"`, `"Allow" or "Deny"`}},
		{"missing Effect", `{"Statement":[{"Action":"a:b","Resource":"*"}]}`, []string{"no Effect"}},
		{"missing Action", `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`, []string{"neither Action nor NotAction"}},
		{"missing Resource", `{"Statement":[{"Effect":"Allow","Action":"a:b"}]}`, []string{"neither Resource nor NotResource"}},
		{"Action and NotAction", `{"Statement":[{` + allow + `,"NotAction":"s3:*"}]}`, []string{"both Action and NotAction"}},
		{"Resource and NotResource", `{"Statement":[{` + allow + `,"NotResource":"arn:x"}]}`, []string{"both Resource and NotResource"}},
		{"empty action array", `{"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, []string{"Action must not be an empty array"}},
		{"empty resource string", `{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":""}]}`, []string{"Resource must not be an empty string"}},
		{"non-string action", `{"Statement":[{"Effect":"Allow","Action":["a:b",3],"Resource":"*"}]}`, []string{"Action[1]", "number"}},
		{"action without service", `{"Statement":[{"Effect":"Allow","Action":"connect","Resource":"*"}]}`, []string{`"connect"`, "service:action"}},
		{"unknown statement key", `{"Statement":[{` + allow + `,"Resources":"*"}]}`, []string{`"Resources"`, "allowed: Sid"}},
		{"Sid not a string", `{"Statement":[{` + allow + `,"Sid":1}]}`, []string{"Sid must be a string"}},
		{"malformed Condition", `{"Statement":[{` + allow + `,"Condition":{"StringEquals":"x"}}]}`, []string{`"StringEquals"`, "key → values"}},
		{"Condition value object", `{"Statement":[{` + allow + `,"Condition":{"StringEquals":{"k":{"a":1}}}}]}`, []string{`StringEquals "k"`, "object"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatalf("Parse(%s) succeeded, want an error", tc.doc)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestParseValueRejectsNonJSONTypes(t *testing.T) {
	for _, v := range []any{nil, 42.0, []any{}, map[string]string{"Statement": "x"}} {
		if _, err := ParseValue(v); err == nil {
			t.Errorf("ParseValue(%#v) succeeded, want an error", v)
		}
	}
}
