-- patternd schema, version 5: where a file-sourced dead letter came from.
--
-- A dead letter from `patternd ingest` is keyed by its payload's digest (a
-- file has no Kafka offset), so its line number was lost and nobody could
-- find it in its file. Both columns are NULL for Kafka messages (topic,
-- partition and offset say where those are). Adding nullable columns does
-- not rewrite the table.
ALTER TABLE dead_letters ADD COLUMN source_file TEXT;
ALTER TABLE dead_letters ADD COLUMN source_line INTEGER;
