package stacks

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md's key table from the key table (make docs)")

// TestKeyTableCoversConfig: every Config field is set by exactly one key,
// and every key's name is one CheckKeys can tell from CDK's own keys.
func TestKeyTableCoversConfig(t *testing.T) {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	byField := map[uintptr]string{}
	names := map[string]bool{}
	name := regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)
	for _, k := range configKeys {
		if !name.MatchString(k.name) {
			t.Errorf("key %q: want a camelCase name without ':' or '@' (CheckKeys leaves those to CDK)", k.name)
		}
		if names[k.name] {
			t.Errorf("key %q is in the table twice", k.name)
		}
		names[k.name] = true
		if k.allowed == "" || k.help == "" {
			t.Errorf("key %q: no allowed or help text for the docs", k.name)
		}
		p := reflect.ValueOf(k.field(&c)).Pointer()
		if other, dup := byField[p]; dup {
			t.Errorf("keys %q and %q set the same field", other, k.name)
		}
		byField[p] = k.name
	}
	for i := range v.NumField() {
		if _, ok := byField[v.Field(i).Addr().Pointer()]; !ok {
			t.Errorf("Config.%s is set by no key of the table", v.Type().Field(i).Name)
		}
	}
}

// TestDefaultConfigCopies: DefaultConfig's slices are fresh each time, so a
// caller changing one does not change the next default.
func TestDefaultConfigCopies(t *testing.T) {
	a := DefaultConfig()
	a.Grants[0] = "DELETE"
	a.HumanUsers[0].Grants[0] = "DELETE"
	b := DefaultConfig()
	if b.Grants[0] == "DELETE" || b.HumanUsers[0].Grants[0] == "DELETE" {
		t.Errorf("DefaultConfig shares slices between calls: %v %v", b.Grants, b.HumanUsers)
	}
}

// TestCdkJSONMatchesKeyTable: cdk.json lists every key of the table with
// the table's default (users read the defaults there), and no other key
// of ours.
func TestCdkJSONMatchesKeyTable(t *testing.T) {
	ctx := readStockContext(t)
	d := DefaultConfig()
	for _, k := range configKeys {
		got, ok := ctx[k.name]
		if !ok {
			t.Errorf("cdk.json lacks %q (default %s)", k.name, formatValue(k.value(&d)))
			continue
		}
		if want := jsonValue(t, k.value(&d)); !reflect.DeepEqual(got, want) {
			t.Errorf("cdk.json %q = %s, the key table's default is %s", k.name, formatValue(got), formatValue(want))
		}
	}
	if err := CheckKeys(ctx); err != nil {
		t.Errorf("cdk.json has a key the table does not: %v", err)
	}
}

// jsonValue is v as cdk.json would hold it (numbers float64, lists []any).
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// generatedTables are the documents that show the key table, each between
// its markers: the full table for docs/configuration.md's readers, the
// keys, defaults and allowed values for the README's.
var generatedTables = []struct {
	path   string
	render func() string
}{
	{"../docs/configuration.md", keyTableMarkdown},
	{"../README.md", keySummaryMarkdown},
}

const (
	docsTableBegin = "<!-- key table: generated from stacks/configkeys.go by `make docs`; do not edit -->\n"
	docsTableEnd   = "<!-- end of key table -->\n"
)

// TestConfigurationDocs: the key tables in docs/configuration.md and
// README.md are the ones generated from configKeys. `make docs` (go test
// -run TestConfigurationDocs -update) rewrites them.
func TestConfigurationDocs(t *testing.T) {
	for _, g := range generatedTables {
		t.Run(filepath.Base(g.path), func(t *testing.T) { checkGeneratedTable(t, g.path, g.render()) })
	}
}

func checkGeneratedTable(t *testing.T, path, want string) {
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := bytes.Index(doc, []byte(docsTableBegin)), bytes.Index(doc, []byte(docsTableEnd))
	if begin < 0 || end < begin {
		t.Fatalf("%s: no %q ... %q markers around the key table", path, docsTableBegin, docsTableEnd)
	}
	got := string(doc[begin+len(docsTableBegin) : end])
	if got == want {
		return
	}
	if *update {
		out := append(append(append([]byte{}, doc[:begin+len(docsTableBegin)]...), want...), doc[end:]...)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the key table of %s", path)
		return
	}
	t.Errorf("%s's key table differs from the key table in stacks/configkeys.go; run `make docs`.\ngot:\n%s\nwant:\n%s", path, got, want)
}

// keyTableMarkdown is the docs' table: one row per key, in table order.
func keyTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| key | type | default | allowed | what it sets |\n|---|---|---|---|---|\n")
	d := DefaultConfig()
	for _, k := range configKeys {
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s | %s |\n", k.name, typeName(k.field(&d)), cell(markdownDefault(k.value(&d))), cell(k.allowed), cell(k.help))
	}
	return b.String()
}

// keySummaryMarkdown is the README's table: key, default and allowed
// values, several keys to a row so the README stays short.
func keySummaryMarkdown() string {
	var b strings.Builder
	b.WriteString("| key | default | key | default | key | default |\n|---|---|---|---|---|---|\n")
	d := DefaultConfig()
	for i, k := range configKeys {
		fmt.Fprintf(&b, "| `%s` | `%s` ", k.name, cell(markdownDefault(k.value(&d))))
		if i%3 == 2 || i == len(configKeys)-1 {
			b.WriteString("|\n")
		}
	}
	return b.String()
}

