package iamdb_test

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/rdsiam/rdsiam/lambda/iamdb"
	"github.com/rdsiam/rdsiam/lambda/queryfn"
)

// Your own function's code: open the pool once per container, outside the
// handler. Every new connection signs a fresh token with the function's
// role (reused for a burst within 10 minutes, never past its 15) and
// verifies the server against the embedded RDS CA bundle. The variables
// are the ones stacks.DatabaseUser.Environment sets. (Compiled, not run:
// it needs a cluster.)
func ExampleOpen() {
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx) // the function's role; no network call in Lambda
	if err != nil {
		log.Fatal(err)
	}
	db, err := iamdb.Open(iamdb.Config{
		Host:        os.Getenv(queryfn.EnvEndpoint), // the writer endpoint, no port
		User:        os.Getenv(queryfn.EnvUser),
		Database:    os.Getenv(queryfn.EnvDatabase),
		Region:      os.Getenv(queryfn.EnvRegion),
		Credentials: awsCfg.Credentials,
	})
	if err != nil {
		log.Fatal(err) // names every bad field and what is allowed
	}
	defer db.Close()
}

// Or read every DB_* variable, the optional tuning ones included, with
// queryfn.ConfigFromEnv, and add only the credentials.
func ExampleOpen_fromEnvironment() {
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := queryfn.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	cfg.Credentials = awsCfg.Credentials
	db, err := iamdb.Open(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
}
