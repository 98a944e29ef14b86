package test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/auroralocal/cfntemplate"
	"github.com/rdsiam/rdsiam/auroralocal/fromstack"
	"github.com/rdsiam/rdsiam/auroralocal/iampolicy"
)

// Security assertions that would fail on a regression, evaluated with IAM's
// logic on the policies of the synthesized default stack.

const (
	testRegion  = "eu-west-1"
	testAccount = "111122223333"
	testCluster = "cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

func stackPolicies(t *testing.T) (*fromstack.Stack, cfntemplate.Env, map[string]iampolicy.PolicySet) {
	t.Helper()
	s, err := fromstack.FromTemplate(tmpl(t, "default").Template)
	if err != nil {
		t.Fatal(err)
	}
	env := s.Env(fromstack.Place{Partition: "aws", Region: testRegion, Account: testAccount, ClusterResourceID: testCluster, Host: "db.example"})
	roles := map[string]iampolicy.PolicySet{}
	for _, id := range []string{s.QueryRoleID, s.ProviderRoleID} {
		// RolePolicies refuses roles with AWS managed policies, whose
		// content the template does not show.
		set, err := s.RolePolicies(id, env)
		if err != nil {
			t.Fatal(err)
		}
		roles[id] = set
	}
	return s, env, roles
}

func TestRolePermissions(t *testing.T) {
	s, env, roles := stackPolicies(t)
	connect := func(cluster, user string) string {
		return "arn:aws:rds-db:" + testRegion + ":" + testAccount + ":dbuser:" + cluster + "/" + user
	}
	masterSecret := env.Attrs[s.ClusterID+".MasterUserSecret.SecretArn"]
	otherSecret := "arn:aws:secretsmanager:" + testRegion + ":" + testAccount + ":secret:other-AbCdEf"

	cases := []struct {
		role, action, resource string
		allowed                bool
	}{
		// The query role: rds-db:connect on the one ARN, nothing else on data.
		{s.QueryRoleID, "rds-db:connect", connect(testCluster, "app_user"), true},
		{s.QueryRoleID, "rds-db:connect", connect(testCluster, "admin"), false},
		{s.QueryRoleID, "rds-db:connect", connect(testCluster, "app_user2"), false},
		{s.QueryRoleID, "rds-db:connect", connect("cluster-OTHER", "app_user"), false},
		{s.QueryRoleID, "rds-db:connect", "*", false},
		{s.QueryRoleID, "secretsmanager:GetSecretValue", masterSecret, false},
		{s.QueryRoleID, "secretsmanager:GetSecretValue", otherSecret, false},
		{s.QueryRoleID, "secretsmanager:GetSecretValue", "*", false},
		{s.QueryRoleID, "rds-data:ExecuteStatement", "*", false},
		{s.QueryRoleID, "rds:ModifyDBCluster", "*", false},
		{s.QueryRoleID, "kms:Decrypt", "*", false},
		{s.QueryRoleID, "s3:GetObject", "*", false},
		{s.QueryRoleID, "ssm:GetParameter", "*", false},
		{s.QueryRoleID, "iam:PassRole", "*", false},
		// The user provider role: the master secret and nothing else.
		{s.ProviderRoleID, "secretsmanager:GetSecretValue", masterSecret, true},
		{s.ProviderRoleID, "secretsmanager:GetSecretValue", otherSecret, false},
		{s.ProviderRoleID, "secretsmanager:GetSecretValue", "*", false},
		{s.ProviderRoleID, "secretsmanager:PutSecretValue", masterSecret, false},
		{s.ProviderRoleID, "rds-db:connect", connect(testCluster, "app_user"), false},
		{s.ProviderRoleID, "rds-db:connect", connect(testCluster, "admin"), false},
		{s.ProviderRoleID, "kms:Decrypt", "*", false},
		{s.ProviderRoleID, "rds:ModifyDBCluster", "*", false},
	}
	for _, tc := range cases {
		res, err := roles[tc.role].Evaluate(tc.action, tc.resource)
		if err != nil {
			t.Errorf("%s %s on %s: %v", tc.role, tc.action, tc.resource, err)
			continue
		}
		if got := res.Decision == iampolicy.Allowed; got != tc.allowed {
			t.Errorf("%s %s on %s: %v, want allowed=%v", tc.role, tc.action, tc.resource, res, tc.allowed)
		}
	}
}

// TestNoSecretsInTemplate: the master password is generated and kept by
// RDS; no password, dynamic secret reference or token is in the template.
func TestNoSecretsInTemplate(t *testing.T) {
	for _, variant := range []string{"default", "provisioned", "existing-vpc"} {
		raw := string(tmpl(t, variant).Raw)
		for _, bad := range []string{`"MasterUserPassword"`, "resolve:secretsmanager", "X-Amz-Signature", "X-Amz-Credential", "aws_secret_access_key"} {
			if strings.Contains(raw, bad) {
				t.Errorf("%s template contains %q", variant, bad)
			}
		}
	}
}

// TestNoSecretsInLogs runs the user provider lifecycle and the query function
// with their logs captured, and checks no password, key or token is there.
func TestNoSecretsInLogs(t *testing.T) { forEachEngine(t, testNoSecretsInLogs) }

func testNoSecretsInLogs(t *testing.T, l *fromstack.Local) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := l.ProviderHandler(logger)
	userID := l.Stack.UserIDs[0]
	props, err := l.UserProperties(userID)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, ev := range []string{"Create", "Delete"} {
		phys := ""
		if ev == "Delete" {
			phys = "dbuser:app_user"
		}
		if _, err := h.Handle(ctx, l.UserEvent(ev, userID, phys, props, nil)); err != nil {
			t.Fatal(err)
		}
		if ev == "Create" {
			mustWhoami(t, l, l.QueryKeys, "app_user")
		}
	}
	// A failing event logs too: a bad privilege.
	bad := clone(props)
	bad["Privileges"] = []any{"SELECT", "SUPER"}
	if _, err := h.Handle(ctx, l.UserEvent("Create", userID, "", bad, nil)); err == nil {
		t.Fatal("a SUPER grant was accepted")
	}
	if logs.Len() == 0 {
		t.Fatal("the handler logged nothing: the capture is broken")
	}
	var events strings.Builder
	for _, e := range l.Server.AuthEvents() {
		events.WriteString(e.User + " " + e.Principal + " ")
		if e.Err != nil {
			events.WriteString(e.Err.Error())
		}
	}
	for name, secret := range map[string]string{
		"master password":          l.Server.MasterPassword(),
		"query secret key":         l.QueryKeys.SecretAccessKey,
		"user provider secret key": l.ProviderKeys.SecretAccessKey,
		"a token's signature":      "X-Amz-Signature",
		"a token's credential":     "X-Amz-Credential",
		"the query role's key id":  l.QueryKeys.AccessKeyID,
	} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("user provider log contains the %s", name)
		}
		if strings.Contains(events.String(), secret) {
			t.Errorf("%s auth events contain the %s", l.Server.Name(), name)
		}
	}
}
