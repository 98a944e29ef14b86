{{- /* Create the user for IAM authentication: it has no password, AWSAuthenticationPlugin checks a signed token instead. IF NOT EXISTS keeps redelivered requests idempotent; alter_user_iam.sql converts a user that already existed. */ -}}
CREATE USER IF NOT EXISTS {{.Account}} IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'
