package test

import (
	"strings"
	"testing"
)

// TestNagCompliance: the AwsSolutions and Serverless packs find nothing
// unsuppressed in any variant.
func TestNagCompliance(t *testing.T) {
	for _, variant := range []string{"default", "provisioned", "existing-vpc", "paused-with-topic", "monitoring-off", "people", "proxy", "readers", "proxy-readers"} {
		for _, f := range tmpl(t, variant).NagFindings {
			t.Errorf("%s: %s", variant, f)
		}
	}
}

// TestNagSuppressionsAreNarrow: every suppression sits on one resource (no
// stack-wide ones) and gives a reason a reviewer can weigh. The full list is
// in the nag-suppressions snapshot.
func TestNagSuppressionsAreNarrow(t *testing.T) {
	tp := tmpl(t, "default")
	if strings.Contains(string(tp.Raw), `"Metadata":{"cdk_nag"`) && strings.Contains(string(tp.Raw), `"Rules"`) {
		t.Errorf("template has stack-level nag metadata")
	}
	count := 0
	for id, rules := range nagSuppressions(tp) {
		for _, r := range rules {
			count++
			if len(r.Reason) < 60 {
				t.Errorf("%s: suppression of %s has a thin reason: %q", id, r.ID, r.Reason)
			}
			if strings.HasPrefix(r.ID, "AwsSolutions-IAM5") && len(r.AppliesTo) == 0 {
				t.Errorf("%s: IAM5 suppressed for every wildcard; name the one it applies to", id)
			}
		}
	}
	if count == 0 {
		t.Fatalf("no suppressions found: the reader of the template metadata is broken")
	}
}

type nagSuppression struct {
	ID        string `json:"id"`
	Reason    string `json:"reason"`
	AppliesTo []any  `json:"applies_to"`
}

// nagSuppressions reads cdk-nag's suppressions from resource metadata.
func nagSuppressions(tp *template) map[string][]nagSuppression {
	out := map[string][]nagSuppression{}
	for id, r := range tp.Resources {
		var md struct {
			CdkNag struct {
				Rules []nagSuppression `json:"rules_to_suppress"`
			} `json:"cdk_nag"`
		}
		if r.Metadata == nil || !decodeInto(r.Metadata, &md) {
			continue
		}
		if len(md.CdkNag.Rules) > 0 {
			out[id] = md.CdkNag.Rules
		}
	}
	return out
}
