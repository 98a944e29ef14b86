{{- /* Create the application database. IF NOT EXISTS: it may hold data from an earlier deployment, which must survive. */ -}}
CREATE DATABASE IF NOT EXISTS {{.Database}}
