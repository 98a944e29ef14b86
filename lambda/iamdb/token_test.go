package iamdb

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
)

// Test credentials. The session token has the '/', '+' and '=' characters
// of real STS tokens, to exercise query encoding.
const (
	testAccessKey    = "AKIDEXAMPLE"
	testSecretKey    = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testSessionToken = "IQoJb3JpZ2luX2VjEXAMPLE/abc+def=="
)

func testCreds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, testSessionToken)
}

// parsedToken is a token split into the parts RDS looks at.
type parsedToken struct {
	hostPort string
	path     string
	query    url.Values
}

func parseToken(t *testing.T, token string) parsedToken {
	t.Helper()
	if strings.Contains(token, "://") {
		t.Fatalf("token %q has a scheme", token)
	}
	u, err := url.Parse("https://" + token)
	if err != nil {
		t.Fatalf("token does not parse as a URL: %v", err)
	}
	return parsedToken{hostPort: u.Host, path: u.Path, query: u.Query()}
}

// awsEscape is SigV4's URI encoding: everything but A-Z a-z 0-9 - _ . ~
// is percent-encoded with upper-case hex.
func awsEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// verifySigV4 recomputes a presigned token's signature from the SigV4
// specification, independently of the SDK's signer, and returns an error if
// it does not match or if the signed parameters are not what RDS expects.
func verifySigV4(p parsedToken, secret string) error {
	q := p.query
	if got := q.Get("X-Amz-Algorithm"); got != "AWS4-HMAC-SHA256" {
		return fmt.Errorf("X-Amz-Algorithm = %q", got)
	}
	if got := q.Get("X-Amz-SignedHeaders"); got != "host" {
		return fmt.Errorf("X-Amz-SignedHeaders = %q, want host", got)
	}
	scope := strings.SplitN(q.Get("X-Amz-Credential"), "/", 2)
	if len(scope) != 2 {
		return fmt.Errorf("X-Amz-Credential = %q", q.Get("X-Amz-Credential"))
	}
	parts := strings.Split(scope[1], "/") // date/region/service/aws4_request
	if len(parts) != 4 {
		return fmt.Errorf("credential scope = %q", scope[1])
	}
	amzDate := q.Get("X-Amz-Date")
	if !strings.HasPrefix(amzDate, parts[0]) {
		return fmt.Errorf("X-Amz-Date %q does not start with scope date %q", amzDate, parts[0])
	}

	var keys []string
	for k := range q {
		if k != "X-Amz-Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var canonQuery []string
	for _, k := range keys {
		for _, v := range q[k] {
			canonQuery = append(canonQuery, awsEscape(k)+"="+awsEscape(v))
		}
	}
	path := p.path
	if path == "" {
		path = "/"
	}
	payload := sha256.Sum256(nil)
	canonical := strings.Join([]string{
		"GET",
		path,
		strings.Join(canonQuery, "&"),
		"host:" + p.hostPort + "\n",
		"host",
		hex.EncodeToString(payload[:]),
	}, "\n")
	canonHash := sha256.Sum256([]byte(canonical))
	stringToSign := strings.Join([]string{"AWS4-HMAC-SHA256", amzDate, scope[1], hex.EncodeToString(canonHash[:])}, "\n")

	key := hmacSHA256([]byte("AWS4"+secret), parts[0])
	for _, p := range parts[1:] {
		key = hmacSHA256(key, p)
	}
	want := hex.EncodeToString(hmacSHA256(key, stringToSign))
	if got := q.Get("X-Amz-Signature"); got != want {
		return fmt.Errorf("X-Amz-Signature = %q, independent SigV4 computation gives %q", got, want)
	}
	return nil
}

func TestBuildTokenStructure(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		region   string
		user     string
		at       time.Time
	}{
		{"aurora writer", "db.cluster-abc123.eu-west-1.rds.amazonaws.com:3306", "eu-west-1", "app_user", time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)},
		{"non-default port", "db.example.com:13306", "us-east-1", "reporting", time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"user needing escapes", "db.example.com:3306", "ap-southeast-2", "user name+x/y", time.Date(2025, 6, 15, 8, 30, 0, 0, time.UTC)},
		{"local time zone is converted to UTC", "db.example.com:3306", "us-west-2", "app", time.Date(2025, 1, 1, 1, 0, 0, 0, time.FixedZone("UTC+2", 2*3600))},
		{"IPv6 endpoint", "[2001:db8::1]:3306", "eu-central-1", "app", time.Date(2025, 2, 2, 2, 2, 2, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := BuildToken(context.Background(), tt.endpoint, tt.region, tt.user, testCreds(), tt.at)
			if err != nil {
				t.Fatalf("BuildToken: %v", err)
			}
			if !strings.HasPrefix(token, tt.endpoint+"?") {
				t.Errorf("token does not start with %q: %q", tt.endpoint+"?", token)
			}
			p := parseToken(t, token)
			utc := tt.at.UTC()
			want := map[string]string{
				"Action":               "connect",
				"DBUser":               tt.user,
				"X-Amz-Expires":        "900",
				"X-Amz-Date":           utc.Format("20060102T150405Z"),
				"X-Amz-Credential":     testAccessKey + "/" + utc.Format("20060102") + "/" + tt.region + "/rds-db/aws4_request",
				"X-Amz-Security-Token": testSessionToken,
				"X-Amz-SignedHeaders":  "host",
				"X-Amz-Algorithm":      "AWS4-HMAC-SHA256",
			}
			for k, v := range want {
				if got := p.query[k]; len(got) != 1 || got[0] != v {
					t.Errorf("%s = %q, want [%q]", k, got, v)
				}
			}
			if n := len(p.query); n != len(want)+1 { // + X-Amz-Signature
				t.Errorf("token has %d query parameters, want %d: %v", n, len(want)+1, p.query)
			}
			if err := verifySigV4(p, testSecretKey); err != nil {
				t.Errorf("signature does not verify: %v", err)
			}
			if err := verifySigV4(p, testSecretKey+"x"); err == nil {
				t.Error("signature verifies with the wrong secret key; the verifier is broken")
			}
		})
	}
}

