package auroralocal

import (
	"fmt"
	"time"

	"github.com/rdsiam/rdsiam/auroralocal/sigv4"
)

// TokenVerifier is the IAM half of an Aurora login, shared by every engine
// that plays it: the stand-in's mysql_clear_password method and the MariaDB
// lane's AWSAuthenticationPlugin (package auroralocal/mariadb) both call
// Verify, so a token or policy that one engine accepts the other accepts too.
type TokenVerifier struct {
	region, account, clusterResourceID string
	principals                         map[string]Principal // by access key id
}

// NewTokenVerifier validates opts as Start does (Region, Account,
// ClusterResourceID, Principals; defaults filled the same way) and returns a
// verifier for them. It returns an error naming the bad option.
func NewTokenVerifier(opts Options) (*TokenVerifier, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	return newTokenVerifier(o), nil
}

// WithDefaults returns opts with Start's defaults filled in, validated as
// Start validates them (an error names the bad option). Engines other than
// the stand-in use it so every engine reads Options the same way.
func (o Options) WithDefaults() (Options, error) { return o.normalize() }

func newTokenVerifier(o Options) *TokenVerifier {
	v := &TokenVerifier{region: o.Region, account: o.Account, clusterResourceID: o.ClusterResourceID,
		principals: make(map[string]Principal, len(o.Principals))}
	for _, p := range o.Principals {
		v.principals[p.AccessKeyID] = p
	}
	return v
}

// Verify checks token as the password of an IAM login as user to a server
// whose endpoint (host:port the token must be signed for) is endpoint, at
// time now: the SigV4 signature, scope and validity (sigv4.Verify), then the
// signing principal's Authorize for rds-db:connect on DBUserARN(user). It
// returns the principal's ARN whenever the signature verified (also when
// authorization then fails), and an error wrapping a sigv4.Err* or
// ErrNotAuthorized / ErrAuthorizeFailed.
func (v *TokenVerifier) Verify(token, user, endpoint string, now time.Time) (principalARN string, err error) {
	return v.VerifyFor(token, user, endpoint, v.DBUserARN(user), now)
}

// VerifyFor is Verify for a login through another endpoint than the
// cluster's (an RDS Proxy, a reader endpoint): the token must be signed for
// endpoint, and the principal allowed rds-db:connect on resource.
func (v *TokenVerifier) VerifyFor(token, user, endpoint, resource string, now time.Time) (principalARN string, err error) {
	claims, err := sigv4.Verify(token, sigv4.Expect{Endpoint: endpoint, User: user, Region: v.region}, now, v.lookupKey)
	if err != nil {
		return "", err
	}
	p := v.principals[claims.AccessKeyID]
	allowed, err := authorize(p, ConnectAction, resource)
	if err != nil {
		return p.ARN, fmt.Errorf("%w: %s on %s for %s: %v", ErrAuthorizeFailed, ConnectAction, resource, p.ARN, err)
	}
	if !allowed {
		return p.ARN, fmt.Errorf("%w: %s denied %s on %s", ErrNotAuthorized, p.ARN, ConnectAction, resource)
	}
	return p.ARN, nil
}

// Region returns the region tokens must be scoped to.
func (v *TokenVerifier) Region() string { return v.region }

// DBUserARN returns the rds-db resource ARN a login as user is authorized
// against: arn:aws:rds-db:<region>:<account>:dbuser:<cluster resource id>/<user>.
func (v *TokenVerifier) DBUserARN(user string) string {
	return fmt.Sprintf("arn:%s:rds-db:%s:%s:dbuser:%s/%s", Partition, v.region, v.account, v.clusterResourceID, user)
}

// lookupKey is the sigv4 key lookup over the configured principals.
func (v *TokenVerifier) lookupKey(accessKeyID string) (sigv4.Credential, bool) {
	p, ok := v.principals[accessKeyID]
	if !ok {
		return sigv4.Credential{}, false
	}
	return sigv4.Credential{SecretAccessKey: p.SecretAccessKey, SessionToken: p.SessionToken}, true
}

// authorize calls p.Authorize, treating nil as deny-all and a panic as an
// evaluation error.
func authorize(p Principal, action, resource string) (allowed bool, err error) {
	if p.Authorize == nil {
		return false, nil
	}
	defer func() {
		if r := recover(); r != nil {
			allowed, err = false, fmt.Errorf("Authorize panicked: %v", r)
		}
	}()
	return p.Authorize(action, resource)
}
