package fromstack

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rdsiam/rdsiam/auroralocal/cfntemplate"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

// twoProviders is testdata/two-providers.json: one cluster, two user
// providers (one through CDK's provider framework function, one with the
// handler as its ServiceToken), a user on each, a query function for each.
func twoProviders(t *testing.T) *cfntemplate.Template {
	t.Helper()
	raw, err := os.ReadFile("testdata/two-providers.json")
	if err != nil {
		t.Fatal(err)
	}
	tp, err := cfntemplate.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestFromTemplateTwoProviders(t *testing.T) {
	s, err := FromTemplate(twoProviders(t))
	if err != nil {
		t.Fatal(err)
	}
	wantHandlers := []Function{{"ProviderAHandler", "ProviderAHandlerRole"}, {"ProviderBHandler", "ProviderBHandlerRole"}}
	if !slices.Equal(s.UserHandlers, wantHandlers) {
		t.Errorf("UserHandlers = %v, want %v", s.UserHandlers, wantHandlers)
	}
	wantFunctions := []Function{{"OrdersFunction", "OrdersFunctionRole"}, {"ReportsFunction", "ReportsFunctionRole"}}
	if !slices.Equal(s.QueryFunctions, wantFunctions) {
		t.Errorf("QueryFunctions = %v, want %v", s.QueryFunctions, wantFunctions)
	}
	for user, want := range map[string]string{"OrdersUser": "ProviderAHandler", "ReportsUser": "ProviderBHandler"} {
		if h, err := s.HandlerOf(user); err != nil || h.ID != want {
			t.Errorf("HandlerOf(%s) = %v, %v; want %s", user, h, err, want)
		}
	}
	if _, err := s.HandlerOf("Nope"); err == nil || !strings.Contains(err.Error(), "OrdersUser") {
		t.Errorf("HandlerOf(Nope) = %v, want an error naming the users", err)
	}
}

// TestFromTemplateRefuses: what the engine cannot play, or a user no
// handler of the template serves, is an error naming it.
func TestFromTemplateRefuses(t *testing.T) {
	tests := []struct {
		name    string
		change  func(tp *cfntemplate.Template)
		wantErr []string
	}{
		{"ServiceToken not a function of the template", func(tp *cfntemplate.Template) {
			tp.Resources["ReportsUser"].Properties["ServiceToken"] = "arn:aws:lambda:eu-west-1:123456789012:function:elsewhere"
		}, []string{"ReportsUser", "ServiceToken"}},
		{"relay reaching no handler", func(tp *cfntemplate.Template) {
			tp.Resources["ProviderAFrameworkOnEvent"].Properties["Environment"] = map[string]any{"Variables": map[string]any{}}
		}, []string{"OrdersUser", "ProviderAFrameworkOnEvent", "ProviderAHandler, ProviderBHandler"}},
		{"relay reaching two handlers", func(tp *cfntemplate.Template) {
			vars := tp.Resources["ProviderAFrameworkOnEvent"].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
			vars["OTHER"] = cfntemplate.GetAtt("ProviderBHandler", "Arn")
		}, []string{"OrdersUser", "exactly one"}},
		{"two clusters", func(tp *cfntemplate.Template) {
			tp.Resources["Cluster2"] = cfntemplate.Resource{Type: "AWS::RDS::DBCluster"}
		}, []string{"Cluster, Cluster2", "one cluster"}},
		{"no user handler", func(tp *cfntemplate.Template) {
			delete(tp.Resources, "ProviderAHandler")
			delete(tp.Resources, "ProviderBHandler")
		}, []string{"user handlers"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp := twoProviders(t)
			tc.change(tp)
			_, err := FromTemplate(tp)
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("FromTemplate error = %v, want one naming %q", err, want)
				}
			}
		})
	}
}

// TestImportedClusterTwoEndpoints: users of an imported cluster must all
// name one endpoint and one admin secret.
func TestImportedClusterTwoEndpoints(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{"Endpoint", "other.cluster-x.eu-west-1.rds.amazonaws.com", "two clusters"},
		{"SecretArn", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other", "two admin secrets"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			tp := twoProviders(t)
			delete(tp.Resources, "Cluster")
			for _, id := range []string{"OrdersUser", "ReportsUser"} {
				p := tp.Resources[id].Properties
				p["Endpoint"], p["SecretArn"] = "orders.cluster-x.eu-west-1.rds.amazonaws.com", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin"
			}
			tp.Resources["ReportsUser"].Properties[tc.key] = tc.value
			if _, err := FromTemplate(tp); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("FromTemplate error = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestTwoProvidersOnTheStandIn: each user is created by its own
// provider's handler, whose role's policies decide whether it may read the
// admin secret; each function logs in as its own user only.
func TestTwoProvidersOnTheStandIn(t *testing.T) {
	tp := twoProviders(t)
	// Provider B's role may no longer read the secret: only its handler
	// must fail, which proves each handler runs with its own role.
	denied := twoProviders(t)
	delete(denied.Resources, "ProviderBHandlerPolicy")
	for _, tc := range []struct {
		name    string
		tp      *cfntemplate.Template
		created map[string]bool // user resource -> Create succeeds
	}{
		{"both providers may read the secret", tp, map[string]bool{"OrdersUser": true, "ReportsUser": true}},
		{"provider B's role may not", denied, map[string]bool{"OrdersUser": true, "ReportsUser": false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, l := startLocal(t, tc.tp)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for _, id := range s.UserIDs {
				_, err := l.CreateUser(ctx, id)
				if want := tc.created[id]; want != (err == nil) || (!want && !strings.Contains(err.Error(), "ProviderBHandlerRole")) {
					t.Fatalf("Create %s: err = %v, want success %v (a refusal naming the role)", id, err, want)
				}
			}
			for _, f := range s.QueryFunctions {
				env, err := s.FunctionEnvOf(f.ID, l.Env, l.Server.Port())
				if err != nil {
					t.Fatal(err)
				}
				user := env["DB_USER"]
				for _, signer := range s.QueryFunctions {
					want := signer == f && tc.created[map[string]string{"orders_api": "OrdersUser", "reports_ro": "ReportsUser"}[user]]
					if got := logsIn(t, l, f.ID, l.FunctionKeys[signer.ID]); got != want {
						t.Errorf("%s's role logging in with %s's environment (as %s): %v, want %v (server: %v)",
							signer.ID, f.ID, user, got, want, l.Server.LastAuthError())
					}
				}
			}
		})
	}
}

// startLocal starts the stand-in for tp, closed when t ends.
func startLocal(t *testing.T, tp *cfntemplate.Template) (*Stack, *Local) {
	t.Helper()
	s, err := FromTemplate(tp)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Start(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Server.Close() })
	return s, l
}

// logsIn reports whether function fn's configuration, signing with keys,
// gets a session.
func logsIn(t *testing.T, l *Local, fn string, keys aws.Credentials) bool {
	t.Helper()
	cfg, err := l.QueryConfigOf(fn, keys)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AccessDeniedRetryFor = iamdb.NoAccessDeniedRetry // a refusal is an answer here
	db, err := iamdb.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return db.PingContext(ctx) == nil
}

// TestDemoTwoProviders: the demo creates every user with its own
// provider's handler before the first query function logs in.
func TestDemoTwoProviders(t *testing.T) {
	_, l := startLocal(t, twoProviders(t))
	var out strings.Builder
	if err := l.Demo(context.Background(), &out); err != nil {
		t.Fatalf("Demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"Create OrdersUser", "Create ReportsUser", "as orders_api", "refused as expected"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
