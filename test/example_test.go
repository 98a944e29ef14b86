package test

import (
	"context"
	"fmt"
	stdmaps "maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rdsiam/rdsiam/auroralocal/fromstack"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// The consumer example (examples/existing-cluster) is a module of its own
// that imports this one through a replace directive: it is synthesized by
// running it, as `cdk synth` would, so it compiles against the library's
// exported API only and builds its Lambdas from its own module graph.

var (
	exampleOnce sync.Once
	exampleTp   *template
	exampleErr  error
)

// exampleStack is the example's ExistingCluster template, synthesized once
// with cdk-nag on.
func exampleStack(t *testing.T) *template {
	t.Helper()
	exampleOnce.Do(func() { exampleTp, exampleErr = synthExample() })
	if exampleErr != nil {
		t.Fatal(exampleErr)
	}
	return exampleTp
}

func synthExample() (*template, error) {
	out, err := os.MkdirTemp("", "rdsiam-example-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	dir := filepath.Join(moduleRoot, "examples", "existing-cluster")
	// go test caches a passing result by the files this process opens; the
	// example's own files are read only by the child go command, so open
	// them here, or an edit to the example would replay the old result.
	sources, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(sources) == 0 {
		return nil, fmt.Errorf("example sources in %s: %v", dir, err)
	}
	for _, f := range sources {
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
			if _, err := os.ReadFile(f); err != nil {
				return nil, err
			}
		}
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	// The CDK CLI hands an app its output folder and context this way.
	// GOWORK=off: the example's own go.mod decides, as in a consumer's
	// repository.
	cmd.Env = append(os.Environ(), "CDK_OUTDIR="+out, `CDK_CONTEXT_JSON={"nag":"true"}`, "GOWORK=off")
	if output, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go run examples/existing-cluster: %w\n%s", err, output)
	}
	raw, err := os.ReadFile(filepath.Join(out, "ExistingCluster.template.json"))
	if err != nil {
		return nil, err
	}
	tp, err := parseTemplate(raw)
	if err != nil {
		return nil, err
	}
	manifest, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		return nil, err
	}
	if strings.Contains(string(manifest), `"missing"`) {
		return nil, fmt.Errorf("the example needs context lookups: %s", manifest)
	}
	if tp.NagFindings, err = nagFindings(out, manifest); err != nil {
		return nil, err
	}
	return tp, nil
}

// TestExampleUsesTheImportedCluster: no cluster, VPC or secret is created;
// two users with their own grants on the imported cluster's endpoint and
// port, each function allowed to log in as its own user only.
func TestExampleUsesTheImportedCluster(t *testing.T) {
	tp := exampleStack(t)
	for _, typ := range []string{"AWS::RDS::DBCluster", "AWS::EC2::VPC", "AWS::SecretsManager::Secret"} {
		if ids := tp.OfType(typ); len(ids) > 0 {
			t.Errorf("the example creates %s %v; it must use the existing one", typ, ids)
		}
	}
	// orders_api on the database, reports_ro on the table items only.
	type grants struct{ db, tables any }
	want := map[string]grants{
		"orders_api": {db: []any{"INSERT", "SELECT", "UPDATE"}},
		"reports_ro": {tables: []any{map[string]any{"Table": "items", "Privileges": []any{"SELECT", "SHOW VIEW"}}}},
	}
	users := tp.OfType("Custom::DatabaseUser")
	if len(users) != len(want) {
		t.Fatalf("users %v, want %d", users, len(want))
	}
	for _, id := range users {
		p := tp.Resources[id].Properties
		name := fmt.Sprint(p["UserName"])
		if !jsonEqual(p["Privileges"], want[name].db) || !jsonEqual(p["TableGrants"], want[name].tables) || p["Port"] != "3306" ||
			p["Endpoint"] != "orders.cluster-c0a1b2c3d4e5.eu-west-1.rds.amazonaws.com" ||
			p["SecretArn"] != "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-admin-AbCdEf" {
			t.Errorf("user %s: %s", id, asJSON(p))
		}
		// MySQL grants on a table only once it exists.
		if deps := asJSON(tp.Resources[id].DependsOn); !strings.Contains(deps, `"ItemsTable`) {
			t.Errorf("user %s DependsOn %s, want the sample table", id, deps)
		}
	}
	s, err := fromstack.FromTemplate(tp.Template)
	if err != nil {
		t.Fatal(err)
	}
	if s.Imported == nil || s.Imported.ResourceID != "cluster-ORDERS7EXAMPLE0123456789" || len(s.QueryFunctions) != 2 {
		t.Errorf("fromstack read imported %+v and functions %v", s.Imported, s.QueryFunctions)
	}
}

