package sigv4

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
)

const (
	testAKID    = "AKIATESTKEY000000001"
	testSecret  = "testSecretKey/with+chars=0000000000000"
	testSession = "FwoGZXIvYXdzE//session+token=="
	testRegion  = "us-east-1"
	testUser    = "app_user"
	testHost    = "localhost:3306"
)

var testSignedAt = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// signSpec describes one token to pre-sign with the SDK's own signer.
type signSpec struct {
	endpoint, region, user, service string
	creds                           aws.Credentials
	at                              time.Time
	expires                         string
	action                          string
	extraHeader                     bool // sign an extra header besides host
}

func defaultSpec() signSpec {
	return signSpec{
		endpoint: testHost, region: testRegion, user: testUser, service: "rds-db",
		creds:   aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret},
		at:      testSignedAt,
		expires: "900", action: "connect",
	}
}

// presign builds a token exactly as feature/rds/auth.BuildAuthToken does, but
// at a fixed time and with overridable parts, using v4.Signer.PresignHTTP.
func presign(t testing.TB, s signSpec) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://"+s.endpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := req.URL.Query()
	q.Set("Action", s.action)
	q.Set("DBUser", s.user)
	q.Set("X-Amz-Expires", s.expires)
	req.URL.RawQuery = q.Encode()
	if s.extraHeader {
		req.Header.Set("X-Extra", "1")
	}
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), s.creds, req,
		emptyPayloadHash, s.service, s.region, s.at)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(signed, "https://")
}

func defaultExpect() Expect {
	return Expect{Endpoint: testHost, User: testUser, Region: testRegion}
}

func lookupOf(creds ...aws.Credentials) func(string) (Credential, bool) {
	return func(akid string) (Credential, bool) {
		for _, c := range creds {
			if c.AccessKeyID == akid {
				return Credential{SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, true
			}
		}
		return Credential{}, false
	}
}

// replaceParam rewrites one raw query parameter value of token.
func replaceParam(t testing.TB, token, key, rawValue string) string {
	t.Helper()
	prefix, query, _ := strings.Cut(token, "?")
	parts := strings.Split(query, "&")
	found := false
	for i, p := range parts {
		if k, _, _ := strings.Cut(p, "="); k == key {
			parts[i] = key + "=" + rawValue
			found = true
		}
	}
	if !found {
		t.Fatalf("token has no parameter %s", key)
	}
	return prefix + "?" + strings.Join(parts, "&")
}

// cliStyle reorders a token's parameters (reverse order) and adds the "/"
// before "?", as tokens from `aws rds generate-db-auth-token` look.
func cliStyle(token string) string {
	prefix, query, _ := strings.Cut(token, "?")
	parts := strings.Split(query, "&")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return prefix + "/?" + strings.Join(parts, "&")
}

func flipLastHex(s string) string {
	last := s[len(s)-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return s[:len(s)-1] + string(repl)
}

func TestVerifyAcceptsSDKSignedTokens(t *testing.T) {
	base := defaultSpec()
	withSession := base
	withSession.creds.SessionToken = testSession
	upperHost := base
	upperHost.endpoint = "LOCALHOST:3306"
	port443 := base
	port443.endpoint = "localhost:443"

	tests := []struct {
		name   string
		token  string
		want   Expect
		lookup func(string) (Credential, bool)
		now    time.Time
	}{
		{"sdk form", presign(t, base), defaultExpect(), lookupOf(base.creds), testSignedAt.Add(time.Minute)},
		{"cli form reordered with slash", cliStyle(presign(t, base)), defaultExpect(), lookupOf(base.creds), testSignedAt},
		{"session credentials", presign(t, withSession), defaultExpect(), lookupOf(withSession.creds), testSignedAt},
		{"last valid second", presign(t, base), defaultExpect(), lookupOf(base.creds), testSignedAt.Add(900 * time.Second)},
		{"within future skew", presign(t, base), defaultExpect(), lookupOf(base.creds), testSignedAt.Add(-4 * time.Minute)},
		{"host case differs", presign(t, upperHost), defaultExpect(), lookupOf(base.creds), testSignedAt},
		{"default https port stripped from signed host", presign(t, port443),
			Expect{Endpoint: "localhost:443", User: testUser, Region: testRegion}, lookupOf(base.creds), testSignedAt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := Verify(tc.token, tc.want, tc.now, tc.lookup)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if claims.AccessKeyID != testAKID || claims.DBUser != testUser || claims.Region != testRegion {
				t.Errorf("claims = %+v", claims)
			}
			if !claims.SignedAt.Equal(testSignedAt) || !claims.ExpiresAt.Equal(testSignedAt.Add(MaxExpires)) {
				t.Errorf("claims times = %v .. %v, want %v .. +900s", claims.SignedAt, claims.ExpiresAt, testSignedAt)
			}
		})
	}
}

// TestVerifyAcceptsBuildAuthToken checks the real helper applications use,
// which signs at time.Now.
func TestVerifyAcceptsBuildAuthToken(t *testing.T) {
	for _, session := range []string{"", testSession} {
		provider := credentials.NewStaticCredentialsProvider(testAKID, testSecret, session)
		token, err := auth.BuildAuthToken(context.Background(), testHost, testRegion, testUser, provider)
		if err != nil {
			t.Fatal(err)
		}
		lookup := lookupOf(aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: session})
		claims, err := Verify(token, defaultExpect(), time.Now(), lookup)
		if err != nil {
			t.Fatalf("session=%t: Verify: %v", session != "", err)
		}
		if claims.HasSecurityToken != (session != "") {
			t.Errorf("HasSecurityToken = %t, want %t", claims.HasSecurityToken, session != "")
		}
	}
}

