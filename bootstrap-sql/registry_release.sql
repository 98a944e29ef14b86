{{- /* Forget the account once it is dropped or given up; only the owner's row. Arguments: user, host, owner. */ -}}
DELETE FROM {{.Registry}}.`managed_users` WHERE `user` = ? AND `host` = ? AND `owner` = ?
