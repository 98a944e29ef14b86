package cfntemplate

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// sample has what the readers rely on: several resources of one type,
// both DependsOn forms, metadata, a condition and outputs.
const sample = `{
  "Resources": {
    "FnRoleA1": {"Type": "AWS::IAM::Role"},
    "FnRoleB2": {"Type": "AWS::IAM::Role", "Condition": "IsProd"},
    "FnA1": {"Type": "AWS::Lambda::Function", "DependsOn": "FnRoleA1",
      "Properties": {"Role": {"Fn::GetAtt": ["FnRoleA1", "Arn"]}, "Environment": {"Variables": {"DB_USER": "a"}}}},
    "FnB2": {"Type": "AWS::Lambda::Function", "DependsOn": ["FnRoleB2", "FnA1"],
      "Metadata": {"cdk_nag": {"rules_to_suppress": []}},
      "Properties": {"Role": {"Fn::GetAtt": "FnRoleB2.Arn"}, "Tags": [{"Key": "k", "Value": {"Ref": "AWS::StackName"}}]}}
  },
  "Outputs": {
    "FnName": {"Value": {"Ref": "FnA1"}, "Description": "the first function"},
    "Plain": {"Value": "literal"}
  }
}`

func TestParseModel(t *testing.T) {
	tp, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tp.OfType("AWS::Lambda::Function"), []string{"FnA1", "FnB2"}; !slices.Equal(got, want) {
		t.Errorf("OfType(function) = %v, want %v", got, want)
	}
	if got := tp.OfType("AWS::RDS::DBCluster"); got != nil {
		t.Errorf("OfType(absent type) = %v, want nil", got)
	}
	a, b := tp.Resources["FnA1"], tp.Resources["FnB2"]
	if !slices.Equal(a.DependsOn, []string{"FnRoleA1"}) || !slices.Equal(b.DependsOn, []string{"FnRoleB2", "FnA1"}) {
		t.Errorf("DependsOn = %v and %v", a.DependsOn, b.DependsOn)
	}
	if tp.Resources["FnRoleB2"].Condition != "IsProd" || b.Metadata["cdk_nag"] == nil || a.Metadata != nil {
		t.Errorf("condition %q, metadata %v and %v", tp.Resources["FnRoleB2"].Condition, b.Metadata, a.Metadata)
	}
	if o := tp.Outputs["FnName"]; !reflect.DeepEqual(o.Value, Ref("FnA1")) || o.Description != "the first function" {
		t.Errorf("output FnName = %#v", o)
	}
	if tp.Outputs["Plain"].Value != "literal" {
		t.Errorf("output Plain = %#v", tp.Outputs["Plain"])
	}
	// Both GetAtt forms name the role; a GetAtt of something else does not.
	for fn, role := range map[string]string{"FnA1": "FnRoleA1", "FnB2": "FnRoleB2"} {
		if got, ok := tp.ArnOf(tp.Resources[fn].Properties["Role"]); !ok || got != role {
			t.Errorf("ArnOf(%s Role) = %q, %v; want %q", fn, got, ok, role)
		}
	}
	if _, ok := tp.ArnOf(GetAtt("FnA1", "Name")); ok {
		t.Error("ArnOf accepted a GetAtt of Name")
	}
	if _, ok := tp.ArnOf(GetAtt("Elsewhere", "Arn")); ok {
		t.Error("ArnOf accepted a resource the template does not have")
	}
	refs := map[string]bool{}
	tp.Walk(func(v any) {
		if id, ok := RefTarget(v); ok {
			refs[id] = true
		}
	})
	if !refs["AWS::StackName"] || !refs["FnA1"] || len(refs) != 2 {
		t.Errorf("Walk found refs %v, want AWS::StackName (in a list in properties) and FnA1 (in an output)", refs)
	}
}

func TestOneAndAtMostOne(t *testing.T) {
	tp, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if id, r, err := tp.One("AWS::Lambda::Function", "FnB"); err != nil || id != "FnB2" || r.Type != "AWS::Lambda::Function" {
		t.Errorf("One(function, FnB) = %q, %v, %v", id, r.Type, err)
	}
	if _, _, err := tp.One("AWS::Lambda::Function", ""); err == nil || !strings.Contains(err.Error(), "FnA1") {
		t.Errorf("One of two = %v, want an error naming them", err)
	}
	if _, _, err := tp.One("AWS::RDS::DBCluster", ""); err == nil {
		t.Error("One of none succeeded")
	}
	if id, err := tp.AtMostOne("AWS::RDS::DBCluster"); id != "" || err != nil {
		t.Errorf("AtMostOne(absent) = %q, %v", id, err)
	}
	if _, err := tp.AtMostOne("AWS::IAM::Role"); err == nil || !strings.Contains(err.Error(), "FnRoleA1, FnRoleB2") {
		t.Errorf("AtMostOne of two = %v, want an error naming them", err)
	}
	var none *Template
	if none.OfType("AWS::IAM::Role") != nil {
		t.Error("a nil Template listed resources")
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"not JSON", `{`, "not a JSON object"},
		{"array", `[]`, "not a JSON object"},
		{"no Resources", `{"Outputs": {}}`, "no Resources"},
		{"Resources not an object", `{"Resources": []}`, "Resources must be an object"},
		{"resource without Type", `{"Resources": {"X": {"Properties": {}}}}`, `resource "X": Type`},
		{"Properties not an object", `{"Resources": {"X": {"Type": "T", "Properties": []}}}`, `resource "X": Properties`},
		{"Metadata not an object", `{"Resources": {"X": {"Type": "T", "Metadata": "m"}}}`, `resource "X": Metadata`},
		{"Condition not a name", `{"Resources": {"X": {"Type": "T", "Condition": {"Fn::Equals": [1, 1]}}}}`, `resource "X": Condition`},
		{"DependsOn a number", `{"Resources": {"X": {"Type": "T", "DependsOn": 3}}}`, `resource "X": DependsOn`},
		{"DependsOn entry not an id", `{"Resources": {"X": {"Type": "T", "DependsOn": ["Y", ""]}}}`, `DependsOn[1]`},
		{"Outputs not an object", `{"Resources": {}, "Outputs": []}`, "Outputs must be an object"},
		{"output not an object", `{"Resources": {}, "Outputs": {"O": "v"}}`, `output "O"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse(%s) error = %v, want one mentioning %q", tc.doc, err, tc.wantErr)
			}
		})
	}
}