func TestVerifyRefusals(t *testing.T) {
	base := defaultSpec()
	good := presign(t, base)
	okLookup := lookupOf(base.creds)
	now := testSignedAt.Add(time.Minute)

	wrongSecret := base.creds
	wrongSecret.SecretAccessKey = "another-secret"
	withSession := base
	withSession.creds.SessionToken = testSession
	otherSession := withSession.creds
	otherSession.SessionToken = "a-different-session-token"
	otherRegion := base
	otherRegion.region = "eu-west-1"
	otherService := base
	otherService.service = "rds"
	otherAction := base
	otherAction.action = "disconnect"
	otherPort := base
	otherPort.endpoint = "localhost:3307"
	otherHost := base
	otherHost.endpoint = "db.example.com:3306"
	otherUser := base
	otherUser.user = "admin"
	longExpiry := base
	longExpiry.expires = "901"
	zeroExpiry := base
	zeroExpiry.expires = "0"
	extraHeader := base
	extraHeader.extraHeader = true

	tests := []struct {
		name   string
		token  string
		want   Expect
		lookup func(string) (Credential, bool)
		now    time.Time
		err    error
	}{
		{"wrong secret", good, defaultExpect(), lookupOf(wrongSecret), now, ErrSignature},
		{"unknown key", good, defaultExpect(), lookupOf(), now, ErrUnknownKey},
		{"tampered signature", flipLastHex(good), defaultExpect(), okLookup, now, ErrSignature},
		{"tampered DBUser", replaceParam(t, good, "DBUser", "admin"),
			Expect{Endpoint: testHost, User: "admin", Region: testRegion}, okLookup, now, ErrSignature},
		{"tampered expiry", replaceParam(t, good, "X-Amz-Expires", "899"), defaultExpect(), okLookup, now, ErrSignature},
		{"DBUser is not the login user", presign(t, otherUser), defaultExpect(), okLookup, now, ErrUser},
		{"wrong port", presign(t, otherPort), defaultExpect(), okLookup, now, ErrEndpoint},
		{"wrong host", presign(t, otherHost), defaultExpect(), okLookup, now, ErrEndpoint},
		{"wrong region", presign(t, otherRegion), defaultExpect(), okLookup, now, ErrRegion},
		{"wrong service", presign(t, otherService), defaultExpect(), okLookup, now, ErrService},
		{"wrong action", presign(t, otherAction), defaultExpect(), okLookup, now, ErrAction},
		{"expired by one second", good, defaultExpect(), okLookup, testSignedAt.Add(901 * time.Second), ErrExpired},
		{"expired by 16 minutes", good, defaultExpect(), okLookup, testSignedAt.Add(16 * time.Minute), ErrExpired},
		{"too far in the future", good, defaultExpect(), okLookup, testSignedAt.Add(-6 * time.Minute), ErrNotYetValid},
		{"future with zero skew", good, Expect{Endpoint: testHost, User: testUser, Region: testRegion, MaxSkew: -1},
			okLookup, testSignedAt.Add(-time.Second), ErrNotYetValid},
		{"expires over 900", presign(t, longExpiry), defaultExpect(), okLookup, now, ErrExpiresRange},
		{"expires zero", presign(t, zeroExpiry), defaultExpect(), okLookup, now, ErrExpiresRange},
		{"session token missing", good, defaultExpect(), lookupOf(withSession.creds), now, ErrSecurityToken},
		{"session token unexpected", presign(t, withSession), defaultExpect(), okLookup, now, ErrSecurityToken},
		{"session token differs", presign(t, withSession), defaultExpect(), lookupOf(otherSession), now, ErrSecurityToken},
		{"algorithm", replaceParam(t, good, "X-Amz-Algorithm", "AWS4-HMAC-SHA1"), defaultExpect(), okLookup, now, ErrAlgorithm},
		{"extra signed header", presign(t, extraHeader), defaultExpect(), okLookup, now, ErrSignedHeaders},
		{"no query", "localhost:3306", defaultExpect(), okLookup, now, ErrMalformed},
		{"empty", "", defaultExpect(), okLookup, now, ErrMalformed},
		{"path", strings.Replace(good, "?", "/x?", 1), defaultExpect(), okLookup, now, ErrMalformed},
		{"duplicate DBUser", good + "&DBUser=app_user", defaultExpect(), okLookup, now, ErrMalformed},
		{"trailing ampersand", good + "&", defaultExpect(), okLookup, now, ErrMalformed},
		{"bad escape", replaceParam(t, good, "DBUser", "%zz"), defaultExpect(), okLookup, now, ErrMalformed},
		{"missing signature", good[:strings.Index(good, "&X-Amz-Signature")], defaultExpect(), okLookup, now, ErrMalformed},
		{"short signature", replaceParam(t, good, "X-Amz-Signature", "abcd"), defaultExpect(), okLookup, now, ErrMalformed},
		{"credential with 4 parts", replaceParam(t, good, "X-Amz-Credential", url.QueryEscape(testAKID+"/20250314/us-east-1/rds-db")),
			defaultExpect(), okLookup, now, ErrMalformed},
		{"scope date differs from X-Amz-Date", replaceParam(t, good, "X-Amz-Date", "20250315T150926Z"),
			defaultExpect(), okLookup, now, ErrMalformed},
		{"signed expires with plus sign", replaceParam(t, good, "X-Amz-Expires", "%2B900"), defaultExpect(), okLookup, now, ErrMalformed},
		{"oversized", good + "&Pad=" + strings.Repeat("a", MaxTokenLength), defaultExpect(), okLookup, now, ErrMalformed},
	}
	secrets := []string{testSecret, testSession, "X-Amz-Signature=", signatureOf(good)}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(tc.token, tc.want, tc.now, tc.lookup)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Verify error = %v, want %v", err, tc.err)
			}
			for _, s := range secrets {
				if s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("error message leaks %q: %v", s, err)
				}
			}
		})
	}
}

