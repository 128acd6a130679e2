-- patternd schema, version 8: the outcomes stream (SPEC section 12): what an
-- agent tried, whether it worked, and the error it addressed.

-- Raw outcomes, stored exactly once under a packed key as extraction events
-- are (schema/004, store/key_space.hpp). The error is kept as sent; its
-- signature is the failure normalizer's, computed again by redetect.
CREATE TABLE outcomes (
  id              INTEGER PRIMARY KEY,
  identity_key    INTEGER,  -- NULL only after a collision of 44 bits of hash
  identity        BLOB    NOT NULL CHECK (length(identity) = 32),
  outcome_id      TEXT,
  agent_name      TEXT    NOT NULL,
  session_id      TEXT,
  event_time      INTEGER NOT NULL,
  pattern         TEXT    NOT NULL,
  success         INTEGER NOT NULL CHECK (success = 0 OR success = 1),
  duration_ms     INTEGER CHECK (duration_ms >= 0),
  error           TEXT,
  fix             TEXT,
  organization_id TEXT,
  user_id         TEXT
);
CREATE UNIQUE INDEX outcomes_key ON outcomes (identity_key);
CREATE UNIQUE INDEX outcomes_unkeyed ON outcomes (identity) WHERE identity_key IS NULL;
-- retention
CREATE INDEX outcomes_event_time ON outcomes (event_time);

-- What was tried against one failure signature with one approach: exact
-- sums, grown only by outcomes new to the database, kept after retention.
-- The example fix is that of the earliest success by event time (ties: the
-- smaller identity), or of the earliest attempt when none succeeded with a
-- fix text: a failed attempt's text is a poor first thing to show. The
-- confidence is the lower bound of the Wilson score interval (z = 1.96) of
-- successes / attempts, so that 40 of 45 ranks above 3 of 3. Stored, so that
-- it can be indexed: every upsert computes it from the new sums, in SQL
-- (store/outcome_totals.cpp), with the formula of core/statistics.hpp term
-- for term. (Not a generated column: the sqlite3 shell's .dump writes their
-- values too, and its output then no longer loads.)
CREATE TABLE failure_fixes (
  id                   INTEGER PRIMARY KEY,
  signature            TEXT    NOT NULL,
  pattern              TEXT    NOT NULL,
  error_type           TEXT    NOT NULL,
  attempts             INTEGER NOT NULL,
  successes            INTEGER NOT NULL,
  duration_ms_sum      INTEGER NOT NULL,
  duration_count       INTEGER NOT NULL,  -- attempts that reported a duration
  first_seen           INTEGER NOT NULL,
  last_seen            INTEGER NOT NULL,
  fix_example          TEXT,
  fix_example_rank     INTEGER,  -- 0: a success's text, 1: a failed attempt's; NULL: none
  fix_example_time     INTEGER,
  fix_example_identity BLOB,
  agent_count          INTEGER NOT NULL,
  confidence           REAL    NOT NULL,
  UNIQUE (signature, pattern)
);
-- /v1/failures/lookup (a signature's fixes, best first), /v1/fixes?signature
CREATE INDEX failure_fixes_signature ON failure_fixes (signature, confidence);
-- /v1/fixes (best first), ?pattern
CREATE INDEX failure_fixes_confidence ON failure_fixes (confidence);
CREATE INDEX failure_fixes_pattern ON failure_fixes (pattern, confidence);

CREATE TABLE failure_fix_agents (
  fix_id     INTEGER NOT NULL REFERENCES failure_fixes (id),
  agent_name TEXT    NOT NULL,
  PRIMARY KEY (fix_id, agent_name)
) WITHOUT ROWID;

-- The same figures per approach over all outcomes, and per approach and
-- agent (/v1/outcomes/stats?agent, /v1/agents); a pattern's agent_count is
-- its number of rows below.
CREATE TABLE outcome_stats (
  pattern         TEXT    PRIMARY KEY,
  attempts        INTEGER NOT NULL,
  successes       INTEGER NOT NULL,
  duration_ms_sum INTEGER NOT NULL,
  duration_count  INTEGER NOT NULL,
  first_seen      INTEGER NOT NULL,
  last_seen       INTEGER NOT NULL,
  agent_count     INTEGER NOT NULL,
  confidence      REAL    NOT NULL
) WITHOUT ROWID;

CREATE TABLE outcome_agent_stats (
  pattern         TEXT    NOT NULL,
  agent_name      TEXT    NOT NULL,
  attempts        INTEGER NOT NULL,
  successes       INTEGER NOT NULL,
  duration_ms_sum INTEGER NOT NULL,
  duration_count  INTEGER NOT NULL,
  first_seen      INTEGER NOT NULL,
  last_seen       INTEGER NOT NULL,
  PRIMARY KEY (pattern, agent_name)
) WITHOUT ROWID;
CREATE INDEX outcome_agent_stats_agent ON outcome_agent_stats (agent_name, pattern);

-- A session's outcomes; an outcome also widens its session's first and
-- last event times, as an extraction event does.
ALTER TABLE agent_sessions ADD COLUMN feedback_outcomes INTEGER NOT NULL DEFAULT 0;

-- Outcomes per minute and hour, for /v1/timeline.
ALTER TABLE activity_minutes ADD COLUMN outcomes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activity_hours ADD COLUMN outcomes INTEGER NOT NULL DEFAULT 0;
