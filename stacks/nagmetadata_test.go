package stacks

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// TestNagMetadataMatchesCdkNagFormat: the metadata suppress writes is what
// cdk-nag's NagSuppressions.addResourceSuppressions would write (the
// end-to-end proof is test/nag_test.go: zero unsuppressed findings with
// cdk-nag reading it, and the nag-suppressions snapshot unchanged).
func TestNagMetadataMatchesCdkNagFormat(t *testing.T) {
	rules := []nagRule{
		{ID: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"}, AppliesToRegex: `^Resource::arn:aws:logs:(.*):\*$`, Reason: "ENI management needs the wildcard."},
		{ID: "Serverless-LambdaDLQ", Reason: "Invoked synchronously only."},
	}
	got, err := nagMetadata(nil, rules)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"rules_to_suppress":[` +
		`{"applies_to":["Resource::*",{"regex":"/^Resource::arn:aws:logs:(.*):\\*$/"}],"id":"AwsSolutions-IAM5","reason":"ENI management needs the wildcard."},` +
		`{"id":"Serverless-LambdaDLQ","reason":"Invoked synchronously only."}]}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Errorf("metadata\n got %s\nwant %s", b, want)
	}

	// Adding the same rule again, to metadata that went through JSON as it
	// does through jsii, keeps one entry; a new rule is appended.
	var roundTrip any
	b, _ := json.Marshal(got)
	if err := json.Unmarshal(b, &roundTrip); err != nil {
		t.Fatal(err)
	}
	again, err := nagMetadata(roundTrip, []nagRule{rules[1], {ID: "AwsSolutions-L1", Reason: "Pinned runtime on purpose."}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(again["rules_to_suppress"].([]any)); n != 3 {
		t.Errorf("%d entries after re-adding one rule and adding one, want 3: %v", n, again)
	}
}

func TestNagMetadataEncodesWideReasonsAndRefusesBadRules(t *testing.T) {
	reason := "Verified by hand — see RELIABILITY.md" // U+2014 is above U+00FF
	got, err := nagMetadata(nil, []nagRule{{ID: "AwsSolutions-RDS6", Reason: reason}})
	if err != nil {
		t.Fatal(err)
	}
	e := got["rules_to_suppress"].([]any)[0].(map[string]any)
	dec, _ := base64.StdEncoding.DecodeString(e["reason"].(string))
	if e["is_reason_encoded"] != true || string(dec) != reason {
		t.Errorf("wide reason stored as %v", e)
	}
	latin1, _ := nagMetadata(nil, []nagRule{{ID: "X-1", Reason: "café crème, fine"}})
	if e := latin1["rules_to_suppress"].([]any)[0].(map[string]any); e["is_reason_encoded"] != nil {
		t.Errorf("Latin-1 reason encoded: %v", e)
	}

	for _, bad := range []nagRule{
		{ID: "AwsSolutions-IAM5[Resource::*]", Reason: "long enough reason"},
		{ID: "AwsSolutions-L1", Reason: "too short"},
	} {
		if _, err := nagMetadata(nil, []nagRule{bad}); err == nil || !strings.Contains(err.Error(), bad.ID) {
			t.Errorf("%+v: err = %v, want one naming the rule", bad, err)
		}
	}
}
