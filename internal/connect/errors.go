package connect

import "errors"

// The failures a person meets most, each wrapped with what to do about it.
// Test with errors.Is.
var (
	// ErrNoCredentials: no AWS credentials to sign the token with.
	ErrNoCredentials = errors.New("no AWS credentials to sign the token with")
	// ErrNotAllowed: the database refused the token (MySQL error 1045).
	ErrNotAllowed = errors.New("the database refused the login (MySQL error 1045)")
	// ErrTunnelNotUp: nothing accepts connections at the --via address.
	ErrTunnelNotUp = errors.New("the tunnel is not up")
	// ErrTLSNotVerifiable: the server's certificate does not verify for
	// the real host name, or the server offers no TLS.
	ErrTLSNotVerifiable = errors.New("the server's TLS certificate could not be verified")
	// ErrNoClient: neither mariadb nor mysql is on PATH.
	ErrNoClient = errors.New("no MySQL client found")
)
