{{- /* Start from nothing, so the user ends up with exactly the configured privileges even if it existed before. */ -}}
REVOKE ALL PRIVILEGES, GRANT OPTION FROM {{.Account}}
