{{- /* Revoke table-level privileges on one table; fails with 1147 if none are held, which the executor tolerates. The names are quoted as grant_table.sql quotes them. */ -}}
REVOKE {{.Privileges}} ON {{.Database}}.{{.Table}} FROM {{.Account}}
