{{- /* Revoke one role granted to the user. REVOKE ALL PRIVILEGES does not remove granted roles (MySQL 8.0 and MariaDB alike), so a role holding ALL ON *.* would otherwise survive. */ -}}
REVOKE {{.Role}} FROM {{.Account}}
