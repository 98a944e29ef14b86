package auroralocal

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"regexp"
	"strings"
)

// Defaults applied by Start to zero-valued Options fields.
const (
	DefaultEndpoint          = "localhost"
	DefaultRegion            = "us-east-1"
	DefaultAccount           = "123456789012"
	DefaultClusterResourceID = "cluster-LOCALSTANDIN0000000000"
	DefaultMasterUser        = "admin"
	// Partition is the AWS partition used in rds-db resource ARNs.
	Partition = "aws"
	// IAMPluginName is the MySQL authentication plugin name Aurora uses for
	// IAM database authentication (CREATE USER ... IDENTIFIED WITH it AS 'RDS').
	IAMPluginName = "AWSAuthenticationPlugin"
	// ServerVersion is what the handshake, VERSION() and @@version report:
	// Aurora MySQL 3 reports a MySQL 8.0.x version.
	ServerVersion = "8.0.39-auroralocal"
)

// Options configures Start. The zero value is usable: it listens on an
// ephemeral port of 127.0.0.1 with endpoint "localhost", region us-east-1,
// a master user "admin" with a random password, TLS required, IAM auth on,
// and no principals (so no IAM login can succeed).
type Options struct {
	// Port to listen on at 127.0.0.1; 0 picks a free ephemeral port. Restart
	// reuses whatever port was bound first.
	Port int
	// Endpoint is the host name clients sign IAM tokens for and verify the
	// TLS certificate against (default "localhost"). The server always
	// listens on 127.0.0.1; the certificate also covers this name.
	Endpoint string
	// Region is the AWS region of the emulated cluster (default us-east-1).
	// A token's credential-scope region must equal it.
	Region string
	// Account is the 12-digit AWS account id used in rds-db resource ARNs
	// (default 123456789012).
	Account string
	// ClusterResourceID is the cluster resource id used in rds-db resource
	// ARNs (default cluster-LOCALSTANDIN0000000000).
	ClusterResourceID string
	// MasterUser is the master user name (default "admin"); it authenticates
	// with mysql_native_password and has every privilege.
	MasterUser string
	// MasterPassword is the master user's password; empty means a random
	// one, readable with Server.MasterPassword.
	MasterPassword string
	// RequireSecureTransport refuses every login over plain TCP with MySQL
	// error 3159, like require_secure_transport=ON. Nil means true (the
	// safer choice; Aurora's parameter group default is OFF). It is a pointer
	// only so that the default can be true.
	RequireSecureTransport *bool
	// IAMAuthDisabled makes logins of AWSAuthenticationPlugin users fail with
	// error 1524, as on a cluster without IAM database authentication
	// enabled. Server.SetIAMAuth changes it at run time.
	IAMAuthDisabled bool
	// Principals are the IAM identities whose access keys may sign tokens.
	Principals []Principal
	// Logger receives login outcomes and lifecycle events; nil discards.
	Logger *slog.Logger
	// Proxy, when set, adds an RDS Proxy endpoint with end-to-end IAM
	// authentication in front of the writer (see ProxyOptions). Default
	// nil: no proxy.
	Proxy *ProxyOptions
	// Reader, when set, adds the cluster's reader endpoint, which refuses
	// writes with 1290 (see ReaderOptions). Default nil: no reader.
	Reader *ReaderOptions
}

// Principal is an IAM identity known to the emulated AWS account.
type Principal struct {
	// ARN identifies the principal in logs and auth events, e.g.
	// arn:aws:iam::123456789012:role/QueryRole or an assumed-role ARN.
	ARN string
	// AccessKeyID and SecretAccessKey are the key pair tokens are signed with.
	AccessKeyID, SecretAccessKey string
	// SessionToken is optional; if set, tokens must carry it as
	// X-Amz-Security-Token (temporary credentials), and if empty tokens must
	// carry none.
	SessionToken string
	// Authorize reports whether the principal may perform action on
	// resource. An error (e.g. a policy Condition it cannot evaluate)
	// refuses the login. Nil Authorize = deny all.
	Authorize func(action, resource string) (bool, error)
}