func TestBuildTokenSignatureDependsOnInputs(t *testing.T) {
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	build := func(endpoint, region, user string, at time.Time) string {
		t.Helper()
		tok, err := BuildToken(context.Background(), endpoint, region, user, testCreds(), at)
		if err != nil {
			t.Fatalf("BuildToken: %v", err)
		}
		return parseToken(t, tok).query.Get("X-Amz-Signature")
	}
	ref := build("db.example.com:3306", "eu-west-1", "app", base)
	if again := build("db.example.com:3306", "eu-west-1", "app", base); again != ref {
		t.Fatalf("same inputs gave signatures %s and %s; signing must be deterministic", ref, again)
	}
	variants := []struct {
		name                   string
		endpoint, region, user string
		at                     time.Time
	}{
		{"one second later", "db.example.com:3306", "eu-west-1", "app", base.Add(time.Second)},
		{"other port", "db.example.com:3307", "eu-west-1", "app", base},
		{"other host", "db2.example.com:3306", "eu-west-1", "app", base},
		{"other region", "db.example.com:3306", "eu-west-2", "app", base},
		{"other user", "db.example.com:3306", "eu-west-1", "app2", base},
	}
	for _, v := range variants {
		if got := build(v.endpoint, v.region, v.user, v.at); got == ref {
			t.Errorf("%s: signature unchanged (%s)", v.name, got)
		}
	}
}

// TestBuildTokenMatchesSDK proves BuildToken and auth.BuildAuthToken make the
// same token: the SDK signs at time.Now, so its X-Amz-Date tells us which
// time to give BuildToken, after which the two must be byte-identical.
func TestBuildTokenMatchesSDK(t *testing.T) {
	tests := []struct{ endpoint, region, user string }{
		{"db.cluster-abc123.eu-west-1.rds.amazonaws.com:3306", "eu-west-1", "app_user"},
		{"db.example.com:13306", "us-gov-west-1", "user name+x/y"},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			ctx := context.Background()
			sdkToken, err := auth.BuildAuthToken(ctx, tt.endpoint, tt.region, tt.user, testCreds())
			if err != nil {
				t.Fatalf("auth.BuildAuthToken: %v", err)
			}
			sdk := parseToken(t, sdkToken)
			at, err := time.Parse("20060102T150405Z", sdk.query.Get("X-Amz-Date"))
			if err != nil {
				t.Fatalf("SDK token X-Amz-Date: %v", err)
			}
			ours, err := BuildToken(ctx, tt.endpoint, tt.region, tt.user, testCreds(), at)
			if err != nil {
				t.Fatalf("BuildToken: %v", err)
			}
			if ours != sdkToken {
				t.Errorf("BuildToken differs from auth.BuildAuthToken at the same time:\n ours %s\n sdk  %s", ours, sdkToken)
			}
			for name, tok := range map[string]string{"BuildToken": ours, "BuildAuthToken": sdkToken} {
				if err := verifySigV4(parseToken(t, tok), testSecretKey); err != nil {
					t.Errorf("%s token does not verify: %v", name, err)
				}
			}
		})
	}
}

func TestBuildTokenErrors(t *testing.T) {
	type args struct {
		endpoint, region, user string
		creds                  aws.CredentialsProvider
		at                     time.Time
	}
	failing := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no credentials in environment")
	})
	tests := []struct {
		name    string
		change  func(*args) // applied to valid arguments
		wantErr string
	}{
		{"no port", func(a *args) { a.endpoint = "db.example.com" }, `endpoint "db.example.com" is not host:port`},
		{"scheme", func(a *args) { a.endpoint = "https://db.example.com:3306" }, "has a scheme"},
		{"port zero", func(a *args) { a.endpoint = "db.example.com:0" }, `port "0"; want a number 1..65535`},
		{"port too big", func(a *args) { a.endpoint = "db.example.com:65536" }, `port "65536"`},
		{"port not a number", func(a *args) { a.endpoint = "db.example.com:mysql" }, `port "mysql"`},
		{"empty host", func(a *args) { a.endpoint = ":3306" }, "empty host"},
		{"empty region", func(a *args) { a.region = "" }, "region is empty"},
		{"empty user", func(a *args) { a.user = "" }, "user is empty"},
		{"nil credentials", func(a *args) { a.creds = nil }, "credentials provider is nil"},
		{"zero time", func(a *args) { a.at = time.Time{} }, "zero time"},
		{"credentials fail", func(a *args) { a.creds = failing }, "retrieve AWS credentials: no credentials in environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := args{"db.example.com:3306", "eu-west-1", "app", testCreds(), time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
			tt.change(&a)
			tok, err := BuildToken(context.Background(), a.endpoint, a.region, a.user, a.creds, a.at)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("BuildToken error = %v, want one containing %q", err, tt.wantErr)
			}
			if tok != "" {
				t.Errorf("BuildToken returned a token with an error")
			}
			if strings.Contains(err.Error(), testSecretKey) || strings.Contains(err.Error(), testSessionToken) {
				t.Errorf("error leaks a credential: %v", err)
			}
		})
	}
}
