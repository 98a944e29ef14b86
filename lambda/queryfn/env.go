package queryfn

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
)

// Environment variables read by [ConfigFromEnv].
const (
	EnvEndpoint = "DB_ENDPOINT" // writer endpoint host name, no port
	EnvPort     = "DB_PORT"     // optional, default 3306
	EnvUser     = "DB_USER"     // IAM-authenticated MySQL user
	EnvDatabase = "DB_NAME"     // default database holding the items table
	EnvRegion   = "DB_REGION"   // AWS region of the cluster

	// Optional connection-discipline knobs; unset keeps iamdb's default.
	EnvMaxConns                 = "DB_MAX_CONNS"                   // iamdb.Config.MaxOpenConns, 1..100
	EnvMaxNewConnsPerSecond     = "DB_MAX_NEW_CONNS_PER_SECOND"    // iamdb.Config.MaxNewConnsPerSecond, >0..200
	EnvNewConnBurst             = "DB_NEW_CONN_BURST"              // iamdb.Config.NewConnBurst, 1..100
	EnvAccessDeniedRetrySeconds = "DB_ACCESS_DENIED_RETRY_SECONDS" // iamdb.Config.AccessDeniedRetryFor, 0 (off)..300
	EnvReadTimeoutSeconds       = "DB_READ_TIMEOUT_SECONDS"        // iamdb.Config.ReadTimeout, 1..900
	EnvDialTimeoutSeconds       = "DB_DIAL_TIMEOUT_SECONDS"        // iamdb.Config.DialTimeout, 1..60
)

// optionalVar is one optional numeric variable: what it accepts, and how to
// put a value into the Config. set returns false for a value out of range.
type optionalVar struct {
	name string
	want string
	set  func(v string, c *iamdb.Config) bool
}

// optionalVars are read in this order; each names its range and default in
// want, which the error for a bad value repeats.
var optionalVars = []optionalVar{
	{EnvMaxConns, fmt.Sprintf("an integer 1..%d (unset means %d)", iamdb.MaxOpenConnsLimit, iamdb.DefaultMaxOpenConns),
		func(v string, c *iamdb.Config) bool {
			n, err := strconv.Atoi(v)
			c.MaxOpenConns = n
			return err == nil && n >= 1 && n <= iamdb.MaxOpenConnsLimit
		}},
	{EnvMaxNewConnsPerSecond, fmt.Sprintf("a number more than 0 and at most %d, e.g. 0.5 or 10 (unset means %d)",
		iamdb.MaxNewConnsPerSecondLimit, iamdb.DefaultMaxNewConnsPerSecond),
		func(v string, c *iamdb.Config) bool {
			r, err := strconv.ParseFloat(v, 64)
			c.MaxNewConnsPerSecond = r
			return err == nil && r > 0 && r <= iamdb.MaxNewConnsPerSecondLimit
		}},
	{EnvNewConnBurst, fmt.Sprintf("an integer 1..%d (unset means %d)", iamdb.MaxOpenConnsLimit, iamdb.DefaultNewConnBurst),
		func(v string, c *iamdb.Config) bool {
			n, err := strconv.Atoi(v)
			c.NewConnBurst = n
			return err == nil && n >= 1 && n <= iamdb.MaxOpenConnsLimit
		}},
	{EnvAccessDeniedRetrySeconds, fmt.Sprintf("an integer 0..%d; 0 turns retrying off (unset means %d)",
		int(iamdb.MaxAccessDeniedRetryFor/time.Second), int(iamdb.DefaultAccessDeniedRetryFor/time.Second)),
		func(v string, c *iamdb.Config) bool {
			d, ok := seconds(v, 0, iamdb.MaxAccessDeniedRetryFor)
			c.AccessDeniedRetryFor = d
			if ok && d == 0 {
				c.AccessDeniedRetryFor = iamdb.NoAccessDeniedRetry
			}
			return ok
		}},
	timeoutVar(EnvReadTimeoutSeconds, iamdb.MaxReadTimeout, iamdb.DefaultReadTimeout, "",
		func(c *iamdb.Config) *time.Duration { return &c.ReadTimeout }),
	timeoutVar(EnvDialTimeoutSeconds, iamdb.MaxDialTimeout, iamdb.DefaultDialTimeout, "; at least 30 where the cluster can pause",
		func(c *iamdb.Config) *time.Duration { return &c.DialTimeout }),
}