// Bool returns a pointer to b, for Options.RequireSecureTransport.
func Bool(b bool) *bool { return &b }

var (
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	// hostPattern accepts DNS names; IP literals are checked separately.
	hostPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
	// resourceIDPattern is what RDS resource ids look like (cluster-XXXX).
	resourceIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
)

// normalize fills defaults and validates; it returns a copy so the caller's
// Options (and its Principals slice) are never modified or aliased.
func (o Options) normalize() (Options, error) {
	if o.Port < 0 || o.Port > 65535 {
		return o, fmt.Errorf("auroralocal: Options.Port %d is out of range; want 0 (ephemeral) or 1..65535", o.Port)
	}
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	if net.ParseIP(o.Endpoint) == nil && (!hostPattern.MatchString(o.Endpoint) || len(o.Endpoint) > 253) {
		return o, fmt.Errorf("auroralocal: Options.Endpoint %q is not a host name or IP address (no port, scheme or path)", o.Endpoint)
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if !regionPattern.MatchString(o.Region) {
		return o, fmt.Errorf("auroralocal: Options.Region %q is not an AWS region name like us-east-1", o.Region)
	}
	if o.Account == "" {
		o.Account = DefaultAccount
	}
	if !accountPattern.MatchString(o.Account) {
		return o, fmt.Errorf("auroralocal: Options.Account %q is not a 12-digit AWS account id", o.Account)
	}
	if o.ClusterResourceID == "" {
		o.ClusterResourceID = DefaultClusterResourceID
	}
	if !resourceIDPattern.MatchString(o.ClusterResourceID) {
		return o, fmt.Errorf("auroralocal: Options.ClusterResourceID %q may only contain letters, digits and '-'", o.ClusterResourceID)
	}
	if o.MasterUser == "" {
		o.MasterUser = DefaultMasterUser
	}
	if len(o.MasterUser) > 32 || strings.ContainsAny(o.MasterUser, "'`\"@\\ \t\r\n\x00") {
		return o, fmt.Errorf("auroralocal: Options.MasterUser %q must be 1..32 characters without quotes, '@', '\\' or spaces", o.MasterUser)
	}
	if o.MasterPassword == "" {
		pw, err := randomPassword(24)
		if err != nil {
			return o, fmt.Errorf("auroralocal: generating master password: %w", err)
		}
		o.MasterPassword = pw
	}
	if o.RequireSecureTransport == nil {
		o.RequireSecureTransport = Bool(true)
	} else {
		o.RequireSecureTransport = Bool(*o.RequireSecureTransport)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}

	principals := make([]Principal, len(o.Principals))
	seen := make(map[string]bool, len(o.Principals))
	for i, p := range o.Principals {
		if !strings.HasPrefix(p.ARN, "arn:") {
			return o, fmt.Errorf("auroralocal: Options.Principals[%d].ARN %q does not start with \"arn:\"", i, p.ARN)
		}
		if p.AccessKeyID == "" || strings.ContainsAny(p.AccessKeyID, "/&=?% \t\r\n") {
			return o, fmt.Errorf("auroralocal: Options.Principals[%d] (%s) AccessKeyID %q must be non-empty without '/', '&', '=', '?', '%%' or spaces",
				i, p.ARN, p.AccessKeyID)
		}
		if p.SecretAccessKey == "" {
			return o, fmt.Errorf("auroralocal: Options.Principals[%d] (%s) has an empty SecretAccessKey", i, p.ARN)
		}
		if seen[p.AccessKeyID] {
			return o, fmt.Errorf("auroralocal: Options.Principals[%d] (%s) reuses AccessKeyID %q; access key ids must be unique",
				i, p.ARN, p.AccessKeyID)
		}
		seen[p.AccessKeyID] = true
		principals[i] = p
	}
	o.Principals = principals
	if err := o.normalizeDoors(); err != nil {
		return o, err
	}
	return o, nil
}

// randomPassword returns n characters from an alphabet that needs no quoting
// in a DSN or on a shell command line.
func randomPassword(n int) (string, error) {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}

// errClosed is returned by operations on a server after Close.
var errClosed = errors.New("auroralocal: server is closed")
