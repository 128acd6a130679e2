-- patternd schema, version 9: the sessions stream (SPEC section 12): an agent
-- process's lifecycle.

-- Each lifecycle event once (its identity hashes every field as sent). A few
-- per session, against hundreds of extraction events: a plain unique index
-- on the identity is cheap enough here.
CREATE TABLE session_state_changes (
  id                         INTEGER PRIMARY KEY,
  identity                   BLOB    NOT NULL UNIQUE CHECK (length(identity) = 32),
  session_id                 TEXT    NOT NULL,
  agent_name                 TEXT    NOT NULL,
  state                      TEXT    NOT NULL CHECK (state = 'started' OR state = 'running'
                                       OR state = 'paused' OR state = 'completed'
                                       OR state = 'failed' OR state = 'killed'),
  event_time                 INTEGER NOT NULL,
  environment                TEXT,
  exit_code                  INTEGER,
  lines_processed            INTEGER CHECK (lines_processed >= 0),
  stdout_log_path            TEXT,
  stderr_log_path            TEXT,
  extraction_config_version  TEXT,
  environment_config_version TEXT,
  metadata                   TEXT
);
-- /v1/sessions/{id} (its state changes in time order), replay
CREATE INDEX session_state_changes_session ON session_state_changes (session_id, event_time);
-- retention
CREATE INDEX session_state_changes_time ON session_state_changes (event_time);

-- The session's row, as its events define it whatever their order of
-- arrival. A *_rank is the order key of the event a value came from: its
-- time (8 bytes, big-endian, offset so that negative times sort first) then
-- its identity, compared as bytes: "earliest" and "latest" with ties broken
-- by identity, in one comparison.
--   started_at: the earliest `started` event's time;
--   ended_at, exit_code, end_state: the latest terminal event's (completed,
--     failed, killed);
--   state: the latest event's;
--   environment, log paths, config versions: each from the earliest event
--     that carries it;
--   lines_processed: the largest reported.
-- Active: started_at IS NOT NULL AND ended_at IS NULL.
ALTER TABLE agent_sessions ADD COLUMN state_changes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent_sessions ADD COLUMN started_at INTEGER;
ALTER TABLE agent_sessions ADD COLUMN ended_at INTEGER;
ALTER TABLE agent_sessions ADD COLUMN exit_code INTEGER;
ALTER TABLE agent_sessions ADD COLUMN end_state TEXT;
ALTER TABLE agent_sessions ADD COLUMN end_rank BLOB;
ALTER TABLE agent_sessions ADD COLUMN state TEXT;
ALTER TABLE agent_sessions ADD COLUMN state_rank BLOB;
ALTER TABLE agent_sessions ADD COLUMN lines_processed INTEGER;
ALTER TABLE agent_sessions ADD COLUMN environment TEXT;
ALTER TABLE agent_sessions ADD COLUMN environment_rank BLOB;
ALTER TABLE agent_sessions ADD COLUMN stdout_log_path TEXT;
ALTER TABLE agent_sessions ADD COLUMN stdout_log_path_rank BLOB;
ALTER TABLE agent_sessions ADD COLUMN stderr_log_path TEXT;
ALTER TABLE agent_sessions ADD COLUMN stderr_log_path_rank BLOB;
ALTER TABLE agent_sessions ADD COLUMN extraction_config_version TEXT;
ALTER TABLE agent_sessions ADD COLUMN extraction_config_version_rank BLOB;
ALTER TABLE agent_sessions ADD COLUMN environment_config_version TEXT;
ALTER TABLE agent_sessions ADD COLUMN environment_config_version_rank BLOB;

-- /v1/sessions?active=true (newest first), and ?agent: only active sessions
-- are in these, so they stay small however many sessions ended.
-- (One line each: bench/bulkload copies the schema's CREATE INDEX lines.)
CREATE INDEX agent_sessions_active ON agent_sessions (first_event) WHERE started_at IS NOT NULL AND ended_at IS NULL;
CREATE INDEX agent_sessions_active_agent ON agent_sessions (agent_name, first_event) WHERE started_at IS NOT NULL AND ended_at IS NULL;
