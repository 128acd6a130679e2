-- patternd schema, version 1.
-- Times are integer milliseconds since the Unix epoch (UTC); money is integer
-- micro-dollars; aggregates are exact integer sums, grown only for new rows.
-- Keys are as compact as the guarantees allow: every unique index costs page
-- writes on each insert (see PERF-NOTES.md).

-- Raw workflows, one per workflow_id.
CREATE TABLE workflow_history (
  id                INTEGER PRIMARY KEY,
  workflow_id       TEXT    NOT NULL UNIQUE,
  agent_name        TEXT    NOT NULL,
  nl_input          TEXT    NOT NULL,
  workflow_template TEXT    NOT NULL,
  status            TEXT    NOT NULL CHECK (status IN ('completed', 'failed', 'cancelled')),
  total_tokens      INTEGER NOT NULL CHECK (total_tokens >= 0),
  cost_micros       INTEGER NOT NULL CHECK (cost_micros >= 0),
  error_count       INTEGER NOT NULL CHECK (error_count >= 0),
  retry_count       INTEGER NOT NULL CHECK (retry_count >= 0),
  duration_ms       INTEGER NOT NULL CHECK (duration_ms >= 0),
  completed_at      INTEGER NOT NULL
);
CREATE INDEX workflow_history_completed_at ON workflow_history (completed_at);

-- Operation patterns with their exact aggregates; derived figures are in the
-- view operation_pattern_stats.
CREATE TABLE operation_patterns (
  id                 INTEGER PRIMARY KEY,
  pattern_signature  TEXT    NOT NULL UNIQUE,
  category           TEXT    NOT NULL,
  tool               TEXT    NOT NULL,
  target             TEXT    NOT NULL,
  occurrences        INTEGER NOT NULL,
  successes          INTEGER NOT NULL,
  total_tokens       INTEGER NOT NULL,
  total_cost_micros  INTEGER NOT NULL,
  total_duration_ms  INTEGER NOT NULL,
  total_errors       INTEGER NOT NULL,
  total_retries      INTEGER NOT NULL,
  first_seen         INTEGER NOT NULL,
  last_seen          INTEGER NOT NULL
);

-- One row per (pattern, workflow); clustered on the pattern so inserts append.
CREATE TABLE pattern_occurrences (
  pattern_id  INTEGER NOT NULL REFERENCES operation_patterns (id),
  workflow_id INTEGER NOT NULL REFERENCES workflow_history (id),
  occurred_at INTEGER NOT NULL,
  PRIMARY KEY (pattern_id, workflow_id)
) WITHOUT ROWID;

-- Runs per pattern and UTC day: the exact input of "savings over the last 30
-- days", kept when raw rows are pruned.
CREATE TABLE operation_pattern_days (
  pattern_id  INTEGER NOT NULL REFERENCES operation_patterns (id),
  day         INTEGER NOT NULL,  -- days since 1970-01-01
  occurrences INTEGER NOT NULL,
  PRIMARY KEY (pattern_id, day)
) WITHOUT ROWID;

-- Raw extraction events; identity = SHA-256 of event_id, or of the identifying
-- fields when the producer sent no event_id.
CREATE TABLE extraction_events (
  id               INTEGER PRIMARY KEY,
  identity         BLOB    NOT NULL UNIQUE CHECK (length(identity) = 32),
  event_id         TEXT,
  agent_name       TEXT    NOT NULL,
  session_id       TEXT    NOT NULL,
  event_time       INTEGER NOT NULL,
  event_type       TEXT    NOT NULL,
  pattern          TEXT,
  matched_value    TEXT,
  original_line    TEXT,
  line_number      INTEGER CHECK (line_number >= 0),
  risk_level       TEXT    CHECK (risk_level IN ('low', 'medium', 'high')),
  auto_confirmable INTEGER CHECK (auto_confirmable IN (0, 1)),
  metadata         TEXT,
  code_digest      BLOB,     -- code_blocks.digest
  code_line_start  INTEGER,
  code_line_end    INTEGER,
  code_parseable   INTEGER
);
CREATE INDEX extraction_events_event_time ON extraction_events (event_time);

CREATE TABLE code_blocks (
  id          INTEGER PRIMARY KEY,
  digest      BLOB    NOT NULL UNIQUE CHECK (length(digest) = 32),
  language    TEXT    NOT NULL,
  content     TEXT    NOT NULL,
  occurrences INTEGER NOT NULL,
  first_seen  INTEGER NOT NULL,
  last_seen   INTEGER NOT NULL
);