func signatureOf(token string) string {
	i := strings.Index(token, "X-Amz-Signature=")
	if i < 0 {
		return ""
	}
	return token[i+len("X-Amz-Signature="):]
}

func TestVerifyRejectsInvalidExpectation(t *testing.T) {
	good := presign(t, defaultSpec())
	sentinels := []error{ErrMalformed, ErrAlgorithm, ErrSignedHeaders, ErrService, ErrAction, ErrUser,
		ErrEndpoint, ErrRegion, ErrNotYetValid, ErrExpired, ErrExpiresRange, ErrUnknownKey, ErrSecurityToken, ErrSignature}
	tests := []struct {
		name   string
		want   Expect
		lookup func(string) (Credential, bool)
	}{
		{"endpoint without port", Expect{Endpoint: "localhost", User: testUser, Region: testRegion}, lookupOf()},
		{"endpoint with bad port", Expect{Endpoint: "localhost:http", User: testUser, Region: testRegion}, lookupOf()},
		{"no user", Expect{Endpoint: testHost, Region: testRegion}, lookupOf()},
		{"no region", Expect{Endpoint: testHost, User: testUser}, lookupOf()},
		{"nil lookup", defaultExpect(), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(good, tc.want, testSignedAt, tc.lookup)
			if err == nil {
				t.Fatal("Verify accepted an invalid expectation")
			}
			for _, s := range sentinels {
				if errors.Is(err, s) {
					t.Errorf("error %v wraps token refusal %v; want a configuration error", err, s)
				}
			}
		})
	}
}

// TestCanonicalQueryMatchesSDKEncoding checks the RFC 3986 encoder against
// the escaping the SDK applies (url.QueryEscape with %20 for space).
func TestCanonicalQueryMatchesSDKEncoding(t *testing.T) {
	for _, s := range []string{"", "abc", "a b", "a+b", "a/b=c", "~-._", "ü", "\x00\xff", "AKID/20250314/us-east-1/rds-db/aws4_request"} {
		want := strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
		if got := uriEncode(s); got != want {
			t.Errorf("uriEncode(%q) = %q, want %q", s, got, want)
		}
	}
}
