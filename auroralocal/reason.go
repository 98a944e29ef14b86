package auroralocal

import (
	"errors"

	"github.com/rdsiam/rdsiam/auroralocal/sigv4"
)

// Reason codes of refused logins, named after the failure reasons Aurora
// writes to its iam-db-auth-error log (NotAuthorized, ExpiredToken,
// InvalidToken, ...), plus the transport and configuration refusals the
// local engines decide themselves. ReasonCode maps a recorded AuthEvent.Err
// to one of them.
const (
	// ReasonInvalidToken: the token is malformed, signed with an unknown key,
	// for another user, endpoint or region, or its signature is wrong.
	ReasonInvalidToken = "InvalidToken"
	// ReasonExpiredToken: the token's 15 minutes (X-Amz-Expires) are over.
	ReasonExpiredToken = "ExpiredToken"
	// ReasonNotAuthorized: the signing principal may not rds-db:connect as
	// this user (insufficient permissions), or its policy could not be
	// evaluated.
	ReasonNotAuthorized = "NotAuthorized"
	// ReasonNotTLS: the connection is not encrypted; the token was never
	// requested (or, for password users, require_secure_transport refused).
	ReasonNotTLS = "NotTLS"
	// ReasonIAMDisabled: IAM database authentication is off (error 1524).
	ReasonIAMDisabled = "IAMDisabled"
	// ReasonThrottled: refused by fault injection (RefuseLogins), standing
	// in for IAM throttling or propagation delay.
	ReasonThrottled = "ThrottlingException"
	// ReasonWrongPassword: no such account, or a password login failed.
	ReasonWrongPassword = "AccessDenied"
	// ReasonInternal: the verifier failed (panic, unreachable verifier) or
	// the reason is not one of the above.
	ReasonInternal = "InternalError"
)

// ReasonCode returns the iam-db-auth-error style code for a refusal reason
// recorded in AuthEvent.Err; "" for nil.
func ReasonCode(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, sigv4.ErrExpired):
		return ReasonExpiredToken
	case errors.Is(err, ErrNotAuthorized), errors.Is(err, ErrAuthorizeFailed):
		return ReasonNotAuthorized
	case errors.Is(err, ErrIAMWithoutTLS), errors.Is(err, ErrInsecureTransport), errors.Is(err, ErrSSLRequired):
		return ReasonNotTLS
	case errors.Is(err, ErrIAMDisabled):
		return ReasonIAMDisabled
	case errors.Is(err, ErrInjectedRefusal):
		return ReasonThrottled
	case errors.Is(err, ErrUnknownAccount), errors.Is(err, ErrWrongPassword):
		return ReasonWrongPassword
	}
	for _, tokenErr := range invalidTokenErrors {
		if errors.Is(err, tokenErr) {
			return ReasonInvalidToken
		}
	}
	return ReasonInternal
}

// invalidTokenErrors are the sigv4 refusals other than expiry.
var invalidTokenErrors = []error{
	sigv4.ErrMalformed, sigv4.ErrAlgorithm, sigv4.ErrSignedHeaders, sigv4.ErrService, sigv4.ErrAction,
	sigv4.ErrUser, sigv4.ErrEndpoint, sigv4.ErrRegion, sigv4.ErrNotYetValid, sigv4.ErrExpiresRange,
	sigv4.ErrUnknownKey, sigv4.ErrSecurityToken, sigv4.ErrSignature,
}

// Reason returns ReasonCode(e.Err): "" for a successful login.
func (e AuthEvent) Reason() string { return ReasonCode(e.Err) }
