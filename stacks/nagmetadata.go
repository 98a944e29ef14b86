package stacks

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// nagMetadataKey is the resource metadata key cdk-nag reads suppressions from.
const nagMetadataKey = "cdk_nag"

// nagFindingInID matches a rule id that carries a finding ("IAM5[...]"),
// which cdk-nag refuses: a finding belongs in applies_to.
var nagFindingInID = regexp.MustCompile(`\[.*\]`)

// nagMetadata returns existing (a resource's "cdk_nag" metadata, nil if
// none) with rules added, as cdk-nag 2.38.2's NagSuppressions writes it
// (NagSuppressionHelper.addRulesToMetadata and toCfnFormat):
//
//	{"rules_to_suppress": [{"reason": …, "id": …, "applies_to": [… or {"regex": "/…/"}]}]}
//
// A reason with a character above U+00FF is stored base64-encoded with
// "is_reason_encoded": true; entries already present are not repeated. It
// refuses what cdk-nag refuses: a reason under 10 characters, an id holding
// a finding.
func nagMetadata(existing any, rules []nagRule) (map[string]any, error) {
	var entries []any
	seen := map[string]bool{}
	add := func(e any) error {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("cdk-nag suppression: %w", err)
		}
		if !seen[string(b)] {
			seen[string(b)] = true
			entries = append(entries, e)
		}
		return nil
	}
	if m, ok := existing.(map[string]any); ok {
		if old, ok := m["rules_to_suppress"].([]any); ok {
			for _, e := range old {
				if err := add(e); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, r := range rules {
		var problems []string
		if nagFindingInID.MatchString(r.ID) {
			problems = append(problems, fmt.Sprintf("the id %q holds a finding: put it in AppliesTo", r.ID))
		}
		if len([]rune(r.Reason)) < 10 {
			problems = append(problems, "the reason must be 10 characters or more")
		}
		if len(problems) > 0 {
			return nil, fmt.Errorf("cdk-nag suppression of %s: %s", r.ID, strings.Join(problems, "; "))
		}
		e := map[string]any{"id": r.ID, "reason": r.Reason}
		if strings.ContainsFunc(r.Reason, func(c rune) bool { return c > 0xFF }) {
			e["reason"] = base64.StdEncoding.EncodeToString([]byte(r.Reason))
			e["is_reason_encoded"] = true
		}
		var applies []any
		for _, a := range r.AppliesTo {
			applies = append(applies, a)
		}
		if r.AppliesToRegex != "" {
			applies = append(applies, map[string]any{"regex": "/" + r.AppliesToRegex + "/"})
		}
		if len(applies) > 0 {
			e["applies_to"] = applies
		}
		if err := add(e); err != nil {
			return nil, err
		}
	}
	return map[string]any{"rules_to_suppress": entries}, nil
}
