package sigv4

import "errors"

// Sentinel errors wrapped by Verify. Each names one reason a token is refused;
// test with errors.Is. The wrapping error adds the offending (non-secret)
// value and what was expected.
var (
	// ErrMalformed: the token is not a well-formed pre-signed query (bad
	// escaping, duplicate or missing parameters, unparsable values).
	ErrMalformed = errors.New("malformed token")
	// ErrAlgorithm: X-Amz-Algorithm is not AWS4-HMAC-SHA256.
	ErrAlgorithm = errors.New("unsupported signing algorithm")
	// ErrSignedHeaders: X-Amz-SignedHeaders is not exactly "host".
	ErrSignedHeaders = errors.New("unsupported signed headers")
	// ErrService: the credential scope's service is not rds-db.
	ErrService = errors.New("wrong service in credential scope")
	// ErrAction: Action is not "connect".
	ErrAction = errors.New("wrong action")
	// ErrUser: DBUser differs from the user logging in.
	ErrUser = errors.New("DBUser does not match login user")
	// ErrEndpoint: the token's host:port differs from the server endpoint.
	ErrEndpoint = errors.New("token signed for another endpoint")
	// ErrRegion: the credential scope's region differs from the server region.
	ErrRegion = errors.New("token signed for another region")
	// ErrNotYetValid: X-Amz-Date is further in the future than the allowed skew.
	ErrNotYetValid = errors.New("token date is in the future")
	// ErrExpired: X-Amz-Date + X-Amz-Expires is before now.
	ErrExpired = errors.New("token expired")
	// ErrExpiresRange: X-Amz-Expires is not within 1..MaxExpires seconds.
	ErrExpiresRange = errors.New("X-Amz-Expires out of range")
	// ErrUnknownKey: the access key id is not known to the lookup.
	ErrUnknownKey = errors.New("unknown access key id")
	// ErrSecurityToken: X-Amz-Security-Token is missing, unexpected, or
	// differs from the session token registered for the access key.
	ErrSecurityToken = errors.New("security token mismatch")
	// ErrSignature: the recomputed signature differs from X-Amz-Signature.
	ErrSignature = errors.New("signature mismatch")
)
