{{- /* A table for the sample Lambda to query, so a fresh deployment can be tested end to end. IF NOT EXISTS: never touch existing data. */ -}}
CREATE TABLE IF NOT EXISTS {{.Database}}.`items` (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, `name` VARCHAR(200) NOT NULL, `created_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)
