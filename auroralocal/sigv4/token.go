package sigv4

import (
	"fmt"
	"net/url"
	"strings"
)

// parsedToken is a token split into its endpoint and decoded parameters.
type parsedToken struct {
	hostPort   string // as written in the token, e.g. "localhost:3306"
	host, port string
	params     map[string]string // decoded key -> decoded value; keys are unique
}

// requiredParams must each appear exactly once in a token.
var requiredParams = []string{
	paramAction, paramDBUser, paramAlgorithm, paramCredential,
	paramDate, paramExpires, paramSignedHeaders, paramSignature,
}

// parseToken splits "host:port[/]?query" and decodes the query. Any
// ambiguity (duplicate keys, empty pairs, bad escapes, a path other than
// "/") is refused with ErrMalformed, because a verifier that guesses could
// end up checking different values from the ones that were signed.
func parseToken(token string) (parsedToken, error) {
	if len(token) > MaxTokenLength {
		return parsedToken{}, fmt.Errorf("%w: %d bytes, longer than %d", ErrMalformed, len(token), MaxTokenLength)
	}
	prefix, rawQuery, ok := strings.Cut(token, "?")
	if !ok {
		return parsedToken{}, fmt.Errorf("%w: no '?' separating endpoint and query", ErrMalformed)
	}
	hostPort, path, _ := strings.Cut(prefix, "/")
	if path != "" {
		return parsedToken{}, fmt.Errorf("%w: path %s, want \"/\" or none", ErrMalformed, quote("/"+path))
	}
	host, port, err := splitEndpoint(hostPort)
	if err != nil {
		return parsedToken{}, fmt.Errorf("%w: endpoint %s is not host:port: %v", ErrMalformed, quote(hostPort), err)
	}

	params := make(map[string]string)
	for _, pair := range strings.Split(rawQuery, "&") {
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		if rawKey == "" {
			return parsedToken{}, fmt.Errorf("%w: empty query parameter name", ErrMalformed)
		}
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return parsedToken{}, fmt.Errorf("%w: bad escaping in parameter name %s", ErrMalformed, quote(rawKey))
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			// The value may be a secret (signature, session token): name only the key.
			return parsedToken{}, fmt.Errorf("%w: bad escaping in the value of %s", ErrMalformed, quote(key))
		}
		if _, dup := params[key]; dup {
			return parsedToken{}, fmt.Errorf("%w: parameter %s appears more than once", ErrMalformed, quote(key))
		}
		params[key] = value
	}
	for _, k := range requiredParams {
		if _, ok := params[k]; !ok {
			return parsedToken{}, fmt.Errorf("%w: missing parameter %s", ErrMalformed, k)
		}
	}
	return parsedToken{hostPort: hostPort, host: host, port: port, params: params}, nil
}

// canonicalHost is the value of the signed "host" header. Signers drop the
// scheme's default port (the SDK signs an https:// URL, so :443) from the
// header while leaving it in the URL, so the verifier must do the same.
func (t parsedToken) canonicalHost() string {
	if t.port == "443" {
		if strings.Contains(t.host, ":") { // IPv6 literal
			return "[" + t.host + "]"
		}
		return t.host
	}
	return t.hostPort
}