CREATE TABLE agent_sessions (
  id          INTEGER PRIMARY KEY,
  session_id  TEXT    NOT NULL UNIQUE,
  agent_name  TEXT    NOT NULL,
  first_event INTEGER NOT NULL,
  first_event_identity BLOB NOT NULL,  -- the agent is that of the earliest event
  last_event  INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  error_count INTEGER NOT NULL
);

-- Failure signatures. The example is the earliest occurrence by event time,
-- ties broken by the smaller event identity, so it does not depend on the
-- order of arrival.
CREATE TABLE failure_patterns (
  id               INTEGER PRIMARY KEY,
  signature        TEXT    NOT NULL UNIQUE,
  error_type       TEXT    NOT NULL,
  example          TEXT    NOT NULL,
  example_time     INTEGER NOT NULL,
  example_identity BLOB    NOT NULL,
  frequency        INTEGER NOT NULL,
  first_seen       INTEGER NOT NULL,
  last_seen        INTEGER NOT NULL,
  agent_count      INTEGER NOT NULL,
  session_count    INTEGER NOT NULL
);

-- The distinct agents and sessions of each failure signature, so that the
-- counts above stay exact however often an agent or session reappears.
CREATE TABLE failure_pattern_agents (
  failure_id INTEGER NOT NULL REFERENCES failure_patterns (id),
  agent_name TEXT    NOT NULL,
  PRIMARY KEY (failure_id, agent_name)
) WITHOUT ROWID;

CREATE TABLE failure_pattern_sessions (
  failure_id INTEGER NOT NULL REFERENCES failure_patterns (id),
  session_id INTEGER NOT NULL REFERENCES agent_sessions (id),
  PRIMARY KEY (failure_id, session_id)
) WITHOUT ROWID;

-- Rejected messages. For messages read from a file (partition -1) the
-- "offset" is the first 63 bits of the payload's SHA-256, so the same bad line
-- backfilled twice is one dead letter.
CREATE TABLE dead_letters (
  id           INTEGER PRIMARY KEY,
  topic        TEXT    NOT NULL,
  partition    INTEGER NOT NULL,
  offset       INTEGER NOT NULL,
  reason_class TEXT    NOT NULL,
  reason       TEXT    NOT NULL,
  payload      BLOB    NOT NULL,  -- the first 64 KiB
  payload_size INTEGER NOT NULL,
  message_time INTEGER,
  received_at  INTEGER NOT NULL,
  UNIQUE (topic, partition, offset)
);
CREATE INDEX dead_letters_reason ON dead_letters (reason_class);

-- The next offset to consume per partition, written in the same transaction
-- as the rows it covers.
CREATE TABLE kafka_offsets (
  topic       TEXT    NOT NULL,
  partition   INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;

-- Facts about the pattern tables themselves: the rules version they follow.
CREATE TABLE patternd_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- Derived figures, computed on read from the exact sums:
--  * the tool (automation) is estimated to cost 5% of the LLM cost;
--  * savings per run = average LLM cost - tool cost;
--  * savings over the last 30 days = savings per run x runs in the last 30 UTC
--    days (today included);
--  * confidence = Wilson score lower bound (z = 1.96) of the success rate.
CREATE VIEW operation_pattern_stats AS
SELECT
  pattern_signature, category, tool, target, occurrences, successes,
  first_seen, last_seen,
  avg_tokens, avg_cost_usd,
  avg_cost_usd * 0.05 AS tool_cost_usd,
  avg_cost_usd * 0.95 AS savings_per_run_usd,
  runs_last_30_days,
  runs_last_30_days * avg_cost_usd * 0.95 AS savings_last_30_days_usd,
  avg_duration_seconds,
  (p + z2 / (2.0 * n) - 1.96 * sqrt((p * (1.0 - p) + z2 / (4.0 * n)) / n)) / (1.0 + z2 / n)
    AS confidence
FROM (
  SELECT
    o.*,
    CAST(o.occurrences AS REAL) AS n,
    CAST(o.successes AS REAL) / o.occurrences AS p,
    3.8416 AS z2,
    CAST(o.total_tokens AS REAL) / o.occurrences AS avg_tokens,
    o.total_cost_micros / 1e6 / o.occurrences AS avg_cost_usd,
    o.total_duration_ms / 1e3 / o.occurrences AS avg_duration_seconds,
    (SELECT coalesce(sum(d.occurrences), 0) FROM operation_pattern_days d
      WHERE d.pattern_id = o.id
        AND d.day > CAST(strftime('%s', 'now') AS INTEGER) / 86400 - 30) AS runs_last_30_days
  FROM operation_patterns o
  WHERE o.occurrences > 0
);
