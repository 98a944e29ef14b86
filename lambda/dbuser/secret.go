package dbuser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// MasterSecret holds the cluster's master credentials, as stored in the
// secret RDS or CDK generates for the cluster.
//
// Formatting a MasterSecret with fmt (any verb), slog or encoding/json never
// shows the password.
type MasterSecret struct {
	Username string
	Password string `json:"-"`
	Host     string // as stored in the secret; the handler dials Endpoint instead
	Port     int    // as stored in the secret; 0 if absent
}

// Format prints the secret with the password redacted, whatever the verb, so
// a stray fmt.Printf("%v"/"%+v"/"%#v"/"%s", s) cannot leak it.
func (m MasterSecret) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, m.String())
}

// String returns the secret with the password redacted.
func (m MasterSecret) String() string {
	return fmt.Sprintf("MasterSecret{Username:%q Password:[redacted] Host:%q Port:%d}", m.Username, m.Host, m.Port)
}

// LogValue logs the secret without the password.
func (m MasterSecret) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("username", m.Username),
		slog.String("host", m.Host),
		slog.Int("port", m.Port),
	)
}

// SecretSource reads the master credentials of a cluster.
type SecretSource interface {
	// MasterSecret returns the credentials in the secret arn. The error
	// wraps ErrSecretNotFound if the secret does not exist (any more).
	// Errors never contain the secret's value.
	MasterSecret(ctx context.Context, arn string) (MasterSecret, error)
}

// ErrSecretNotFound is wrapped by SecretSource errors when the secret does
// not exist or is scheduled for deletion. A Delete treats it as "the cluster
// is gone" and succeeds.
var ErrSecretNotFound = errors.New("secret not found")

// SecretsManagerAPI is the part of *secretsmanager.Client the handler uses.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretsManagerSource returns a SecretSource that reads the secret with
// client (normally a *secretsmanager.Client) and parses its SecretString as
// the JSON RDS and CDK store: {"username", "password", "host", "port", ...}.
// username and password are required; port may be a number or a string.
func SecretsManagerSource(client SecretsManagerAPI) SecretSource {
	return secretsManagerSource{client: client}
}

type secretsManagerSource struct{ client SecretsManagerAPI }

func (s secretsManagerSource) MasterSecret(ctx context.Context, arn string) (MasterSecret, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		if secretGone(err) {
			return MasterSecret{}, fmt.Errorf("read master secret %s: %w: %w", arn, ErrSecretNotFound, err)
		}
		return MasterSecret{}, fmt.Errorf("read master secret %s: %w", arn, err)
	}
	if out.SecretString == nil {
		return MasterSecret{}, fmt.Errorf("master secret %s has no SecretString (binary secrets are not supported)", arn)
	}
	m, err := parseMasterSecret(*out.SecretString)
	if err != nil {
		return MasterSecret{}, fmt.Errorf("master secret %s: %w", arn, err)
	}
	return m, nil
}

// secretGone reports whether err says the secret does not exist or is
// scheduled for deletion. Secrets Manager reports the latter only as an
// InvalidRequestException with a message, hence the text match.
func secretGone(err error) bool {
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return true
	}
	var ir *types.InvalidRequestException
	return errors.As(err, &ir) && strings.Contains(strings.ToLower(ir.ErrorMessage()), "marked for deletion")
}

// parseMasterSecret decodes the secret JSON. Its errors name the field that
// is wrong but never repeat any part of the value: even encoding/json's
// syntax errors quote characters of the input, so they are not wrapped.
func parseMasterSecret(s string) (MasterSecret, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &fields); err != nil {
		return MasterSecret{}, errors.New("secret value is not a JSON object")
	}
	var m MasterSecret
	str := func(name string, dst *string, required bool) error {
		raw, ok := fields[name]
		if !ok || string(raw) == "null" {
			if required {
				return fmt.Errorf("secret JSON has no %q field", name)
			}
			return nil
		}
		if json.Unmarshal(raw, dst) != nil {
			return fmt.Errorf("secret JSON field %q is not a string", name)
		}
		if required && *dst == "" {
			return fmt.Errorf("secret JSON field %q is empty", name)
		}
		return nil
	}
	if err := errors.Join(
		str("username", &m.Username, true),
		str("password", &m.Password, true),
		str("host", &m.Host, false),
	); err != nil {
		return MasterSecret{}, err
	}
	if raw, ok := fields["port"]; ok && string(raw) != "null" {
		var n json.Number
		var text string
		switch {
		case json.Unmarshal(raw, &n) == nil:
		case json.Unmarshal(raw, &text) == nil:
			n = json.Number(text)
		}
		port, err := strconv.Atoi(n.String())
		if err != nil || port < 1 || port > 65535 {
			return MasterSecret{}, errors.New(`secret JSON field "port" is not a port number`)
		}
		m.Port = port
	}
	return m, nil
}
