{{- /* Read back what the account holds: privileges at every level and granted roles. */ -}}
SHOW GRANTS FOR {{.Account}}
