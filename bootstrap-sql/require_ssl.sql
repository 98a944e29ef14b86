{{- /* Refuse unencrypted logins: the IAM token is a bearer credential and must not cross the network in clear text. */ -}}
ALTER USER {{.Account}} REQUIRE SSL
