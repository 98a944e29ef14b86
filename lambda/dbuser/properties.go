package dbuser

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	usersql "github.com/rdsiam/rdsiam/bootstrap-sql"
	"github.com/rdsiam/rdsiam/lambda/sqlident"
	"github.com/rdsiam/rdsiam/lambda/userprops"
)

// Property names in ResourceProperties. CloudFormation property names are
// case-sensitive, and so is this handler.
// The names themselves live in package userprops, shared with the construct.
const (
	PropSecretArn             = userprops.SecretArn
	PropEndpoint              = userprops.Endpoint
	PropPort                  = userprops.Port
	PropUserName              = userprops.UserName
	PropDatabaseName          = userprops.DatabaseName
	PropPrivileges            = userprops.Privileges
	PropRetainOnDelete        = userprops.RetainOnDelete
	PropConnectTimeoutSeconds = userprops.ConnectTimeoutSeconds
	PropWaitSeconds           = userprops.WaitSeconds
	PropExistingUser          = userprops.ExistingUser
	PropTableGrants           = userprops.TableGrants
	// propServiceToken is added by CloudFormation to every custom resource.
	propServiceToken = "ServiceToken"
	// propLegacySampleTable ("true"/"false") asked a user's resource to
	// create the sample table, before that table became a resource of its
	// own (userprops.SampleTableResourceType). Accepted and ignored, so the
	// rollback of an upgrade (which sends the old properties) still
	// succeeds; the construct no longer writes it.
	propLegacySampleTable = "SampleTable"
)

// knownProperties are all properties the handler accepts, sorted for
// error messages.
var knownProperties = []string{
	PropConnectTimeoutSeconds, PropDatabaseName, PropEndpoint, PropExistingUser, PropPort, PropPrivileges,
	PropRetainOnDelete, propLegacySampleTable, PropSecretArn, propServiceToken, PropTableGrants, PropUserName, PropWaitSeconds,
}

// Limits of the optional numeric properties.
const (
	DefaultPort           = 3306
	maxConnectTimeoutSecs = 120
	maxWaitSecs           = 900 // the longest a Lambda function can run
)

// Properties are the parsed and validated ResourceProperties.
type Properties struct {
	SecretArn string // ARN of the master user secret
	Endpoint  string // cluster writer host name (or IP address)
	Port      int    // 1-65535; DefaultPort if not given
	// Spec is the user to manage, built from UserName, DatabaseName,
	// Privileges and TableGrants, already normalized by
	// usersql.Spec.Normalize.
	Spec           usersql.Spec
	RetainOnDelete bool // keep the user when the resource is deleted
	// ExistingUser is what to do with an account this resource did not
	// create: one of userprops.ExistingUserValues, default refuse.
	ExistingUser   string
	ConnectTimeout time.Duration // per connection attempt; 0 means the default
	Wait           time.Duration // wait for the database; 0 means Handler.WaitFor
}

// PropertyError reports a property that is missing, has the wrong type or
// an invalid value. Err names the value and what is allowed.
type PropertyError struct {
	Property string
	Err      error
}

// Error returns "property <name>: <problem>".
func (e *PropertyError) Error() string { return "property " + e.Property + ": " + e.Err.Error() }

// Unwrap returns the underlying problem, for example a
// *sqlident.InvalidError for a bad user name.
func (e *PropertyError) Unwrap() error { return e.Err }

func propErr(prop, format string, args ...any) error {
	return &PropertyError{Property: prop, Err: fmt.Errorf(format, args...)}
}

