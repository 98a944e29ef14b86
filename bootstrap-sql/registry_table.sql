{{- /* One row per managed account: which stack resource owns it and whether it existed before (adopted) or was created by that resource. */ -}}
CREATE TABLE IF NOT EXISTS {{.Registry}}.`managed_users` (`user` VARCHAR(80) NOT NULL, `host` VARCHAR(255) NOT NULL, `owner` VARCHAR(1024) NOT NULL, `adopted` TINYINT NOT NULL, PRIMARY KEY (`user`, `host`))
