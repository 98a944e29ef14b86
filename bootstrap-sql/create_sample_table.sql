{{- /* The sample app's table (SampleTableName, `items`), which its query function reads and writes, so a fresh deployment can be tested end to end. IF NOT EXISTS: never touch existing data. */ -}}
CREATE TABLE IF NOT EXISTS {{.Database}}.{{.Table}} (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, `name` VARCHAR(200) NOT NULL, `created_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)