// ParseProperties validates CloudFormation ResourceProperties and returns
// them parsed.
//
// Required: SecretArn (a Secrets Manager secret ARN), Endpoint (host name or
// IP address, without port), UserName, DatabaseName, and Privileges (a list
// of strings) or TableGrants (a list of {"Table": name, "Privileges": [...]}
// objects), or both. Optional: Port (default 3306), RetainOnDelete ("true"/"false",
// default false), ConnectTimeoutSeconds (1-120), WaitSeconds (1-900),
// ExistingUser (refuse, adopt, adopt-and-drop; default refuse).
// CloudFormation delivers every scalar as a string; numbers and booleans are
// accepted too. ServiceToken is ignored; any other property is an error.
//
// The error joins one *PropertyError per bad property, each naming the
// property, the value and what is allowed.
func ParseProperties(props map[string]any) (Properties, error) {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var unknown []string
	for k := range props {
		if !slices.Contains(knownProperties, k) {
			unknown = append(unknown, propertyName(k))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		add(&PropertyError{Property: strings.Join(unknown, ", "), Err: fmt.Errorf(
			"unknown property (allowed: %s)", strings.Join(knownProperties, ", "))})
	}

	var p Properties
	var err error
	p.SecretArn, err = requiredString(props, PropSecretArn)
	add(err)
	if err == nil {
		add(checkSecretArn(p.SecretArn))
	}
	p.Endpoint, err = requiredString(props, PropEndpoint)
	add(err)
	if err == nil {
		add(checkEndpoint(p.Endpoint))
	}
	p.Port, err = optionalInt(props, PropPort, DefaultPort, 1, math.MaxUint16)
	add(err)
	var connectSecs, waitSecs int
	connectSecs, err = optionalInt(props, PropConnectTimeoutSeconds, 0, 1, maxConnectTimeoutSecs)
	add(err)
	p.ConnectTimeout = time.Duration(connectSecs) * time.Second
	waitSecs, err = optionalInt(props, PropWaitSeconds, 0, 1, maxWaitSecs)
	add(err)
	p.Wait = time.Duration(waitSecs) * time.Second
	p.RetainOnDelete, err = optionalBool(props, PropRetainOnDelete)
	add(err)
	p.ExistingUser, err = optionalEnum(props, PropExistingUser, userprops.ExistingUserValues())
	add(err)
	_, err = optionalBool(props, propLegacySampleTable)
	add(err)

	user, err := requiredString(props, PropUserName)
	add(err)
	if err == nil {
		add(wrapProp(PropUserName, sqlident.ValidateUserName(user)))
	}
	db, err := requiredString(props, PropDatabaseName)
	add(err)
	if err == nil {
		add(wrapProp(PropDatabaseName, sqlident.ValidateDatabaseName(db)))
	}
	tables, err := tableGrantList(props, PropTableGrants)
	add(err)
	if err == nil {
		tables, err = sqlident.NormalizeTableGrants(tables)
		add(wrapProp(PropTableGrants, err))
	}
	var privs []string
	switch _, given := props[PropPrivileges]; {
	case !given && len(tables) == 0:
		add(propErr(PropPrivileges, "missing (required unless %s is given; a list of privilege names)", PropTableGrants))
	case given:
		privs, err = stringList(props, PropPrivileges)
		add(err)
		if err == nil && (len(privs) > 0 || len(tables) == 0) {
			privs, err = sqlident.NormalizePrivileges(privs)
			add(wrapProp(PropPrivileges, err))
		}
	}
	if len(errs) > 0 {
		return Properties{}, errors.Join(errs...)
	}
	p.Spec = usersql.Spec{User: user, Database: db, Privileges: privs, Tables: tables}
	return p, nil
}

// tableGrantList accepts an absent property (no table grants) or a JSON
// list of objects with exactly the keys Table (a string) and Privileges (a
// list of strings). Values are validated by the caller.
func tableGrantList(props map[string]any, name string) ([]sqlident.TableGrant, error) {
	v, ok := props[name]
	if !ok {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, propErr(name, "%s is not a list of {%q: table, %q: [privileges]} objects",
			describe(v), userprops.TableGrantTable, userprops.TableGrantPrivileges)
	}
	out := make([]sqlident.TableGrant, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, propErr(name, "element %d is %s, not an object with keys %s and %s",
				i, describe(e), userprops.TableGrantTable, userprops.TableGrantPrivileges)
		}
		for k := range m {
			if k != userprops.TableGrantTable && k != userprops.TableGrantPrivileges {
				return nil, propErr(name, "element %d: unknown key %s (allowed: %s, %s)",
					i, propertyName(k), userprops.TableGrantTable, userprops.TableGrantPrivileges)
			}
		}
		table, err := requiredString(m, userprops.TableGrantTable)
		if err != nil {
			return nil, propErr(name, "element %d: %w", i, err)
		}
		privs, err := stringList(m, userprops.TableGrantPrivileges)
		if err != nil {
			return nil, propErr(name, "element %d (table %s): %w", i, describe(table), err)
		}
		out[i] = sqlident.TableGrant{Table: table, Privileges: privs}
	}
	return out, nil
}

// plainPropertyName is a property name that reads unambiguously in an
// error message as it is.
var plainPropertyName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// propertyName shows an unknown property name in an error: as it is when
// plain, otherwise quoted and shortened, so that an empty name, a name with
// spaces or control characters, or a huge one is still visible and cannot
// garble the message.
func propertyName(k string) string {
	if plainPropertyName.MatchString(k) {
		return k
	}
	if len(k) > 64 {
		return strconv.Quote(k[:64]) + "..."
	}
	return strconv.Quote(k)
}

func wrapProp(prop string, err error) error {
	if err == nil {
		return nil
	}
	return &PropertyError{Property: prop, Err: err}
}

// describe shows a property value in an error: strings quoted (and cut if
// long), other JSON types by kind. Property values are configuration, never
// secrets, but they can be long.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if len(v) > 80 {
			return strconv.Quote(v[:80]) + "..."
		}
		return strconv.Quote(v)
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case float64, json.Number, int, int64:
		return fmt.Sprintf("number %v", v)
	case []any, []string:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

