package queryfn

import (
	"errors"
	"fmt"
	"strconv"

	"rdsiam/lambda/iamdb"
)

// Environment variables read by [ConfigFromEnv].
const (
	EnvEndpoint = "DB_ENDPOINT" // writer endpoint host name, no port
	EnvPort     = "DB_PORT"     // optional, default 3306
	EnvUser     = "DB_USER"     // IAM-authenticated MySQL user
	EnvDatabase = "DB_NAME"     // default database holding the items table
	EnvRegion   = "DB_REGION"   // AWS region of the cluster
)

// envForField maps the iamdb.Config fields read from the environment to
// their variables, so validation errors name what the operator set.
var envForField = map[string]string{
	"Host":     EnvEndpoint,
	"Port":     EnvPort,
	"User":     EnvUser,
	"Database": EnvDatabase,
	"Region":   EnvRegion,
}

// ConfigFromEnv builds the database part of an iamdb.Config from the
// environment, read through getenv (os.Getenv in production). DB_ENDPOINT,
// DB_USER, DB_NAME and DB_REGION are required; DB_PORT defaults to 3306.
// The result has no Credentials: the caller adds them. Other fields keep
// iamdb's defaults.
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
