{{- /* Drop the user and all its grants. The database and its data are kept on purpose. */ -}}
DROP USER IF EXISTS {{.Account}}
