package standin

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rdsiam/rdsiam/lambda/dbuser"
)

func TestSecrets(t *testing.T) {
	master := dbuser.MasterSecret{Username: "admin", Password: "pw"}
	const known, other = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:known", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other"
	refuse := func(string) error { return errors.New("role R may not read it") }
	tests := []struct {
		name    string
		s       Secrets
		arn     string
		wantErr string // "" means master is handed out
	}{
		{"known secret", Secrets{Master: master, ARNs: []string{known}}, known, ""},
		{"unknown secret", Secrets{Master: master, ARNs: []string{known}}, other, "not found"},
		{"no ARNs: any secret", Secrets{Master: master}, other, ""},
		{"deleted", Secrets{Master: master, ARNs: []string{known}, Gone: true}, known, "not found"},
		{"caller may not read it", Secrets{Master: master, ARNs: []string{known}, Authorize: refuse}, known, "AccessDeniedException"},
		{"caller may read it", Secrets{Master: master, ARNs: []string{known}, Authorize: func(string) error { return nil }}, known, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.s.MasterSecret(context.Background(), tc.arn)
			if tc.wantErr == "" {
				if err != nil || got != master {
					t.Fatalf("MasterSecret(%s) = %+v, %v; want the master", tc.arn, got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.arn) {
				t.Fatalf("MasterSecret(%s) error = %v, want one naming the ARN and %q", tc.arn, err, tc.wantErr)
			}
			if tc.wantErr == "not found" && !errors.Is(err, dbuser.ErrSecretNotFound) {
				t.Errorf("error %v is not dbuser.ErrSecretNotFound, which the handler's Delete relies on", err)
			}
		})
	}
}

func TestNewKeysAreFreshAndShapedLikeAWS(t *testing.T) {
	a, b := NewKeys("test"), NewKeys("test")
	if a.AccessKeyID == b.AccessKeyID || a.SecretAccessKey == b.SecretAccessKey {
		t.Error("two calls gave the same keys")
	}
	if len(a.AccessKeyID) != 20 || !strings.HasPrefix(a.AccessKeyID, "AKIA") || len(a.SecretAccessKey) != 40 || a.Source != "test" {
		t.Errorf("keys %q/%d characters/%q", a.AccessKeyID, len(a.SecretAccessKey), a.Source)
	}
}

func TestTamperSignature(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"h:3306/?Action=connect&X-Amz-Signature=abc0", "h:3306/?Action=connect&X-Amz-Signature=0bc0"},
		{"h:3306/?X-Amz-Signature=0bc&DBUser=u", "h:3306/?X-Amz-Signature=1bc&DBUser=u"},
		{"h:3306/?Action=connect", "h:3306/?Action=connect"},
		{"h:3306/?X-Amz-Signature=", "h:3306/?X-Amz-Signature="},
	} {
		if got := TamperSignature(tc.in); got != tc.want {
			t.Errorf("TamperSignature(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