func requiredString(props map[string]any, name string) (string, error) {
	v, ok := props[name]
	if !ok {
		return "", propErr(name, "missing (required)")
	}
	s, ok := v.(string)
	if !ok {
		return "", propErr(name, "%s is not a string", describe(v))
	}
	if s == "" {
		return "", propErr(name, "is empty (required)")
	}
	return s, nil
}

// optionalInt parses a whole number given as a string or a JSON number, or
// returns def if the property is absent.
func optionalInt(props map[string]any, name string, def, lo, hi int) (int, error) {
	v, ok := props[name]
	if !ok {
		return def, nil
	}
	var n int64
	var err error
	switch t := v.(type) {
	case string:
		n, err = strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	case float64:
		if t != math.Trunc(t) || math.Abs(t) > math.MaxInt32 {
			err = errors.New("not a whole number")
		}
		n = int64(t)
	case json.Number:
		n, err = t.Int64()
	case int:
		n = int64(t)
	case int64:
		n = t
	default:
		err = errors.New("wrong type")
	}
	if err != nil {
		return 0, propErr(name, "%s is not a whole number (allowed: %d-%d)", describe(v), lo, hi)
	}
	if n < int64(lo) || n > int64(hi) {
		return 0, propErr(name, "%s is out of range (allowed: %d-%d)", describe(v), lo, hi)
	}
	return int(n), nil
}

// optionalBool accepts "true"/"false" in any case, or a JSON boolean;
// absent means false.
func optionalBool(props map[string]any, name string) (bool, error) {
	v, ok := props[name]
	if !ok {
		return false, nil
	}
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, propErr(name, `%s is not a boolean (allowed: "true", "false")`, describe(v))
}

// optionalEnum accepts one of allowed (exactly, as CloudFormation property
// values are case-sensitive); absent means allowed[0].
func optionalEnum(props map[string]any, name string, allowed []string) (string, error) {
	v, ok := props[name]
	if !ok {
		return allowed[0], nil
	}
	if s, isString := v.(string); isString && slices.Contains(allowed, s) {
		return s, nil
	}
	return "", propErr(name, "%s is not allowed (allowed: %s)", describe(v), strings.Join(allowed, ", "))
}

// stringList accepts a JSON list of strings.
func stringList(props map[string]any, name string) ([]string, error) {
	v, ok := props[name]
	if !ok {
		return nil, propErr(name, "missing (required; a list of privilege names)")
	}
	switch t := v.(type) {
	case []string:
		return t, nil
	case []any:
		out := make([]string, len(t))
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, propErr(name, "element %d is %s, not a string", i, describe(e))
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, propErr(name, "%s is not a list of strings", describe(v))
}

// secretArnRE matches Secrets Manager secret ARNs in every AWS partition.
// secretArnRE allows "!" because RDS names the secrets it manages for a
// cluster "rds!cluster-<uuid>" (ManageMasterUserPassword).
var secretArnRE = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@!-]+$`)

func checkSecretArn(arn string) error {
	if !secretArnRE.MatchString(arn) {
		return propErr(PropSecretArn, "%s is not a secret ARN (allowed: arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)", describe(arn))
	}
	return nil
}

// hostLabelRE is one DNS label: letters, digits, inner hyphens.
var hostLabelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// checkEndpoint accepts a DNS host name or an IP address. It refuses ports,
// schemes and paths, which would otherwise surface later as a confusing TLS
// or dial error.
func checkEndpoint(host string) error {
	if net.ParseIP(host) != nil {
		return nil
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	ok := len(host) <= 253
	for _, l := range labels {
		ok = ok && hostLabelRE.MatchString(l)
	}
	if !ok {
		return propErr(PropEndpoint, "%s is not a host name (allowed: a DNS name such as the cluster endpoint, or an IP address; no port or scheme)", describe(host))
	}
	return nil
}

// oldSpec extracts the previous user from OldResourceProperties for an
// Update, or returns the zero Spec if it cannot be used. The zero Spec makes
// usersql.Update build the user from scratch, which is also what is
// needed when the cluster itself changed (different endpoint or port): the
// user does not exist there yet.
func oldSpec(old map[string]any, cur Properties) usersql.Spec {
	str := func(name string) string {
		s, _ := old[name].(string)
		return s
	}
	port, err := optionalInt(old, PropPort, DefaultPort, 1, math.MaxUint16)
	if err != nil || port != cur.Port || !strings.EqualFold(str(PropEndpoint), cur.Endpoint) {
		return usersql.Spec{}
	}
	tables, err := tableGrantList(old, PropTableGrants)
	if err != nil {
		return usersql.Spec{}
	}
	var privs []string
	if _, given := old[PropPrivileges]; given || len(tables) == 0 {
		if privs, err = stringList(old, PropPrivileges); err != nil {
			return usersql.Spec{}
		}
	}
	return usersql.Spec{User: str(PropUserName), Database: str(PropDatabaseName), Privileges: privs, Tables: tables}
}
