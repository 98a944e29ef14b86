package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
)

// Snapshots of everything in the default stack that carries security: IAM
// (per role: trust, inline and attached policies, managed policy ARNs),
// security group rules, the database users' grants and the Aurora settings.
// They live in test/snapshots/*.json, normalized so a diff reads well:
// intrinsics are shown as ${LogicalId.Attribute}, keys are sorted.
//
// A change that alters them fails with a diff. When the change is meant,
// rewrite them with:
//
//	UPDATE_SNAPSHOTS=1 go test ./test -run TestSnapshots
func TestSnapshots(t *testing.T) {
	tp := tmpl(t, "default")
	for name, build := range map[string]func(*template) any{
		"iam":             iamSnapshot,
		"security-groups": securityGroupSnapshot,
		"database-users":  databaseUserSnapshot,
		"aurora":          auroraSnapshot,
		"monitoring":      monitoringSnapshot,
		"nag-suppressions": func(tp *template) any {
			return nagSuppressions(tp)
		},
	} {
		t.Run(name, func(t *testing.T) {
			compareSnapshot(t, filepath.Join("snapshots", name+".json"), snapshotJSON(t, build(tp)))
		})
	}
}

// snapshotJSON is v made readable, as indented JSON.
func snapshotJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <, > and & readable in the diff
	enc.SetIndent("", "  ")
	if err := enc.Encode(readable(v)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func compareSnapshot(t *testing.T, path string, got []byte) {
	t.Helper()
	if os.Getenv("UPDATE_SNAPSHOTS") != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read snapshot: %v (create it with UPDATE_SNAPSHOTS=1 go test ./test -run TestSnapshots)", err)
	}
	if bytes.Equal(want, got) {
		return
	}
	diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(string(want)), B: difflib.SplitLines(string(got)),
		FromFile: path + " (committed)", ToFile: path + " (this synth)", Context: 3,
	})
	t.Errorf("snapshot %s changed; review the diff, and if the change is intended run\n"+
		"  UPDATE_SNAPSHOTS=1 go test ./test -run TestSnapshots\n\n%s", path, diff)
}

// readable rewrites CloudFormation intrinsics into strings a reviewer can
// read: {"Ref":"X"} → "${X}", {"Fn::GetAtt":["X","Y"]} → "${X.Y}", and
// Fn::Join of such parts → the joined string.
func readable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if r, ok := x["Ref"].(string); ok {
				return "${" + r + "}"
			}
			if a, ok := x["Fn::GetAtt"].([]any); ok && len(a) == 2 {
				return fmt.Sprintf("${%v.%v}", a[0], a[1])
			}
			if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
				sep, _ := j[0].(string)
				parts, _ := j[1].([]any)
				var ss []string
				for _, p := range parts {
					s, ok := readable(p).(string)
					if !ok {
						goto generic
					}
					ss = append(ss, s)
				}
				return strings.Join(ss, sep)
			}
		}
	generic:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = readable(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = readable(e)
		}
		return out
	}
	return v
}

func iamSnapshot(tp *template) any {
	roles := map[string]any{}
	for _, id := range tp.OfType("AWS::IAM::Role") {
		p := tp.Resources[id].Properties
		inline := map[string]any{}
		pols, _ := p["Policies"].([]any)
		for _, pol := range pols {
			m, _ := pol.(map[string]any)
			inline[fmt.Sprint(m["PolicyName"])] = m["PolicyDocument"]
		}
		roles[id] = map[string]any{
			"trust":             p["AssumeRolePolicyDocument"],
			"inlinePolicies":    inline,
			"attachedPolicies":  attachedPolicies(tp, id),
			"managedPolicyArns": p["ManagedPolicyArns"],
		}
	}
	return roles
}

// attachedPolicies are AWS::IAM::Policy and ManagedPolicy resources that name
// the role, by their logical id.
func attachedPolicies(tp *template, role string) map[string]any {
	out := map[string]any{}
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} {
		for _, id := range tp.OfType(typ) {
			p := tp.Resources[id].Properties
			roles, _ := p["Roles"].([]any)
			if slices.ContainsFunc(roles, func(r any) bool { return jsonEqual(r, ref(role)) }) {
				out[id] = p["PolicyDocument"]
			}
		}
	}
	return out
}

func securityGroupSnapshot(tp *template) any {
	groups := map[string]any{}
	for _, id := range tp.OfType("AWS::EC2::SecurityGroup") {
		p := tp.Resources[id].Properties
		groups[id] = map[string]any{
			"description":   p["GroupDescription"],
			"inlineIngress": p["SecurityGroupIngress"],
			"inlineEgress":  p["SecurityGroupEgress"],
			"ingress":       []any{},
			"egress":        []any{},
		}
	}
	for _, kind := range []struct{ typ, key string }{
		{"AWS::EC2::SecurityGroupIngress", "ingress"},
		{"AWS::EC2::SecurityGroupEgress", "egress"},
	} {
		for _, id := range tp.OfType(kind.typ) {
			p := maps(tp.Resources[id].Properties)
			gid, _ := readable(p["GroupId"]).(string)
			delete(p, "GroupId")
			owner := strings.TrimSuffix(strings.TrimPrefix(gid, "${"), ".GroupId}")
			g, ok := groups[owner].(map[string]any)
			if !ok {
				g = map[string]any{"ingress": []any{}, "egress": []any{}}
				groups[gid] = g
			}
			g[kind.key] = append(g[kind.key].([]any), p)
		}
	}
	// Sort rules so their order follows content, not logical ids.
	for _, g := range groups {
		m := g.(map[string]any)
		for _, k := range []string{"ingress", "egress"} {
			rules := m[k].([]any)
			slices.SortFunc(rules, func(a, b any) int { return strings.Compare(asJSON(readable(a)), asJSON(readable(b))) })
		}
	}
	return groups
}

func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func databaseUserSnapshot(tp *template) any {
	users := map[string]any{}
	// The sample app's table runs as the admin too: its properties are
	// snapshotted with the users'.
	for _, id := range append(tp.OfType("Custom::DatabaseUser"), tp.OfType("Custom::SampleTable")...) {
		p := maps(tp.Resources[id].Properties)
		delete(p, "ServiceToken")
		users[id] = p
	}
	return users
}

func auroraSnapshot(tp *template) any {
	pick := func(p map[string]any, keys ...string) map[string]any {
		out := map[string]any{}
		for _, k := range keys {
			out[k] = p[k]
		}
		return out
	}
	out := map[string]any{}
	for _, id := range tp.OfType("AWS::RDS::DBCluster") {
		out[id] = pick(tp.Resources[id].Properties, "EnableIAMDatabaseAuthentication", "StorageEncrypted",
			"KmsKeyId", "DeletionProtection", "BackupRetentionPeriod", "Engine", "EngineVersion",
			"DBClusterParameterGroupName", "VpcSecurityGroupIds", "Port", "MasterUsername")
	}
	for _, id := range tp.OfType("AWS::RDS::DBClusterParameterGroup") {
		out[id] = pick(tp.Resources[id].Properties, "Parameters")
	}
	for _, id := range tp.OfType("AWS::RDS::DBInstance") {
		out[id] = pick(tp.Resources[id].Properties, "PubliclyAccessible", "DBInstanceClass", "CACertificateIdentifier")
	}
	return out
}
