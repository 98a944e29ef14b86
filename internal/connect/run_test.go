package connect

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// TestRunExplains: the failures that happen before any server answers.
// (Refused logins and certificates are proven against the stand-in in
// test/connect_test.go.)
func TestRunExplains(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := closed.Addr().String()
	closed.Close()
	keys := credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "secret", "")
	noCreds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("failed to refresh cached credentials, no EC2 IMDS role found")
	})
	for _, tc := range []struct {
		name string
		opts Options
		want error
		text string
	}{
		{"no credentials", Options{Credentials: noCreds}, ErrNoCredentials, "aws sso login"},
		{"nil credentials", Options{}, ErrNoCredentials, "no credentials provider"},
		{"tunnel not up", Options{Credentials: keys, Via: deadPort}, ErrTunnelNotUp, deadPort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Endpoint, tc.opts.User = testEndpoint, "people_ro"
			err := Run(context.Background(), tc.opts)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("err = %v, want %v naming %q", err, tc.want, tc.text)
			}
		})
	}
	if err := Run(context.Background(), Options{Endpoint: testEndpoint, User: "u", Via: deadPort, SSM: true, Credentials: keys}); err == nil || !strings.Contains(err.Error(), "--via and --ssm") {
		t.Errorf("--via with --ssm: %v", err)
	}
}
