package iampolicy

import (
	"fmt"
	"strings"
	"testing"
)

const (
	testRegion  = "eu-west-1"
	testAccount = "123456789012"
	testCluster = "cluster-ABCDEFGHIJKL"
)

// dbUserARN builds the resource ARN rds-db:connect is authorized against.
func dbUserARN(region, account, clusterResourceID, user string) string {
	return fmt.Sprintf("arn:aws:rds-db:%s:%s:dbuser:%s/%s", region, account, clusterResourceID, user)
}

func mustParse(t *testing.T, doc string) Document {
	t.Helper()
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return d
}

func TestEvaluate(t *testing.T) {
	appUser := dbUserARN(testRegion, testAccount, testCluster, "app_user")
	connectApp := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Connect","Effect":"Allow","Action":"rds-db:connect","Resource":%q}]}`, appUser)

	tests := []struct {
		name     string
		policies []string
		action   string
		resource string
		want     Decision
		wantBy   string // substring of Result.DecidedBy.String(); "" for none
	}{
		{"exact ARN allowed", []string{connectApp}, "rds-db:connect", appUser, Allowed, `statement #0 (Sid "Connect")`},
		{"other user denied", []string{connectApp}, "rds-db:connect", dbUserARN(testRegion, testAccount, testCluster, "admin"), ImplicitDeny, ""},
		{"user prefix is not the user", []string{connectApp}, "rds-db:connect", appUser + "2", ImplicitDeny, ""},
		{"other cluster denied", []string{connectApp}, "rds-db:connect", dbUserARN(testRegion, testAccount, "cluster-OTHER", "app_user"), ImplicitDeny, ""},
		{"other region denied", []string{connectApp}, "rds-db:connect", dbUserARN("us-east-1", testAccount, testCluster, "app_user"), ImplicitDeny, ""},
		{"other account denied", []string{connectApp}, "rds-db:connect", dbUserARN(testRegion, "210987654321", testCluster, "app_user"), ImplicitDeny, ""},
		{"resource is case-sensitive", []string{connectApp}, "rds-db:connect", strings.ToUpper(appUser), ImplicitDeny, ""},
		{"other action denied", []string{connectApp}, "rds:DescribeDBClusters", appUser, ImplicitDeny, ""},
		{"action is case-insensitive", []string{connectApp}, "RDS-DB:Connect", appUser, Allowed, "Connect"},
		{"no policies", nil, "rds-db:connect", appUser, ImplicitDeny, ""},
		{
			"wildcard user in pattern",
			[]string{`{"Statement":{"Effect":"Allow","Action":"rds-db:connect","Resource":"arn:aws:rds-db:*:*:dbuser:*/app_user"}}`},
			"rds-db:connect", appUser, Allowed, "statement #0",
		},
		{
			"question mark wildcard",
			[]string{`{"Statement":{"Effect":"Allow","Action":"rds-db:conn?ct","Resource":"arn:aws:rds-db:eu-west-?:*"}}`},
			"rds-db:connect", appUser, Allowed, "statement #0",
		},
		{
			"service wildcard and star resource",
			[]string{`{"Statement":{"Effect":"Allow","Action":"RDS-DB:*","Resource":"*"}}`},
			"rds-db:connect", appUser, Allowed, "statement #0",
		},
		{
			"explicit deny in another policy wins",
			[]string{connectApp, `{"Statement":[{"Sid":"NoDB","Effect":"Deny","Action":"rds-db:*","Resource":"*"}]}`},
			"rds-db:connect", appUser, ExplicitDeny, `policy #1 statement #0 (Sid "NoDB")`,
		},
		{
			"deny listed before allow still wins",
			[]string{`{"Statement":[{"Effect":"Deny","Action":"rds-db:connect","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
			"rds-db:connect", appUser, ExplicitDeny, "statement #0",
		},
		{
			"deny of another user does not block",
			[]string{connectApp, fmt.Sprintf(`{"Statement":{"Effect":"Deny","Action":"rds-db:connect","Resource":%q}}`, dbUserARN(testRegion, testAccount, testCluster, "admin"))},
			"rds-db:connect", appUser, Allowed, "Connect",
		},
		{
			"NotAction allows everything else",
			[]string{`{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`},
			"rds-db:connect", appUser, Allowed, "statement #0",
		},
		{
			"NotAction excludes the named action",
			[]string{`{"Statement":{"Effect":"Allow","NotAction":["s3:*","RDS-DB:CONNECT"],"Resource":"*"}}`},
			"rds-db:connect", appUser, ImplicitDeny, "",
		},
		{
			"NotResource deny hits every other user",
			[]string{`{"Statement":{"Effect":"Allow","Action":"rds-db:connect","Resource":"*"}}`,
				fmt.Sprintf(`{"Statement":{"Effect":"Deny","Action":"rds-db:connect","NotResource":%q}}`, appUser)},
			"rds-db:connect", dbUserARN(testRegion, testAccount, testCluster, "admin"), ExplicitDeny, "policy #1",
		},
		{
			"NotResource deny spares the listed user",
			[]string{`{"Statement":{"Effect":"Allow","Action":"rds-db:connect","Resource":"*"}}`,
				fmt.Sprintf(`{"Statement":{"Effect":"Deny","Action":"rds-db:connect","NotResource":%q}}`, appUser)},
			"rds-db:connect", appUser, Allowed, "policy #0",
		},
		{
			"conditional statement that does not apply is ignored",
			[]string{connectApp, `{"Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}`},
			"rds-db:connect", appUser, Allowed, "Connect",
		},
		{
			"policy variable in a 2008 document is literal text",
			[]string{`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"rds-db:connect","Resource":"arn:aws:rds-db:*:dbuser:*/${aws:username}"}}`},
			"rds-db:connect", appUser, ImplicitDeny, "",
		},
		{
			"policy variable in a statement for another action is ignored",
			[]string{connectApp, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::${aws:username}/*"}}`},
			"rds-db:connect", appUser, Allowed, "Connect",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var set PolicySet
			for _, p := range tc.policies {
				set = append(set, mustParse(t, p))
			}
			got, err := set.Evaluate(tc.action, tc.resource)
			if err != nil {
				t.Fatalf("Evaluate(%q, %q): %v", tc.action, tc.resource, err)
			}
			if got.Decision != tc.want {
				t.Fatalf("Evaluate(%q, %q) = %v, want %v", tc.action, tc.resource, got, tc.want)
			}
			switch {
			case tc.wantBy == "" && got.DecidedBy != nil:
				t.Errorf("DecidedBy = %v, want none", got.DecidedBy)
			case tc.wantBy != "" && (got.DecidedBy == nil || !strings.Contains(got.DecidedBy.String(), tc.wantBy)):
				t.Errorf("Result %v does not name %q", got, tc.wantBy)
			}
			allowed, err := set.Authorize(tc.action, tc.resource)
			if err != nil || allowed != (tc.want == Allowed) {
				t.Errorf("Authorize(%q, %q) = %v, %v; want %v, nil", tc.action, tc.resource, allowed, err, tc.want == Allowed)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	appUser := dbUserARN(testRegion, testAccount, testCluster, "app_user")
	allowAll := `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	tests := []struct {
		name     string
		set      PolicySet
		action   string
		resource string
		wantErr  []string
	}{
		{
			"condition on an applicable allow",
			PolicySet{mustParse(t, `{"Statement":{"Sid":"TLS","Effect":"Allow","Action":"rds-db:connect","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"},"Bool":{"aws:SecureTransport":"true"}}}}`)},
			"rds-db:connect", appUser, []string{"Bool, StringEquals", `Sid "TLS"`, "does not evaluate"},
		},
		{
			"condition on an applicable deny next to an unconditional allow",
			PolicySet{mustParse(t, allowAll), mustParse(t, `{"Statement":{"Effect":"Deny","Action":"rds-db:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`)},
			"rds-db:connect", appUser, []string{"IpAddress", "policy #1"},
		},
		{
			"policy variable in an applicable 2012 statement",
			PolicySet{mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"rds-db:connect","Resource":"arn:aws:rds-db:*:dbuser:*/${aws:username}"}}`)},
			"rds-db:connect", appUser, []string{"${aws:username}", "policy variable"},
		},
		{"wildcard in requested action", PolicySet{mustParse(t, allowAll)}, "rds-db:*", appUser, []string{`"rds-db:*"`, "no wildcards"}},
		{"requested action without service", PolicySet{mustParse(t, allowAll)}, "connect", appUser, []string{`"connect"`, "service:action"}},
		{"empty resource", PolicySet{mustParse(t, allowAll)}, "rds-db:connect", "", []string{"resource is empty"}},
		{
			"document built in Go with an unknown Version",
			PolicySet{{Name: "handmade", Version: "2012-10-18", Statement: []Statement{{Effect: Allow, Action: []string{"*"}, Resource: []string{"*"}}}}},
			"rds-db:connect", appUser, []string{`"2012-10-18"`, Version2012},
		},
		{
			"document built in Go without Effect",
			PolicySet{{Name: "handmade", Statement: []Statement{{Action: []string{"*"}, Resource: []string{"*"}}}}},
			"rds-db:connect", appUser, []string{`"handmade"`, "no Effect"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.set.Evaluate(tc.action, tc.resource)
			if err == nil {
				t.Fatalf("Evaluate(%q, %q) = %v, want an error", tc.action, tc.resource, got)
			}
			if got.Decision == Allowed {
				t.Errorf("Evaluate returned Decision Allowed alongside error %v", err)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if ok, aerr := tc.set.Authorize(tc.action, tc.resource); ok || aerr == nil {
				t.Errorf("Authorize = %v, %v; want false and an error", ok, aerr)
			}
		})
	}
}

// The local Aurora stand-in takes an authorizer as a plain function value.
func TestAuthorizeIsUsableAsFuncValue(t *testing.T) {
	appUser := dbUserARN(testRegion, testAccount, testCluster, "app_user")
	set := PolicySet{mustParse(t, fmt.Sprintf(`{"Statement":{"Effect":"Allow","Action":"rds-db:connect","Resource":%q}}`, appUser))}
	var authorize func(action, resource string) (bool, error) = set.Authorize
	for _, tc := range []struct {
		user string
		want bool
	}{{"app_user", true}, {"other", false}} {
		got, err := authorize("rds-db:connect", dbUserARN(testRegion, testAccount, testCluster, tc.user))
		if err != nil || got != tc.want {
			t.Errorf("authorize(user %q) = %v, %v; want %v, nil", tc.user, got, err, tc.want)
		}
	}
}

func TestResultString(t *testing.T) {
	tests := []struct {
		r    Result
		want []string
	}{
		{Result{}, []string{"ImplicitDeny", "no statement"}},
		{Result{Decision: Allowed, DecidedBy: &StatementRef{Policy: 2, PolicyName: "P", Statement: 3, Sid: "S"}}, []string{"Allowed", "policy #2", `"P"`, "statement #3", `Sid "S"`}},
		{Result{Decision: Decision(9)}, []string{"Decision(9)"}},
	}
	for _, tc := range tests {
		s := tc.r.String()
		for _, want := range tc.want {
			if !strings.Contains(s, want) {
				t.Errorf("%#v.String() = %q, missing %q", tc.r, s, want)
			}
		}
	}
}
