{{- /* Grant database-level privileges on every table of the database. */ -}}
GRANT {{.Privileges}} ON {{.Database}}.* TO {{.Account}}
