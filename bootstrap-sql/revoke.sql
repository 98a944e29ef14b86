{{- /* Revoke database-level privileges; fails with 1141 if none are held, which the executor tolerates. */ -}}
REVOKE {{.Privileges}} ON {{.Database}}.* FROM {{.Account}}
