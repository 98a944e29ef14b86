{{- /* Switch an existing user (for example one created with a password by hand) to IAM authentication, which also removes its password. */ -}}
ALTER USER {{.Account}} IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'
