package sigv4

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// FuzzVerify feeds arbitrary tokens to Verify with a fixed, valid
// expectation. The seed corpus (testdata/fuzz/FuzzVerify, plus the seeds
// added below) holds valid SDK and CLI-style tokens signed at testSignedAt
// with testSecret, so mutations start from inputs that reach the signature
// check. Properties: never panics; every refusal wraps a sentinel; errors
// never reveal the looked-up secret or session token; an accepted token
// really names the expected user, region and a known key, and is within its
// validity window.
func FuzzVerify(f *testing.F) {
	base := defaultSpec()
	good := presign(f, base)
	f.Add(good)
	f.Add(cliStyle(good))
	withSession := base
	withSession.creds.SessionToken = testSession
	f.Add(presign(f, withSession))
	f.Add("localhost:3306?")
	f.Add("")

	sentinels := []error{ErrMalformed, ErrAlgorithm, ErrSignedHeaders, ErrService, ErrAction, ErrUser,
		ErrEndpoint, ErrRegion, ErrNotYetValid, ErrExpired, ErrExpiresRange, ErrUnknownKey, ErrSecurityToken, ErrSignature}
	lookup := lookupOf(base.creds, aws.Credentials{AccessKeyID: "AKIASESSIONKEY000001", SecretAccessKey: testSecret, SessionToken: testSession})
	now := testSignedAt.Add(time.Minute)

	f.Fuzz(func(t *testing.T, token string) {
		claims, err := Verify(token, defaultExpect(), now, lookup)
		if err != nil {
			wrapped := false
			for _, s := range sentinels {
				if errors.Is(err, s) {
					wrapped = true
					break
				}
			}
			if !wrapped {
				t.Fatalf("refusal does not wrap a sentinel: %v", err)
			}
			// The secret and the registered session token come from lookup;
			// they may appear in the message only if the token itself
			// (attacker input, echoed quoted) already contained them.
			for _, secret := range []string{testSecret, testSession} {
				if strings.Contains(err.Error(), secret) && !mentions(token, secret) {
					t.Fatalf("error leaks a secret: %v", err)
				}
			}
			return
		}
		if claims.DBUser != testUser || claims.Region != testRegion {
			t.Fatalf("accepted token with claims %+v", claims)
		}
		if _, ok := lookup(claims.AccessKeyID); !ok {
			t.Fatalf("accepted token for unknown key %q", claims.AccessKeyID)
		}
		if now.After(claims.ExpiresAt) || claims.SignedAt.After(now.Add(DefaultMaxSkew)) {
			t.Fatalf("accepted token outside its validity window: %+v", claims)
		}
	})
}

// mentions reports whether token contains s raw or in any URL-decoded
// query component.
func mentions(token, s string) bool {
	if strings.Contains(token, s) {
		return true
	}
	for _, part := range strings.FieldsFunc(token, func(r rune) bool { return r == '&' || r == '=' || r == '?' }) {
		if decoded, err := url.QueryUnescape(part); err == nil && strings.Contains(decoded, s) {
			return true
		}
	}
	return false
}
