package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/rdsiam/rdsiam/auroralocal/cfntemplate"
	"github.com/rdsiam/rdsiam/internal/jsiinode"
	"github.com/rdsiam/rdsiam/internal/modroot"
	"github.com/rdsiam/rdsiam/stacks"
)

// template is one synthesized CloudFormation template, parsed into the
// project's one template model, and kept as the exact bytes cdk synth
// writes.
type template struct {
	*cfntemplate.Template
	Raw []byte
	// NagFindings are the cdk-nag errors and warnings of this synth
	// ("<construct path>: <message>"); suppressed findings are not included.
	NagFindings []string
}

// parseTemplate reads synthesized template bytes.
func parseTemplate(raw []byte) (*template, error) {
	t, err := cfntemplate.Parse(raw)
	if err != nil {
		return nil, err
	}
	return &template{Template: t, Raw: raw}, nil
}

// synthesized holds the templates TestMain made, by variant name. The jsii
// runtime costs seconds to start, so the package synthesizes once.
var synthesized = map[string]*template{}

// variants are the configurations the tests synthesize.
var variants = map[string]func(*stacks.Config){
	"default": func(*stacks.Config) {},
	// The same configuration again, in a fresh app: the template must be
	// byte-identical (TestSynthIsDeterministic).
	"default-again": func(*stacks.Config) {},
	"provisioned": func(c *stacks.Config) {
		c.Writer = stacks.WriterProvisioned
		c.InstanceClass = "db.r7g.large"
		c.FunctionReservedConcurrency = 50
	},
	"existing-vpc": func(c *stacks.Config) {
		c.VpcID = "vpc-0123456789abcdef0"
		c.SubnetIDs = []string{"subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"}
		c.AvailabilityZones = []string{"eu-west-1a", "eu-west-1b"}
		c.DeletionProtection = false
		c.RemovalPolicy = "destroy"
		c.RetainUser = true
		c.ExistingUser = "adopt"
	},
	// People: two human users and both ways in (issue 14).
	"people": func(c *stacks.Config) {
		c.HumanUsers = []stacks.HumanUser{
			{Name: "people_ro", Grants: []string{"SELECT", "SHOW VIEW"}},
			{Name: "oncall", Grants: []string{"SELECT", "UPDATE"}},
		}
		c.CloudShellAccess = true
		c.SSMBastion = true
	},
	// Scale-out (scale_test.go): an RDS Proxy with IAM end to end, a
	// reader, and both on provisioned instances.
	"proxy":   func(c *stacks.Config) { c.Proxy = true },
	"readers": func(c *stacks.Config) { c.Readers = 1 },
	"proxy-readers": func(c *stacks.Config) {
		c.Proxy, c.Readers = true, 2
		c.Writer, c.InstanceClass = stacks.WriterProvisioned, "db.r7g.large"
	},
}

func TestMain(m *testing.M) {
	if err := synthesizeAll(); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// moduleRoot is the repository root (the tests run in test/).
var moduleRoot string

func synthesizeAll() error {
	root, err := modroot.Find(".")
	if err != nil {
		return err
	}
	moduleRoot = root
	if err := jsiinode.Use(root); err != nil {
		return err
	}
	defer jsii.Close()
	bins, err := stacks.BuildGoLambdas(root, stacks.LambdaPackages())
	if err != nil {
		return err
	}
	out, err := os.MkdirTemp("", "rdsiam-synth-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	// The feature flags cdk.json gives `cdk synth`, so these templates are
	// the ones the CLI writes.
	flags, err := stacks.FeatureFlags(root)
	if err != nil {
		return err
	}
	for name, mutate := range variants {
		cfg := stacks.DefaultConfig()
		mutate(&cfg)
		dir := filepath.Join(out, name)
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir), Context: &flags})
		if _, err := stacks.NewRdsIamStack(app, cfg.StackName, stacks.RdsIamStackProps{Config: cfg, Binaries: bins}); err != nil {
			return fmt.Errorf("variant %s: %w", name, err)
		}
		// Nag only adds annotations: the template is the same without it.
		stacks.ApplyNag(app)
		app.Synth(nil)
		raw, err := os.ReadFile(filepath.Join(dir, cfg.StackName+".template.json"))
		if err != nil {
			return fmt.Errorf("variant %s: %w", name, err)
		}
		t, err := parseTemplate(raw)
		if err != nil {
			return fmt.Errorf("variant %s: %w", name, err)
		}
		manifest, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			return err
		}
		// A lookup (VPC, AZs) would show up as missing context, which needs
		// AWS credentials to fill: synth must not depend on any.
		if strings.Contains(string(manifest), `"missing"`) {
			return fmt.Errorf("variant %s needs context lookups: %s", name, manifest)
		}
		if t.NagFindings, err = nagFindings(dir, manifest); err != nil {
			return fmt.Errorf("variant %s: %w", name, err)
		}
		synthesized[name] = t
	}
	duplicateUserErr = addDuplicateUser(bins, flags)
	return nil
}

