package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// emptyPayloadHash is hex(SHA-256("")): RDS tokens sign an empty GET body.
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// stringToSignInput carries the request-specific parts of the canonical request.
type stringToSignInput struct {
	canonicalHost  string
	canonicalQuery string
}

// canonicalRequest builds the SigV4 canonical request of a pre-signed RDS
// token: method GET, path "/", the canonical query, the single signed header
// host, and the empty payload hash.
func canonicalRequest(in stringToSignInput) string {
	return strings.Join([]string{
		"GET",
		"/",
		in.canonicalQuery,
		"host:" + in.canonicalHost + "\n",
		"host",
		emptyPayloadHash,
	}, "\n")
}

// canonicalQuery encodes every parameter except X-Amz-Signature with
// RFC 3986 escaping and sorts them by encoded key. Keys are unique (parseToken
// refuses duplicates) so no tie-break on values is needed.
func canonicalQuery(params map[string]string) string {
	type kv struct{ k, v string }
	pairs := make([]kv, 0, len(params))
	for k, v := range params {
		if k == paramSignature {
			continue
		}
		pairs = append(pairs, kv{uriEncode(k), uriEncode(v)})
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].k < pairs[j].k })
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// uriEncode percent-encodes every byte except the RFC 3986 unreserved
// characters, with upper-case hex, as SigV4 requires (space is %20, not +).
func uriEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0f])
	}
	return b.String()
}

// signature returns the raw 32-byte SigV4 signature of the canonical request
// built from in, for the given scope and X-Amz-Date.
func signature(secret string, scope credentialScope, amzDate string, in stringToSignInput) []byte {
	crHash := sha256.Sum256([]byte(canonicalRequest(in)))
	stringToSign := Algorithm + "\n" + amzDate + "\n" + scope.String() + "\n" + hex.EncodeToString(crHash[:])

	key := hmacSHA256([]byte("AWS4"+secret), scope.date)
	key = hmacSHA256(key, scope.region)
	key = hmacSHA256(key, scope.service)
	key = hmacSHA256(key, scopeTerminal)
	return hmacSHA256(key, stringToSign)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