// cell makes s safe in a table cell: pipes escaped, and outside code spans
// "<" as an entity, so "<family>" is not taken for an HTML tag.
func cell(s string) string {
	parts := strings.Split(strings.ReplaceAll(s, "|", `\|`), "`")
	for i := 0; i < len(parts); i += 2 {
		parts[i] = strings.ReplaceAll(parts[i], "<", "&lt;")
	}
	return strings.Join(parts, "`")
}

func typeName(field any) string {
	switch field.(type) {
	case *string:
		return "string"
	case *[]string:
		return "list of strings"
	case *bool:
		return "boolean"
	case *float64:
		return "number"
	case *int:
		return "whole number"
	case *[]HumanUser, *[]TableGrant:
		return "JSON array"
	}
	return fmt.Sprintf("%T", field)
}

func markdownDefault(v any) string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return `""`
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestLimitsSharedWithLambda: where the query function's connector checks a
// value again at run time (queryfn.ConfigFromEnv, with iamdb's limits), the
// synth allows exactly what it allows: each end of the key's range passes
// both, one past either end fails both.
func TestLimitsSharedWithLambda(t *testing.T) {
	base := map[string]string{
		queryfn.EnvEndpoint: "db.cluster-abc.eu-west-1.rds.amazonaws.com", queryfn.EnvUser: "app_user",
		queryfn.EnvDatabase: "appdb", queryfn.EnvRegion: "eu-west-1",
	}
	for _, tc := range []struct {
		key, env string
		rng      intRange
	}{
		{"maxConnections", queryfn.EnvMaxConns, maxConnectionsRange},
		{"maxNewConnectionsPerSecond", queryfn.EnvMaxNewConnsPerSecond, newConnsRange},
		{"accessDeniedRetrySeconds", queryfn.EnvAccessDeniedRetrySeconds, accessDeniedRetryRange},
		{"readTimeoutSeconds", queryfn.EnvReadTimeoutSeconds, readTimeoutRange},
		{"dialTimeoutSeconds", queryfn.EnvDialTimeoutSeconds, dialTimeoutRange},
	} {
		k := tableKey(t, tc.key)
		for _, v := range []int{tc.rng.min - 1, tc.rng.min, tc.rng.max, tc.rng.max + 1} {
			ok := v >= tc.rng.min && v <= tc.rng.max
			c := DefaultConfig()
			*k.field(&c).(*int) = v
			if synthOK := k.check(&c) == nil; synthOK != ok {
				t.Errorf("%s=%d: the key table's rule accepts=%v, want %v", tc.key, v, synthOK, ok)
			}
			env := map[string]string{tc.env: strconv.Itoa(v)}
			_, err := queryfn.ConfigFromEnv(func(name string) string {
				if v, ok := env[name]; ok {
					return v
				}
				return base[name]
			})
			if lambdaOK := err == nil; lambdaOK != ok {
				t.Errorf("%s=%d (%s): the query function accepts=%v (%v), the synth %v", tc.key, v, tc.env, lambdaOK, err, ok)
			}
		}
	}
}

func tableKey(t *testing.T, name string) configKey {
	t.Helper()
	for _, k := range configKeys {
		if k.name == name {
			return k
		}
	}
	t.Fatalf("no key %q in the table", name)
	return configKey{}
}

// TestEngineVersionAtLeast: the version floors (MinEngineVersion,
// AutoPauseMinEngineVersion) compare minor, then patch, as numbers.
func TestEngineVersionAtLeast(t *testing.T) {
	for _, tc := range []struct {
		v, floor string
		want     bool
	}{
		{MinEngineVersion, MinEngineVersion, true},
		{"3.03.9", "3.04.0", false},
		{"3.04.1", "3.04.0", true},
		{"3.10.0", "3.08.0", true},
		{"3.08.1", "3.08.2", false},
		{"3.08.10", "3.08.2", true},
		{"3.4", "3.04.0", false},
		{"8.0.mysql_aurora.3.08.2", "3.04.0", false},
	} {
		if got := engineVersionAtLeast(tc.v, tc.floor); got != tc.want {
			t.Errorf("engineVersionAtLeast(%q, %q) = %v, want %v", tc.v, tc.floor, got, tc.want)
		}
	}
}

// TestErrorsNameTableKeys: the rules between keys name keys by literal
// (Key: "maxCapacity"); each such name must be a key of the table, so a
// renamed key cannot leave an error pointing at a key that no longer exists.
func TestErrorsNameTableKeys(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	literal := regexp.MustCompile(`(?:Key|ConcurrencyKey|PerContainerKey):\s*"([^"]+)"`)
	known := ContextKeys()
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			seen++
			if !slices.Contains(known, m[1]) {
				t.Errorf("%s: an error names context key %q, which is not in the key table", f, m[1])
			}
		}
	}
	if seen == 0 {
		t.Fatal("found no key literals: the pattern no longer matches the code")
	}
}