// duplicateUserErr is what adding a second DatabaseUser with the default
// user name to the default stack returned (checked by
// TestDuplicateUserNameRefused); jsii runs only inside synthesizeAll.
var duplicateUserErr error

func addDuplicateUser(bins map[string]stacks.GoBinary, flags map[string]any) error {
	cfg := stacks.DefaultConfig()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &flags})
	s, err := stacks.NewRdsIamStack(app, cfg.StackName, stacks.RdsIamStackProps{Config: cfg, Binaries: bins})
	if err != nil {
		return err
	}
	_, err = stacks.NewDatabaseUser(s.Stack, "SecondUser", stacks.DatabaseUserProps{
		Provider: s.Users, UserName: strings.ToUpper(cfg.UserName), DatabaseName: "otherdb", Grants: []string{"SELECT"},
	})
	return err
}

// tmpl returns a synthesized variant or fails the test.
func tmpl(t *testing.T, variant string) *template {
	t.Helper()
	tp, ok := synthesized[variant]
	if !ok {
		t.Fatalf("no synthesized variant %q", variant)
	}
	return tp
}

// only returns the single resource of typ, failing the test otherwise.
func (tp *template) only(t *testing.T, typ string) (string, cfntemplate.Resource) {
	t.Helper()
	return tp.byPrefix(t, typ, "")
}

// byPrefix returns the single resource of typ whose logical id starts with
// prefix (CDK appends a hash to the construct path), failing the test
// otherwise.
func (tp *template) byPrefix(t *testing.T, typ, prefix string) (string, cfntemplate.Resource) {
	t.Helper()
	id, r, err := tp.One(typ, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return id, r
}

// ref and getAtt build the intrinsic forms CDK emits, for comparisons.
var ref, getAtt = cfntemplate.Ref, cfntemplate.GetAtt

// jsonEqual compares two JSON-like values by their encoding.
func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// nagFindings reads the error and warning annotations from a cloud assembly
// manifest.
func nagFindings(dir string, manifest []byte) ([]string, error) {
	type metadata map[string][]struct {
		Type string `json:"type"`
		Data any    `json:"data"`
	}
	var m struct {
		Artifacts map[string]struct {
			Metadata metadata `json:"metadata"`
			// Newer CDK versions write a stack's metadata, nag's
			// annotations included, to this file instead of the
			// manifest: reading only the manifest saw no finding at all.
			AdditionalMetadataFile string `json:"additionalMetadataFile"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var out []string
	for name, a := range m.Artifacts {
		all := []metadata{a.Metadata}
		if a.AdditionalMetadataFile != "" {
			raw, err := os.ReadFile(filepath.Join(dir, a.AdditionalMetadataFile))
			if err != nil {
				return nil, fmt.Errorf("artifact %s: %w", name, err)
			}
			var more metadata
			if err := json.Unmarshal(raw, &more); err != nil {
				return nil, fmt.Errorf("artifact %s: %s: %w", name, a.AdditionalMetadataFile, err)
			}
			all = append(all, more)
		}
		for _, md := range all {
			for path, entries := range md {
				for _, e := range entries {
					if e.Type == "aws:cdk:error" || e.Type == "aws:cdk:warning" {
						out = append(out, fmt.Sprintf("%s: %s %v", path, e.Type, e.Data))
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// decodeInto converts a JSON-like value into dst through its encoding.
func decodeInto(v any, dst any) bool {
	b, err := json.Marshal(v)
	return err == nil && json.Unmarshal(b, dst) == nil
}
