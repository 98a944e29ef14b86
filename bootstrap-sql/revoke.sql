{{- /* Revoke database-level privileges; fails with 1141 if none are held, which the executor tolerates. The database is the same escaped pattern grant.sql used. */ -}}
REVOKE {{.Privileges}} ON {{.DatabasePattern}}.* FROM {{.Account}}
