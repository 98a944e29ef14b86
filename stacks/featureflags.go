package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FeatureFlags returns the CDK feature flags of root's cdk.json: its
// context keys with a colon ("@aws-cdk/aws-iam:minimizePolicies"). cdk.json
// is their one home: the CDK CLI hands them to the app, and apps that run
// without the CLI (the tests, the benchmarks) pass these to awscdk.NewApp
// so they synthesize the same template as `cdk synth`.
//
// cdk.json carries every flag `cdk init` recommends for the pinned
// aws-cdk-lib (its recommended-feature-flags.json); docs/configuration.md lists why.
func FeatureFlags(root string) (map[string]any, error) {
	data, err := os.ReadFile(filepath.Join(root, "cdk.json"))
	if err != nil {
		return nil, fmt.Errorf("feature flags: %w", err)
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("feature flags: cdk.json: %w", err)
	}
	flags := map[string]any{}
	for k, v := range f.Context {
		if strings.Contains(k, ":") {
			flags[k] = v
		}
	}
	return flags, nil
}
