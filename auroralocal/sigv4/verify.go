package sigv4

import (
	"crypto/hmac"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

const (
	// Algorithm is the only X-Amz-Algorithm RDS IAM tokens use.
	Algorithm = "AWS4-HMAC-SHA256"
	// Service is the SigV4 service name in an RDS IAM token's credential scope.
	Service = "rds-db"
	// Action is the only Action value an RDS IAM token may carry.
	Action = "connect"
	// MaxExpires is the longest X-Amz-Expires RDS accepts: tokens live 15 minutes.
	MaxExpires = 900 * time.Second
	// DefaultMaxSkew is how far X-Amz-Date may be ahead of the verifier's clock
	// when Expect.MaxSkew is zero. It absorbs clock drift between the client
	// that signed and the server that verifies, as AWS endpoints do.
	DefaultMaxSkew = 5 * time.Minute
	// MaxTokenLength bounds the token size accepted before any parsing; real
	// tokens with a session token are about 1-2 KiB.
	MaxTokenLength = 16 << 10

	amzDateLayout = "20060102T150405Z"
	scopeTerminal = "aws4_request"
)

// Query parameter names used by pre-signed RDS IAM tokens.
const (
	paramAction        = "Action"
	paramDBUser        = "DBUser"
	paramAlgorithm     = "X-Amz-Algorithm"
	paramCredential    = "X-Amz-Credential"
	paramDate          = "X-Amz-Date"
	paramExpires       = "X-Amz-Expires"
	paramSignedHeaders = "X-Amz-SignedHeaders"
	paramSignature     = "X-Amz-Signature"
	paramSecurityToken = "X-Amz-Security-Token"
)

// Expect is what the verifying server requires of a token.
type Expect struct {
	// Endpoint is the "host:port" clients connect to and sign tokens for,
	// e.g. "localhost:3306". The host is compared case-insensitively, the
	// port exactly.
	Endpoint string
	// User is the MySQL user name the client is logging in as; DBUser must
	// equal it exactly (MySQL user names are case-sensitive).
	User string
	// Region is the AWS region the server lives in, e.g. "us-east-1"; the
	// credential scope's region must equal it.
	Region string
	// MaxSkew is how far in the future X-Amz-Date may be. Zero means
	// DefaultMaxSkew; a negative value is treated as zero skew.
	MaxSkew time.Duration
}

// Credential is what the lookup function returns for a known access key id.
type Credential struct {
	// SecretAccessKey is the secret the token must be signed with.
	SecretAccessKey string
	// SessionToken, when non-empty, must be carried verbatim as
	// X-Amz-Security-Token (temporary credentials). When empty, a token that
	// carries any X-Amz-Security-Token is refused.
	SessionToken string
}

// Claims describes a token that verified. None of its fields is secret.
type Claims struct {
	// AccessKeyID is the signer's access key id from X-Amz-Credential.
	AccessKeyID string
	// DBUser is the database user the token grants a login for.
	DBUser string
	// Endpoint is the host:port the token was signed for, as written in it.
	Endpoint string
	// Region is the region from the credential scope.
	Region string
	// SignedAt is X-Amz-Date.
	SignedAt time.Time
	// ExpiresAt is SignedAt + X-Amz-Expires.
	ExpiresAt time.Time
	// HasSecurityToken reports whether the token carried X-Amz-Security-Token.
	HasSecurityToken bool
}

// Verify checks token against want at time now, looking up the signing
// secret with lookup (which must be safe to call with any string and must
// report ok=false for unknown ids). It returns the token's claims when every
// check passes: parameters well formed, algorithm AWS4-HMAC-SHA256, signed
// headers exactly "host", service rds-db, Action=connect, DBUser == want.User,
// host:port == want.Endpoint, region == want.Region, X-Amz-Expires in
// 1..900s, X-Amz-Date no more than the skew ahead of now, now not after
// X-Amz-Date + X-Amz-Expires, access key known, security token as
// registered, and signature equal (constant time) to the one recomputed with
// the SigV4 presign algorithm.
//
// On refusal the error wraps exactly one of the package's sentinel errors.
// An invalid want (not a refusal of the token) yields an error wrapping none
// of them. Verify never panics and never echoes the token, signature, secret
// or session token.
func Verify(token string, want Expect, now time.Time, lookup func(accessKeyID string) (Credential, bool)) (Claims, error) {
	wantHost, wantPort, err := checkExpect(want, lookup)
	if err != nil {
		return Claims{}, err
	}
	tok, err := parseToken(token)
	if err != nil {
		return Claims{}, err
	}
	f, err := parseFields(tok.params)
	if err != nil {
		return Claims{}, err
	}
	if err := checkBinding(tok, f.scope, want, wantHost, wantPort); err != nil {
		return Claims{}, err
	}
	expiresAt, err := checkValidity(f, want.MaxSkew, now)
	if err != nil {
		return Claims{}, err
	}
	cred, ok := lookup(f.scope.accessKeyID)
	if !ok {
		return Claims{}, fmt.Errorf("%w: %s", ErrUnknownKey, quote(f.scope.accessKeyID))
	}
	hasST, err := checkSecurityToken(tok.params, cred, f.scope.accessKeyID)
	if err != nil {
		return Claims{}, err
	}
	if err := checkSignature(tok, f.scope, cred); err != nil {
		return Claims{}, err
	}
	return Claims{
		AccessKeyID:      f.scope.accessKeyID,
		DBUser:           tok.params[paramDBUser],
		Endpoint:         tok.hostPort,
		Region:           f.scope.region,
		SignedAt:         f.signedAt,
		ExpiresAt:        expiresAt,
		HasSecurityToken: hasST,
	}, nil
}

// checkExpect refuses an unusable want or lookup (the server's
// misconfiguration, not a refusal of the token: the errors wrap no sentinel)
// and returns the endpoint's host and port.
func checkExpect(want Expect, lookup func(string) (Credential, bool)) (host, port string, err error) {
	host, port, err = splitEndpoint(want.Endpoint)
	if err != nil {
		return "", "", fmt.Errorf("sigv4: invalid Expect.Endpoint %s: %w", quote(want.Endpoint), err)
	}
	if want.User == "" {
		return "", "", errors.New("sigv4: Expect.User is empty; want the login user name")
	}
	if want.Region == "" {
		return "", "", errors.New("sigv4: Expect.Region is empty; want an AWS region such as us-east-1")
	}
	if lookup == nil {
		return "", "", errors.New("sigv4: lookup function is nil")
	}
	return host, port, nil
}

// signingFields are the token's parameters that say how it was signed and
// for how long, parsed.
type signingFields struct {
	scope    credentialScope
	signedAt time.Time
	expires  time.Duration
}

// parseFields checks the algorithm and signed headers and parses the
// credential scope, X-Amz-Date and X-Amz-Expires: the token's form, before
// anything it claims is compared with the server's expectations.
func parseFields(p map[string]string) (signingFields, error) {
	if alg := p[paramAlgorithm]; alg != Algorithm {
		return signingFields{}, fmt.Errorf("%w: %s is %s, want %s", ErrAlgorithm, paramAlgorithm, quote(alg), Algorithm)
	}
	if sh := p[paramSignedHeaders]; sh != "host" {
		return signingFields{}, fmt.Errorf("%w: %s is %s, want \"host\"", ErrSignedHeaders, paramSignedHeaders, quote(sh))
	}
	scope, err := parseCredential(p[paramCredential])
	if err != nil {
		return signingFields{}, err
	}
	signedAt, err := time.Parse(amzDateLayout, p[paramDate])
	if err != nil {
		return signingFields{}, fmt.Errorf("%w: %s is %s, want yyyymmddThhmmssZ", ErrMalformed, paramDate, quote(p[paramDate]))
	}
	if scope.date != p[paramDate][:8] {
		return signingFields{}, fmt.Errorf("%w: credential scope date %s does not match %s %s",
			ErrMalformed, quote(scope.date), paramDate, quote(p[paramDate]))
	}
	expires, err := parseExpires(p[paramExpires])
	if err != nil {
		return signingFields{}, err
	}
	return signingFields{scope: scope, signedAt: signedAt, expires: expires}, nil
}

// checkBinding checks that the token is for this service, action, user,
// endpoint and region.
func checkBinding(tok parsedToken, scope credentialScope, want Expect, wantHost, wantPort string) error {
	p := tok.params
	if scope.service != Service {
		return fmt.Errorf("%w: scope service is %s, want %s", ErrService, quote(scope.service), Service)
	}
	if a := p[paramAction]; a != Action {
		return fmt.Errorf("%w: Action is %s, want %s", ErrAction, quote(a), Action)
	}
	if u := p[paramDBUser]; u != want.User {
		return fmt.Errorf("%w: DBUser is %s, login user is %s", ErrUser, quote(u), quote(want.User))
	}
	if !strings.EqualFold(tok.host, wantHost) || tok.port != wantPort {
		return fmt.Errorf("%w: token is for %s, server endpoint is %s",
			ErrEndpoint, quote(tok.hostPort), quote(want.Endpoint))
	}
	if scope.region != want.Region {
		return fmt.Errorf("%w: token region is %s, server region is %s", ErrRegion, quote(scope.region), quote(want.Region))
	}
	return nil
}

// checkValidity checks now against the token's validity window, allowing
// maxSkew (Expect.MaxSkew's rules) for a signer's clock ahead of ours, and
// returns when the token expires.
func checkValidity(f signingFields, maxSkew time.Duration, now time.Time) (time.Time, error) {
	skew := maxSkew
	if skew == 0 {
		skew = DefaultMaxSkew
	} else if skew < 0 {
		skew = 0
	}
	expiresAt := f.signedAt.Add(f.expires)
	if f.signedAt.After(now.Add(skew)) {
		return time.Time{}, fmt.Errorf("%w: signed at %s, server time %s (allowed skew %s)",
			ErrNotYetValid, f.signedAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew)
	}
	if now.After(expiresAt) {
		return time.Time{}, fmt.Errorf("%w: expired at %s, server time %s",
			ErrExpired, expiresAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return expiresAt, nil
}

// checkSecurityToken requires X-Amz-Security-Token exactly when the access
// key has a session token, and then equal to it (constant time). It reports
// whether the token carried one.
func checkSecurityToken(p map[string]string, cred Credential, accessKeyID string) (bool, error) {
	st, hasST := p[paramSecurityToken]
	switch {
	case cred.SessionToken == "" && hasST:
		return hasST, fmt.Errorf("%w: token carries %s but access key %s has no session token",
			ErrSecurityToken, paramSecurityToken, quote(accessKeyID))
	case cred.SessionToken != "" && !hasST:
		return hasST, fmt.Errorf("%w: access key %s needs %s, token has none",
			ErrSecurityToken, quote(accessKeyID), paramSecurityToken)
	case cred.SessionToken != "" && subtle.ConstantTimeCompare([]byte(st), []byte(cred.SessionToken)) != 1:
		return hasST, fmt.Errorf("%w: %s differs from the session token of access key %s",
			ErrSecurityToken, paramSecurityToken, quote(accessKeyID))
	}
	return hasST, nil
}

// checkSignature recomputes the SigV4 presign signature with the key's
// secret and compares it with X-Amz-Signature in constant time.
func checkSignature(tok parsedToken, scope credentialScope, cred Credential) error {
	p := tok.params
	gotSig, err := hex.DecodeString(p[paramSignature])
	if err != nil || len(gotSig) != 32 {
		return fmt.Errorf("%w: %s is not 64 hex digits", ErrMalformed, paramSignature)
	}
	wantSig := signature(cred.SecretAccessKey, scope, p[paramDate], stringToSignInput{
		canonicalHost:  tok.canonicalHost(),
		canonicalQuery: canonicalQuery(p),
	})
	if !hmac.Equal(gotSig, wantSig) {
		return fmt.Errorf("%w: for access key %s", ErrSignature, quote(scope.accessKeyID))
	}
	return nil
}

// credentialScope is X-Amz-Credential split into its five parts.
type credentialScope struct {
	accessKeyID, date, region, service string
}

// String returns the scope as it appears in the string to sign (without the
// access key id).
func (c credentialScope) String() string {
	return c.date + "/" + c.region + "/" + c.service + "/" + scopeTerminal
}

func parseCredential(v string) (credentialScope, error) {
	parts := strings.Split(v, "/")
	if len(parts) != 5 || parts[4] != scopeTerminal {
		return credentialScope{}, fmt.Errorf("%w: %s is %s, want AKID/yyyymmdd/region/rds-db/aws4_request",
			ErrMalformed, paramCredential, quote(v))
	}
	for i, part := range parts[:4] {
		if part == "" {
			return credentialScope{}, fmt.Errorf("%w: %s part %d is empty", ErrMalformed, paramCredential, i+1)
		}
	}
	return credentialScope{accessKeyID: parts[0], date: parts[1], region: parts[2], service: parts[3]}, nil
}

func parseExpires(v string) (time.Duration, error) {
	// Only plain decimal digits: strconv.Atoi would also take "+900".
	if v == "" || len(v) > 9 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, fmt.Errorf("%w: %s is %s, want seconds as decimal digits", ErrMalformed, paramExpires, quote(v))
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is %s: %v", ErrMalformed, paramExpires, quote(v), err)
	}
	d := time.Duration(n) * time.Second
	if d < time.Second || d > MaxExpires {
		return 0, fmt.Errorf("%w: %s is %d, want 1..%d", ErrExpiresRange, paramExpires, n, int(MaxExpires/time.Second))
	}
	return d, nil
}

// splitEndpoint splits "host:port" and checks the port is numeric.
func splitEndpoint(endpoint string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(endpoint)
	if err != nil {
		return "", "", err
	}
	if host == "" {
		return "", "", errors.New("empty host")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", "", fmt.Errorf("port %s is not 1..65535", quote(port))
	}
	return host, port, nil
}

// quote renders an untrusted value for an error message: Go-quoted so control
// characters cannot forge log lines, and cut to 64 bytes so a hostile token
// cannot flood the log.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
