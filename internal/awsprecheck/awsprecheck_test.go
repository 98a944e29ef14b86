package awsprecheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck runs the check on fake homes and environments: nothing here
// can reach AWS (the package has no network code at all).
func TestCheck(t *testing.T) {
	const ssoConfig = "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n"
	for _, tc := range []struct {
		name        string
		env         map[string]string
		config      string
		credentials string
		wantErr     []string // nil: credentials and region found
	}{
		{name: "nothing at all", wantErr: []string{"no AWS credentials", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_EC2_METADATA_DISABLED=false"}},
		{name: "keys in environment, region in environment",
			env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "eu-west-1"}},
		{name: "keys in environment, no region",
			env:     map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"},
			wantErr: []string{"no AWS region", "AWS_REGION", "[default]", "credentials from environment"}},
		{name: "access key without secret", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_REGION": "eu-west-1"},
			wantErr: []string{"no AWS credentials"}},
		{name: "sso profile with region", env: map[string]string{"AWS_PROFILE": "dev"}, config: ssoConfig},
		{name: "profile named but missing", env: map[string]string{"AWS_PROFILE": "prod"}, config: ssoConfig,
			wantErr: []string{`profile "prod" is not in`, "aws configure sso --profile prod"}},
		{name: "default profile in credentials file, region in config",
			credentials: "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n", config: "[default]\nregion = us-east-1\n"},
		{name: "default profile, no region anywhere",
			credentials: "[default]\naws_access_key_id = AKIAEXAMPLE\n",
			wantErr:     []string{"no AWS region", "credentials from profile default"}},
		{name: "assumed role with credential_source", env: map[string]string{"AWS_PROFILE": "ops", "AWS_DEFAULT_REGION": "eu-central-1"},
			config: "[profile ops]\ncredential_source = Ec2InstanceMetadata\n"},
		{name: "region only is not credentials", config: "[default]\nregion = eu-west-1\n",
			wantErr: []string{"no AWS credentials"}},
		{name: "instance role asked for", env: map[string]string{"AWS_EC2_METADATA_DISABLED": "false", "AWS_REGION": "eu-west-1"}},
		{name: "metadata disabled is not credentials", env: map[string]string{"AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "eu-west-1"},
			wantErr: []string{"no AWS credentials"}},
		{name: "container credentials", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x", "AWS_REGION": "eu-west-1"}},
		{name: "files named by environment",
			env:    map[string]string{"AWS_CONFIG_FILE": "CONFIG", "AWS_PROFILE": "dev"},
			config: ssoConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			env := map[string]string{}
			for k, v := range tc.env {
				env[k] = v
			}
			configPath := filepath.Join(home, ".aws", "config")
			if env["AWS_CONFIG_FILE"] == "CONFIG" {
				configPath = filepath.Join(home, "elsewhere", "cfg")
				env["AWS_CONFIG_FILE"] = configPath
			}
			write(t, configPath, tc.config)
			write(t, filepath.Join(home, ".aws", "credentials"), tc.credentials)
			err := Check(Env{Getenv: func(k string) string { return env[k] }, Home: home})
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("not one line: %q", msg)
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(msg, s) {
					t.Errorf("%q does not say %q", msg, s)
				}
			}
		})
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if content == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
