-- patternd schema, version 3: raw rows are deduplicated on a compact key.
--
-- workflow_id and the 32-byte event identity arrive in random order, so
-- nearly every message dirtied its own leaf page of their unique indexes
-- (83% of the WAL frames a batch wrote, counted by b-tree). An index on an
-- 8-byte integer holds 2.5 times more entries per page: fewer pages to
-- dirty, write and checkpoint, and fewer to cache once the tables are big.
--
-- workflow_key is the first 8 bytes (big-endian, signed) of
-- SHA-256(workflow_id); identity_key the first 8 bytes of the identity
-- (already a SHA-256). Two different rows can share a key (a 64-bit
-- collision: about one pair in 10^19): the later one is then stored with a
-- NULL key, and a partial unique index on the full value covers those rows.
-- The writer checks both, so a row is never lost to a collision and never
-- stored twice (store/batch_writer.cpp).
--
-- The tables are rebuilt (a UNIQUE column constraint cannot be dropped in
-- place): rows keep their ids; the older of two colliding rows keeps the key.
-- patternd_text_key() and patternd_digest_key() are registered by the
-- worker's connection (store/database.cpp).

CREATE TABLE workflow_history_v3 (
  id                INTEGER PRIMARY KEY,
  workflow_key      INTEGER,  -- see above; NULL only after a collision
  workflow_id       TEXT    NOT NULL,
  agent_name        TEXT    NOT NULL,
  nl_input          TEXT    NOT NULL,
  workflow_template TEXT    NOT NULL,
  status            TEXT    NOT NULL CHECK (status = 'completed' OR status = 'failed' OR status = 'cancelled'),
  total_tokens      INTEGER NOT NULL CHECK (total_tokens >= 0),
  cost_micros       INTEGER NOT NULL CHECK (cost_micros >= 0),
  error_count       INTEGER NOT NULL CHECK (error_count >= 0),
  retry_count       INTEGER NOT NULL CHECK (retry_count >= 0),
  duration_ms       INTEGER NOT NULL CHECK (duration_ms >= 0),
  completed_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX workflow_history_key ON workflow_history_v3 (workflow_key);
INSERT INTO workflow_history_v3
SELECT id, patternd_text_key(workflow_id), workflow_id, agent_name, nl_input, workflow_template,
       status, total_tokens, cost_micros, error_count, retry_count, duration_ms, completed_at
FROM workflow_history WHERE true ORDER BY id
ON CONFLICT (workflow_key) DO NOTHING;
INSERT INTO workflow_history_v3
SELECT id, NULL, workflow_id, agent_name, nl_input, workflow_template,
       status, total_tokens, cost_micros, error_count, retry_count, duration_ms, completed_at
FROM workflow_history WHERE id NOT IN (SELECT id FROM workflow_history_v3);
DROP TABLE workflow_history;
ALTER TABLE workflow_history_v3 RENAME TO workflow_history;
CREATE INDEX workflow_history_completed_at ON workflow_history (completed_at);
CREATE UNIQUE INDEX workflow_history_unkeyed ON workflow_history (workflow_id)
  WHERE workflow_key IS NULL;

CREATE TABLE extraction_events_v3 (
  id               INTEGER PRIMARY KEY,
  identity_key     INTEGER,  -- see above; NULL only after a collision
  identity         BLOB    NOT NULL CHECK (length(identity) = 32),
  event_id         TEXT,
  agent_name       TEXT    NOT NULL,
  session_id       TEXT    NOT NULL,
  event_time       INTEGER NOT NULL,
  event_type       TEXT    NOT NULL,
  pattern          TEXT,
  matched_value    TEXT,
  original_line    TEXT,
  line_number      INTEGER CHECK (line_number >= 0),
  risk_level       TEXT    CHECK (risk_level = 'low' OR risk_level = 'medium' OR risk_level = 'high'),
  auto_confirmable INTEGER CHECK (auto_confirmable = 0 OR auto_confirmable = 1),
  metadata         TEXT,
  code_digest      BLOB,     -- code_blocks.digest
  code_line_start  INTEGER,
  code_line_end    INTEGER,
  code_parseable   INTEGER
);
CREATE UNIQUE INDEX extraction_events_key ON extraction_events_v3 (identity_key);
INSERT INTO extraction_events_v3
SELECT id, patternd_digest_key(identity), identity, event_id, agent_name, session_id, event_time,
       event_type, pattern, matched_value, original_line, line_number, risk_level,
       auto_confirmable, metadata, code_digest, code_line_start, code_line_end, code_parseable
FROM extraction_events WHERE true ORDER BY id
ON CONFLICT (identity_key) DO NOTHING;
INSERT INTO extraction_events_v3
SELECT id, NULL, identity, event_id, agent_name, session_id, event_time,
       event_type, pattern, matched_value, original_line, line_number, risk_level,
       auto_confirmable, metadata, code_digest, code_line_start, code_line_end, code_parseable
FROM extraction_events WHERE id NOT IN (SELECT id FROM extraction_events_v3);
DROP TABLE extraction_events;
ALTER TABLE extraction_events_v3 RENAME TO extraction_events;
CREATE INDEX extraction_events_event_time ON extraction_events (event_time);
CREATE UNIQUE INDEX extraction_events_unkeyed ON extraction_events (identity)
  WHERE identity_key IS NULL;
