{{- /* Every account with this user name, at any host, with its authentication plugin and TLS requirement (mysql.user has these columns in MySQL 8.0 and MariaDB). Argument: user. */ -}}
SELECT `Host`, `plugin`, `ssl_type` FROM `mysql`.`user` WHERE `User` = ?
