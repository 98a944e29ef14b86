// Package awsprecheck tells, without any network call, whether the CDK CLI
// will find AWS credentials and a region, so `make diff`, `make deploy`,
// `make destroy` and `make bootstrap` can stop with one line that says what
// is missing instead of an SDK stack trace, or a wait: with nothing
// configured the AWS SDK asks the EC2 instance metadata service
// (169.254.169.254) last, and on a laptop whose network drops that address
// instead of refusing it, that probe hangs for seconds per attempt.
//
// It only reads environment variables and the shared config and credentials
// files, as the AWS SDKs name them. It cannot tell whether the credentials
// it finds are valid or expired (that needs AWS); the CLI reports those.
package awsprecheck

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Env is what Check looks at: an environment and the user's home folder.
type Env struct {
	Getenv func(string) string
	Home   string
}

// HostEnv is this process's environment.
func HostEnv() Env {
	home, _ := os.UserHomeDir()
	return Env{Getenv: os.Getenv, Home: home}
}

// credentialKeys are the profile settings that let an SDK get credentials
// from the profile alone (static keys, IAM Identity Center, an assumed role,
// a helper program, web identity).
var credentialKeys = []string{
	"aws_access_key_id", "sso_session", "sso_start_url", "role_arn",
	"credential_process", "web_identity_token_file",
}

// Check returns nil when credentials and a region can be found locally,
// or an error whose message is the one line to show.
func Check(e Env) error {
	profile := e.Getenv("AWS_PROFILE")
	if profile == "" {
		profile = "default"
	}
	configFile := e.fileVar("AWS_CONFIG_FILE", filepath.Join(".aws", "config"))
	credsFile := e.fileVar("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(".aws", "credentials"))
	configSection := "profile " + profile
	if profile == "default" {
		configSection = "default"
	}
	cfg := readINI(configFile)[configSection]
	creds := readINI(credsFile)[profile]

	var source string
	switch {
	case e.Getenv("AWS_ACCESS_KEY_ID") != "" && e.Getenv("AWS_SECRET_ACCESS_KEY") != "":
		source = "environment"
	case e.Getenv("AWS_WEB_IDENTITY_TOKEN_FILE") != "" && e.Getenv("AWS_ROLE_ARN") != "":
		source = "web identity"
	case e.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != "" || e.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") != "":
		source = "container"
	case hasAny(creds, credentialKeys) || hasAny(cfg, credentialKeys) || cfg["credential_source"] != "":
		source = "profile " + profile
	case strings.EqualFold(e.Getenv("AWS_EC2_METADATA_DISABLED"), "false"):
		// The user said this machine has an instance role.
		source = "instance metadata"
	}
	if source == "" {
		if e.Getenv("AWS_PROFILE") != "" {
			return fmt.Errorf("no AWS credentials: profile %q is not in %s or %s (or has no keys, sso_session, role_arn or credential_process); run `aws configure sso --profile %s` or fix AWS_PROFILE",
				profile, configFile, credsFile, profile)
		}
		return fmt.Errorf("no AWS credentials: set AWS_PROFILE to a profile in %s (e.g. after `aws configure sso`) or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; on EC2 with an instance role set AWS_EC2_METADATA_DISABLED=false", configFile)
	}
	if e.Getenv("AWS_REGION") == "" && e.Getenv("AWS_DEFAULT_REGION") == "" && cfg["region"] == "" {
		return fmt.Errorf("no AWS region: export AWS_REGION (e.g. eu-west-1) or set region in [%s] of %s (credentials from %s)", configSection, configFile, source)
	}
	return nil
}

// fileVar is the path in the environment variable, or home/rel.
func (e Env) fileVar(name, rel string) string {
	if p := e.Getenv(name); p != "" {
		return p
	}
	return filepath.Join(e.Home, rel)
}

func hasAny(section map[string]string, keys []string) bool {
	for _, k := range keys {
		if section[k] != "" {
			return true
		}
	}
	return false
}

// readINI reads the sections of an AWS shared config or credentials file;
// a missing or unreadable file has none.
func readINI(path string) map[string]map[string]string {
	out := map[string]map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	var cur map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			name := strings.Join(strings.Fields(line[1:len(line)-1]), " ")
			cur = map[string]string{}
			out[name] = cur
		case cur != nil:
			if k, v, ok := strings.Cut(line, "="); ok {
				cur[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
			}
		}
	}
	return out
}