func TestExampleNag(t *testing.T) {
	for _, f := range exampleStack(t).NagFindings {
		t.Error(f)
	}
	if len(nagSuppressions(exampleStack(t))) == 0 {
		t.Error("no suppression read from the example: the nag reader is broken")
	}
}

// TestSnapshotsExample: the example's IAM, security groups and users, like
// TestSnapshots' for the app (make snapshots rewrites both).
func TestSnapshotsExample(t *testing.T) {
	tp := exampleStack(t)
	for name, build := range map[string]func(*template) any{
		"iam":             iamSnapshot,
		"security-groups": securityGroupSnapshot,
		"database-users":  databaseUserSnapshot,
	} {
		t.Run(name, func(t *testing.T) {
			compareSnapshot(t, filepath.Join("snapshots", "example", name+".json"), snapshotJSON(t, build(tp)))
		})
	}
}

// TestE2EExample runs the example's template on both engines (the
// stand-in and MariaDB): the real handlers create the sample table and
// both users from the template's properties, each function's environment
// and role log it in as its own user with its own grants, and neither role
// can log in as the other's user.
func TestE2EExample(t *testing.T) {
	forEachEngineOn(t, exampleStack(t).Template, testExample)
}

func testExample(t *testing.T, l *fromstack.Local) {
	s := l.Stack
	// The table first: reports_ro's grant is on it, and MySQL grants on a
	// table only once it exists (the template's DependsOn says the same).
	if err := l.CreateSampleTables(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range s.UserIDs {
		props, err := l.UserProperties(id)
		if err != nil {
			t.Fatal(err)
		}
		// Each user's own provider's handler, with its role's access.
		h, err := l.UserHandler(id, nil)
		if err != nil {
			t.Fatal(err)
		}
		deliverTwice(t, h, l.UserEvent("Create", id, "", props, nil))
	}
	wantUsers(t, l.Server, map[string][]string{
		"orders_api": grantLines("orders", "INSERT", "SELECT", "UPDATE"),
		"reports_ro": {"SELECT ON orders.items", "SHOW VIEW ON orders.items"},
	})

	byUser := map[string]string{} // DB_USER -> function id
	for _, f := range s.QueryFunctions {
		env, err := s.FunctionEnvOf(f.ID, l.Env, l.Server.Port())
		if err != nil {
			t.Fatal(err)
		}
		byUser[env["DB_USER"]] = f.ID
	}
	if got := slices.Sorted(stdmaps.Keys(byUser)); !slices.Equal(got, []string{"orders_api", "reports_ro"}) {
		t.Fatalf("functions log in as %v", got)
	}
	for _, tc := range []struct {
		user    string
		addItem bool // INSERT granted
	}{
		{"orders_api", true},
		{"reports_ro", false},
	} {
		t.Run(tc.user, func(t *testing.T) {
			fn := byUser[tc.user]
			h := exampleHandler(t, l, fn, l.FunctionKeys[fn])
			resp, err := invoke(t, h, `{"action":"whoami"}`)
			if err != nil || resp.User != tc.user+"@%" || resp.TLSCipher == "" {
				t.Fatalf("whoami = %s, %v (server: %v); want %s@%% over TLS", asJSON(resp), err, l.Server.LastAuthError(), tc.user)
			}
			_, err = invoke(t, h, `{"action":"add_item","params":{"name":"from the example"}}`)
			if tc.addItem != (err == nil) {
				t.Errorf("add_item as %s: err = %v, want allowed = %v", tc.user, err, tc.addItem)
			}
			if _, err := invoke(t, h, `{"action":"count_items"}`); err != nil {
				t.Errorf("count_items as %s: %v", tc.user, err)
			}
			// The other function's role may not log in as this user.
			for other, otherFn := range byUser {
				if other == tc.user {
					continue
				}
				h := exampleHandler(t, l, fn, l.FunctionKeys[otherFn])
				if _, err := invoke(t, h, `{"action":"whoami"}`); err == nil || !strings.Contains(err.Error(), "1045") {
					t.Errorf("%s's role logged in as %s: err = %v, want 1045", other, tc.user, err)
				}
			}
		})
	}
}

// exampleHandler is the real query handler configured from function fn's
// environment, signing with keys.
func exampleHandler(t *testing.T, l *fromstack.Local, fn string, keys aws.Credentials) *queryfn.Handler {
	t.Helper()
	cfg, err := l.QueryConfigOf(fn, keys)
	if err != nil {
		t.Fatal(err)
	}
	// A refusal is the answer here, not a race with the user provider.
	cfg.AccessDeniedRetryFor = iamdb.NoAccessDeniedRetry
	db, err := iamdb.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return queryfn.New(db)
}
