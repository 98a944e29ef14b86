{{- /* Record that a stack resource owns the account; written before the account is created, so a crash in between still leaves the record that lets a later Delete drop it. Arguments: user, host, owner, adopted. */ -}}
INSERT INTO {{.Registry}}.`managed_users` (`user`, `host`, `owner`, `adopted`) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE `owner` = VALUES(`owner`), `adopted` = VALUES(`adopted`)
