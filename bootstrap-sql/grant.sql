{{- /* Grant database-level privileges on every table of the database. The database is written as an escaped pattern (app\_db), because in a database-level GRANT `_` and `%` are wildcards. */ -}}
GRANT {{.Privileges}} ON {{.DatabasePattern}}.* TO {{.Account}}
