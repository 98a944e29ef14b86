{{- /* Activate no role at login. MySQL 8.0 writes TO, MariaDB writes FOR; MariaDB keeps a default role after the role itself is revoked. */ -}}
SET DEFAULT ROLE NONE {{if .MariaDB}}FOR{{else}}TO{{end}} {{.Account}}
