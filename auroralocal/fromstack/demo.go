package fromstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rdsiam/rdsiam/internal/standin"
	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// Demo runs the whole login path on the engine and writes each step and
// its result to w: every database user of the stack is created by its own
// provider's handler (the real custom-resource handler), then the real
// query handler of the first query function, with a token signed by its
// role's keys, asks whoami, writes and reads the sample table, and tries a
// statement the grants do not allow; last, the first user handler's role
// keys try to log in and are refused. It returns an error if any step that
// should work does not, or a refusal does not happen.
func (l *Local) Demo(ctx context.Context, w io.Writer) error {
	step := func(format string, args ...any) { fmt.Fprintf(w, "==> "+format+"\n", args...) }

	step("%s playing Aurora MySQL, listening on %s (region %s, cluster resource id %s)",
		engineTitle(l.Server.Name()), l.Server.Endpoint(), l.Server.Region(), l.Stack.ClusterResourceID())

	// The table first: a user's table grants need it (MySQL grants on a
	// table only once it exists; the template's DependsOn says the same).
	if len(l.Stack.SampleTableIDs) > 0 {
		step("sample table: Create %v (the sample app's table items)", l.Stack.SampleTableIDs)
		if err := l.CreateSampleTables(ctx); err != nil {
			return err
		}
	}
	for _, userID := range l.Stack.UserIDs {
		if err := l.demoCreate(ctx, w, step, userID); err != nil {
			return err
		}
	}

	cfg, err := l.QueryConfig(l.QueryKeys)
	if err != nil {
		return err
	}
	db, err := iamdb.Open(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	h := queryfn.New(db)
	for _, tc := range []struct {
		request string
		refused bool
	}{
		{request: `{"action":"whoami"}`},
		{request: `{"action":"add_item","params":{"name":"hello from rdsiam-local"}}`},
		{request: `{"action":"list_items","params":{"limit":5}}`},
		{request: `{"action":"count_items"}`},
		{request: `{"action":"delete_item","params":{"id":1}}`, refused: true},
	} {
		step("query function (as %s, role %s): %s", cfg.User, l.Stack.QueryRoleID, tc.request)
		r, err := h.Handle(ctx, json.RawMessage(tc.request))
		switch {
		case tc.refused && err == nil:
			return fmt.Errorf("%s: allowed, but the grants do not include it", tc.request)
		case tc.refused:
			fmt.Fprintf(w, "    refused as expected: %v\n", err)
		case err != nil:
			return fmt.Errorf("%s: %w (%s: %v)", tc.request, err, l.Server.Name(), l.Server.LastAuthError())
		default:
			out, _ := json.Marshal(r)
			fmt.Fprintf(w, "    %s\n", out)
		}
	}

	step("login with the user provider role's keys (it has no rds-db:connect)")
	cfg.Credentials = standin.StaticKeys(l.ProviderKeys)
	// This refusal is permanent: waiting out IAM propagation would only
	// delay the answer.
	cfg.AccessDeniedRetryFor = iamdb.NoAccessDeniedRetry
	other, err := iamdb.Open(cfg)
	if err != nil {
		return err
	}
	defer other.Close()
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := other.PingContext(pingCtx); err == nil {
		return fmt.Errorf("the user provider role logged in as %s; its policies must not allow rds-db:connect", cfg.User)
	} else {
		fmt.Fprintf(w, "    refused as expected: %v\n    %s's reason: %v\n", err, l.Server.Name(), l.Server.LastAuthError())
	}
	return nil
}

// demoCreate is Demo's step that creates user resource userID.
func (l *Local) demoCreate(ctx context.Context, w io.Writer, step func(string, ...any), userID string) error {
	props, err := l.UserProperties(userID)
	if err != nil {
		return err
	}
	step("custom resource: Create %s (user %v on database %v, privileges %v)", userID, props["UserName"], props["DatabaseName"], props["Privileges"])
	resp, err := l.CreateUser(ctx, userID)
	if err != nil {
		return err
	}
	summary, err := l.UserSummary(fmt.Sprint(props["UserName"]))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "    physical id %s; %s\n", resp.PhysicalResourceID, summary)
	return nil
}

// WriteClientFiles writes what standard tools need to log in to the
// engine, into dir: ca.pem (the engine's CA) and credentials (an AWS
// shared-credentials file with profile rdsiam-local holding the first query
// function role's test keys, mode 0600). Nothing secret is printed.
func (l *Local) WriteClientFiles(dir string) (caPath, credPath string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	caPath = filepath.Join(dir, "ca.pem")
	if err := l.Server.WriteCA(caPath); err != nil {
		return "", "", err
	}
	credPath = filepath.Join(dir, "credentials")
	body := fmt.Sprintf("[rdsiam-local]\naws_access_key_id = %s\naws_secret_access_key = %s\nregion = %s\n",
		l.QueryKeys.AccessKeyID, l.QueryKeys.SecretAccessKey, l.Server.Region())
	if err := os.WriteFile(credPath, []byte(body), 0o600); err != nil {
		return "", "", err
	}
	return caPath, credPath, nil
}

// engineTitle names an engine for people.
func engineTitle(name string) string {
	if name == EngineMariaDB {
		return "MariaDB (real engine, AWSAuthenticationPlugin)"
	}
	return "auroralocal stand-in"
}
