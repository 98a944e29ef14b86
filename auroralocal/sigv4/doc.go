// Package sigv4 verifies RDS IAM database authentication tokens: the
// pre-signed SigV4 query strings that aws-sdk-go-v2's feature/rds/auth
// BuildAuthToken and `aws rds generate-db-auth-token` produce and that a
// client sends as its mysql_clear_password password.
//
// A token looks like (parameter order may differ, and the "/" before "?" is
// present in CLI tokens but absent from aws-sdk-go-v2 tokens):
//
//	host:port/?Action=connect&DBUser=<user>&X-Amz-Algorithm=AWS4-HMAC-SHA256
//	  &X-Amz-Credential=<AKID>/<yyyymmdd>/<region>/rds-db/aws4_request
//	  &X-Amz-Date=<yyyymmddThhmmssZ>&X-Amz-Expires=900
//	  [&X-Amz-Security-Token=<session token>]
//	  &X-Amz-SignedHeaders=host&X-Amz-Signature=<hex>
//
// Verify re-derives the signature with the SigV4 presign algorithm (canonical
// request "GET", path "/", sorted canonical query without X-Amz-Signature,
// the single signed header "host", and the SHA-256 of the empty payload) and
// compares it in constant time. Every refusal wraps one of the exported
// sentinel errors so callers can tell reasons apart with errors.Is; no error
// message ever contains the token, the signature, a secret key or a session
// token.
//
// The package has no dependency on the rest of auroralocal so it can be
// fuzzed and reused on its own.
package sigv4
