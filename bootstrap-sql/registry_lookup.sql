{{- /* Who owns the account; no row means the custom resource never created or adopted it (or an older version created it, before the registry existed). Arguments: user, host. */ -}}
SELECT `owner`, `adopted` FROM {{.Registry}}.`managed_users` WHERE `user` = ? AND `host` = ?
