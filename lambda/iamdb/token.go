package iamdb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	// signingService is the SigV4 service name RDS checks IAM auth tokens against.
	signingService = "rds-db"
	// TokenLifetime is how long RDS accepts a token after its signing time.
	// RDS fixes it at 15 minutes; the X-Amz-Expires parameter must say so.
	TokenLifetime = 15 * time.Minute
	// emptyPayloadHash is the SHA-256 of an empty body: a token is a GET
	// request without one.
	emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// BuildToken returns an RDS IAM authentication token for the database user
// user at endpoint ("host:port", no scheme) in region, signed with the
// credentials from creds as of signingTime. RDS accepts the token as the
// user's password for [TokenLifetime] (15 minutes) from signingTime; it is a
// secret for that long and must not be logged.
//
// The token has exactly the form of auth.BuildAuthToken from
// github.com/aws/aws-sdk-go-v2/feature/rds/auth: a SigV4-presigned
// "GET https://host:port?Action=connect&DBUser=user" for service "rds-db"
// with X-Amz-Expires=900, with the scheme removed. Unlike BuildAuthToken it
// takes the signing time as a parameter instead of reading the clock, so
// callers that cache tokens (and tests) control how old a token is.
//
// It returns an error if an argument is empty or malformed or if creds fails
// to produce credentials.
func BuildToken(ctx context.Context, endpoint, region, user string, creds aws.CredentialsProvider, signingTime time.Time) (string, error) {
	token, _, err := buildToken(ctx, endpoint, region, user, creds, signingTime)
	return token, err
}

// buildToken is BuildToken that also returns the credentials it signed with,
// so the token cache can stop reusing a token whose credentials expire.
func buildToken(ctx context.Context, endpoint, region, user string, creds aws.CredentialsProvider, signingTime time.Time) (string, aws.Credentials, error) {
	if err := checkEndpoint(endpoint); err != nil {
		return "", aws.Credentials{}, err
	}
	switch {
	case region == "":
		return "", aws.Credentials{}, errors.New("iamdb: build token: region is empty")
	case user == "":
		return "", aws.Credentials{}, errors.New("iamdb: build token: user is empty")
	case creds == nil:
		return "", aws.Credentials{}, errors.New("iamdb: build token: credentials provider is nil")
	case signingTime.IsZero():
		return "", aws.Credentials{}, errors.New("iamdb: build token: signing time is the zero time")
	}

	// Same request shape as auth.BuildAuthToken, including the empty path,
	// so tokens from both are interchangeable byte for byte.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+endpoint, nil)
	if err != nil {
		return "", aws.Credentials{}, fmt.Errorf("iamdb: build token for endpoint %q: %w", endpoint, err)
	}
	q := url.Values{}
	q.Set("Action", "connect")
	q.Set("DBUser", user)
	q.Set("X-Amz-Expires", strconv.Itoa(int(TokenLifetime/time.Second)))
	req.URL.RawQuery = q.Encode()

	c, err := creds.Retrieve(ctx)
	if err != nil {
		// The provider's error describes the source (env, IMDS, ...) and
		// carries no secret material.
		return "", aws.Credentials{}, fmt.Errorf("iamdb: build token: retrieve AWS credentials: %w", err)
	}
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, c, req, emptyPayloadHash, signingService, region, signingTime.UTC())
	if err != nil {
		return "", aws.Credentials{}, fmt.Errorf("iamdb: build token: presign: %w", err)
	}
	token, ok := strings.CutPrefix(signed, "https://")
	if !ok {
		// Unreachable with the request above; guarded so a signer change
		// cannot silently produce a token RDS rejects.
		return "", aws.Credentials{}, errors.New("iamdb: build token: presigned URL does not start with https://")
	}
	return token, c, nil
}

// checkEndpoint accepts "host:port" with a numeric port in 1..65535.
func checkEndpoint(endpoint string) error {
	if strings.Contains(endpoint, "://") {
		return fmt.Errorf("iamdb: build token: endpoint %q has a scheme; want host:port", endpoint)
	}
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		return fmt.Errorf("iamdb: build token: endpoint %q is not host:port: %w", endpoint, err)
	}
	if host == "" {
		return fmt.Errorf("iamdb: build token: endpoint %q has an empty host; want host:port", endpoint)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("iamdb: build token: endpoint %q has port %q; want a number 1..65535", endpoint, port)
	}
	return nil
}
