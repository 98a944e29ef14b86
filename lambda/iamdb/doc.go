// Package iamdb opens MySQL connection pools to Amazon Aurora and RDS that
// log in with IAM database authentication instead of a stored password.
//
// Each new database connection presents a short-lived RDS IAM auth token
// (a SigV4-presigned "connect" request, see [BuildToken]) as its password,
// over TLS. The token is built in the driver's BeforeConnect hook, so it is
// never part of a DSN, an environment variable or a log line, and a
// [Connector] reuses one token for connections opened within
// [Config].TokenReuse, so a burst of connections costs one signature.
//
// Typical use in an AWS Lambda function, once per container:
//
//	awsCfg, err := config.LoadDefaultConfig(ctx)
//	...
//	db, err := iamdb.Open(iamdb.Config{
//		Host:        "mycluster.cluster-abc123.eu-west-1.rds.amazonaws.com",
//		User:        "app_user",
//		Database:    "app",
//		Region:      "eu-west-1",
//		Credentials: awsCfg.Credentials,
//	})
//
// The database user must be created with IDENTIFIED WITH
// AWSAuthenticationPlugin AS 'RDS', and the caller's IAM role needs
// rds-db:connect on arn:aws:rds-db:REGION:ACCOUNT:dbuser:CLUSTER-RESOURCE-ID/USER.
//
// Connection discipline, per Connector (see [Config] for the knobs and
// RELIABILITY.md at the repository root for the reasoning and the tests):
//
//   - New connection attempts pass a token bucket (MaxNewConnsPerSecond,
//     NewConnBurst), so a container cannot storm Aurora's IAM login
//     throttle.
//   - A login refused with MySQL error 1045, which is what IAM propagation
//     after a deployment looks like, is retried with a fresh token and
//     jittered exponential backoff for AccessDeniedRetryFor, within the
//     caller's deadline; every other failure is returned at once.
//   - Each attempt is bounded by DialTimeout; errors are [*ConnectError]s
//     that name the likely cause and never contain a token.
//   - A connection that stays silent for ReadTimeout while a reply is due
//     is closed as lost, and retires every connection opened before it, so
//     a black-holed pool costs one wait, not one per connection.
package iamdb
