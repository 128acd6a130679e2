-- patternd PostgreSQL schema, version 2: raw rows are unique by their own
-- identity (workflow_id, identity), not by SQLite's packed keys.
--
-- Version 1 carried over SQLite's workflow_key and identity_key: 44 bits of
-- hash packed into an integer, with a key directory in the writer's memory,
-- which keeps SQLite's unique indexes small enough for its page cache. A
-- PostgreSQL store is shared by several workers, none of which can hold the
-- directory of the others' rows, and its B-trees take a 32-byte key as
-- cheaply: `INSERT ... ON CONFLICT DO NOTHING` on the identity itself is
-- what makes a row land once, whichever worker sends it.

DROP INDEX workflow_history_unkeyed;
DROP INDEX workflow_history_key;
ALTER TABLE workflow_history DROP COLUMN workflow_key;
ALTER TABLE workflow_history ADD CONSTRAINT workflow_history_workflow_id UNIQUE (workflow_id);

DROP INDEX extraction_events_unkeyed;
DROP INDEX extraction_events_key;
ALTER TABLE extraction_events DROP COLUMN identity_key;
ALTER TABLE extraction_events ADD CONSTRAINT extraction_events_identity UNIQUE (identity);

DROP INDEX outcomes_key;
DROP INDEX outcomes_unkeyed;
ALTER TABLE outcomes DROP COLUMN identity_key;
ALTER TABLE outcomes ADD CONSTRAINT outcomes_identity UNIQUE (identity);