// timeoutVar is a variable of whole seconds, 1 to hi, for the Config
// duration field returns.
func timeoutVar(name string, hi, def time.Duration, note string, field func(*iamdb.Config) *time.Duration) optionalVar {
	return optionalVar{name, fmt.Sprintf("an integer 1..%d (unset means %d%s)", int(hi/time.Second), int(def/time.Second), note),
		func(v string, c *iamdb.Config) bool {
			d, ok := seconds(v, 1, hi)
			*field(c) = d
			return ok
		}}
}

// seconds parses a whole number of seconds, at least lo and at most hi.
// The range is checked before the conversion, so a huge number cannot
// overflow time.Duration into an allowed value.
func seconds(v string, lo int, hi time.Duration) (time.Duration, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > int(hi/time.Second) {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// envForField maps the iamdb.Config fields read from the environment to
// their variables, so validation errors name what the operator set.
var envForField = map[string]string{
	"Host":                 EnvEndpoint,
	"Port":                 EnvPort,
	"User":                 EnvUser,
	"Database":             EnvDatabase,
	"Region":               EnvRegion,
	"MaxOpenConns":         EnvMaxConns,
	"MaxNewConnsPerSecond": EnvMaxNewConnsPerSecond,
	"NewConnBurst":         EnvNewConnBurst,
	"AccessDeniedRetryFor": EnvAccessDeniedRetrySeconds,
	"ReadTimeout":          EnvReadTimeoutSeconds,
	"DialTimeout":          EnvDialTimeoutSeconds,
}

// ConfigFromEnv builds the database part of an iamdb.Config from the
// environment, read through getenv (os.Getenv in production). DB_ENDPOINT,
// DB_USER, DB_NAME and DB_REGION are required; DB_PORT defaults to 3306.
// DB_MAX_CONNS, DB_MAX_NEW_CONNS_PER_SECOND, DB_NEW_CONN_BURST,
// DB_ACCESS_DENIED_RETRY_SECONDS, DB_READ_TIMEOUT_SECONDS and DB_DIAL_TIMEOUT_SECONDS are optional; unset (or empty) keeps
// iamdb's default. The result has no Credentials: the caller adds them.
// Other fields keep iamdb's defaults.
//
// It returns every problem at once, joined, each naming the variable, its
// value and what is allowed. The variables hold no secrets, so echoing
// their values is safe.
func ConfigFromEnv(getenv func(string) string) (iamdb.Config, error) {
	if getenv == nil {
		return iamdb.Config{}, errors.New("queryfn: ConfigFromEnv needs a getenv function, e.g. os.Getenv")
	}
	var errs []error
	required := func(name, what string) string {
		v := getenv(name)
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is not set; want %s", name, what))
		}
		return v
	}
	cfg := iamdb.Config{
		Host:     required(EnvEndpoint, `the cluster writer endpoint host name, e.g. "db.cluster-abc.eu-west-1.rds.amazonaws.com"`),
		User:     required(EnvUser, "the MySQL user created WITH AWSAuthenticationPlugin"),
		Database: required(EnvDatabase, "the database that holds the items table"),
		Region:   required(EnvRegion, `the cluster's AWS region, e.g. "eu-west-1"`),
	}
	if v := getenv(EnvPort); v != "" {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			errs = append(errs, fmt.Errorf("%s=%q: want an integer 1..65535 (unset means 3306)", EnvPort, v))
		} else {
			cfg.Port = port
		}
	}
	for _, ov := range optionalVars {
		if v := getenv(ov.name); v != "" && !ov.set(v, &cfg) {
			errs = append(errs, fmt.Errorf("%s=%q: want %s", ov.name, v, ov.want))
		}
	}
	if len(errs) > 0 {
		return iamdb.Config{}, fmt.Errorf("queryfn: environment: %w", errors.Join(errs...))
	}

	// Everything is present; let iamdb judge the values, but report its
	// complaints in terms of the variables. Fields not set from the
	// environment (Credentials) are the caller's to fill and are skipped.
	for _, e := range joined(cfg.Validate()) {
		var fe *iamdb.FieldError
		if !errors.As(e, &fe) {
			errs = append(errs, e)
			continue
		}
		if env, ok := envForField[fe.Field]; ok {
			errs = append(errs, fmt.Errorf("%s=%q: %s", env, getenv(env), fe.Allowed))
		}
	}
	if len(errs) > 0 {
		return iamdb.Config{}, fmt.Errorf("queryfn: environment: %w", errors.Join(errs...))
	}
	return cfg, nil
}

// joined returns the errors inside an errors.Join result.
func joined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
