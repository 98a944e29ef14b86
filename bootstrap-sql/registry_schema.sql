{{- /* The schema in which the custom resource records the accounts it manages. No application user gets any privilege on it. */ -}}
CREATE DATABASE IF NOT EXISTS {{.Registry}}
