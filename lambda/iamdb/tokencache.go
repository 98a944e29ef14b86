package iamdb

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// credentialExpiryMargin stops reuse of a token this long before the
// credentials it was signed with expire: RDS rejects a token whose session
// credentials have expired even if the token itself has not.
const credentialExpiryMargin = time.Minute

// tokenCache holds the last token a Connector signed. The mutex is held
// while signing so that a burst of concurrent connects signs once and the
// rest reuse the result.
type tokenCache struct {
	mu         sync.Mutex
	token      string    // "" when nothing is cached
	signedAt   time.Time // signing time of token
	reuseUntil time.Time // token is reused for connects strictly before this
	signed     uint64
	reused     uint64
}

// tokenSource is what the cache needs from its Connector's Config.
type tokenSource struct {
	endpoint, region, user string
	creds                  aws.CredentialsProvider
	reuse                  time.Duration
}

// get returns a token valid at now and whether it was freshly signed. It
// reuses the cached token if that was signed at or before now and is
// younger than src.reuse (at most MaxTokenReuse: more than a minute to
// live), and signs a new one otherwise. A clock that moved backwards counts as "too old", so a token is
// never used before its own signing time.
func (tc *tokenCache) get(ctx context.Context, src tokenSource, now time.Time) (token string, fresh bool, err error) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.token != "" && !now.Before(tc.signedAt) && now.Before(tc.reuseUntil) {
		tc.reused++
		return tc.token, false, nil
	}
	token, creds, err := buildToken(ctx, src.endpoint, src.region, src.user, src.creds, now)
	if err != nil {
		return "", false, err
	}
	until := now.Add(src.reuse)
	if creds.CanExpire {
		if limit := creds.Expires.Add(-credentialExpiryMargin); limit.Before(until) {
			until = limit
		}
	}
	tc.token, tc.signedAt, tc.reuseUntil = token, now, until
	tc.signed++
	return token, true, nil
}

// counts returns how many tokens were signed and how many reused so far.
func (tc *tokenCache) counts() (signed, reused uint64) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.signed, tc.reused
}
