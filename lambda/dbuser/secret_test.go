package dbuser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// testPassword is distinctive so a leak anywhere is easy to find.
const testPassword = "pw-S3cr3t-9f8e7d6c"

// fakeSecretsManager returns a canned GetSecretValue answer and records the
// requested id.
type fakeSecretsManager struct {
	secret *string
	err    error
	gotID  string
}

func (f *fakeSecretsManager) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.gotID = aws.ToString(in.SecretId)
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: f.secret}, nil
}

func TestSecretsManagerSource(t *testing.T) {
	tests := []struct {
		name     string
		api      *fakeSecretsManager
		want     MasterSecret
		wantErr  string // "" means success
		notFound bool
	}{
		{
			name: "RDS secret",
			api: &fakeSecretsManager{secret: aws.String(`{"username":"admin","password":"` + testPassword +
				`","host":"db.example.com","port":3306,"engine":"mysql","dbClusterIdentifier":"c"}`)},
			want: MasterSecret{Username: "admin", Password: testPassword, Host: "db.example.com", Port: 3306},
		},
		{
			name: "port as string, no host",
			api:  &fakeSecretsManager{secret: aws.String(`{"username":"admin","password":"p","port":"3307"}`)},
			want: MasterSecret{Username: "admin", Password: "p", Port: 3307},
		},
		{
			name:     "not found",
			api:      &fakeSecretsManager{err: &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret.")}},
			wantErr:  "secret not found",
			notFound: true,
		},
		{
			name:     "scheduled for deletion",
			api:      &fakeSecretsManager{err: &types.InvalidRequestException{Message: aws.String("You can't perform this operation on the secret because it was marked for deletion.")}},
			wantErr:  "secret not found",
			notFound: true,
		},
		{
			name:    "other invalid request",
			api:     &fakeSecretsManager{err: &types.InvalidRequestException{Message: aws.String("something else")}},
			wantErr: "something else",
		},
		{
			name:    "access denied",
			api:     &fakeSecretsManager{err: errors.New("AccessDeniedException: not authorized")},
			wantErr: "not authorized",
		},
		{
			name:    "binary secret",
			api:     &fakeSecretsManager{},
			wantErr: "no SecretString",
		},
		{
			name:    "not JSON",
			api:     &fakeSecretsManager{secret: aws.String(testPassword)},
			wantErr: "not a JSON object",
		},
		{
			name:    "truncated JSON",
			api:     &fakeSecretsManager{secret: aws.String(`{"username":"admin","password":"` + testPassword)},
			wantErr: "not a JSON object",
		},
		{
			name:    "no password",
			api:     &fakeSecretsManager{secret: aws.String(`{"username":"admin"}`)},
			wantErr: `no "password" field`,
		},
		{
			name:    "password not a string",
			api:     &fakeSecretsManager{secret: aws.String(`{"username":"admin","password":12345}`)},
			wantErr: `"password" is not a string`,
		},
		{
			name:    "bad port",
			api:     &fakeSecretsManager{secret: aws.String(`{"username":"admin","password":"` + testPassword + `","port":"` + testPassword + `"}`)},
			wantErr: `"port" is not a port number`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SecretsManagerSource(tt.api).MasterSecret(context.Background(), testSecretArn)
			if tt.api.gotID != testSecretArn {
				t.Errorf("requested secret %q, want %q", tt.api.gotID, testSecretArn)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got != tt.want {
					t.Errorf("got %v, want %v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %v, want error containing %q", got, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), testSecretArn) {
				t.Errorf("error %q does not contain %q and the ARN", err, tt.wantErr)
			}
			if errors.Is(err, ErrSecretNotFound) != tt.notFound {
				t.Errorf("errors.Is(err, ErrSecretNotFound) = %v, want %v", !tt.notFound, tt.notFound)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error leaks the secret value: %q", err)
			}
		})
	}
}

// However a MasterSecret is printed, the password does not show.
func TestMasterSecretRedacted(t *testing.T) {
	s := MasterSecret{Username: "admin", Password: testPassword, Host: "h", Port: 1}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, &s), fmt.Sprintf(verb, []MasterSecret{s}))
	}
	outputs = append(outputs, s.String(), fmt.Sprint(s), fmt.Sprintln(s))
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "secret", s)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "secret", s)
	outputs = append(outputs, buf.String())
	for _, out := range outputs {
		if strings.Contains(out, testPassword) {
			t.Errorf("password leaked: %s", out)
		}
	}
	if !strings.Contains(s.String(), "admin") {
		t.Errorf("String() = %q lost the user name, which is useful in logs", s.String())
	}
}
