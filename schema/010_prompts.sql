-- patternd schema, version 10: the prompts stream (SPEC section 12): the
-- prompt improver's records, searchable by text.

-- Each record once (its identity: the producer's prompt_id, or every field as
-- sent). Records are large (improved prompts of kilobytes) and few next to
-- extraction events: a plain unique index on the identity costs little
-- beside them.
CREATE TABLE prompt_history (
  id              INTEGER PRIMARY KEY,
  identity        BLOB    NOT NULL UNIQUE CHECK (length(identity) = 32),
  prompt_id       TEXT,
  agent_name      TEXT,
  session_id      TEXT,
  created_at      INTEGER NOT NULL,
  original_idea   TEXT    NOT NULL CHECK (original_idea <> ''),
  context         TEXT    NOT NULL,
  improved_prompt TEXT    NOT NULL CHECK (improved_prompt <> ''),
  role            TEXT    NOT NULL CHECK (role <> ''),
  directive       TEXT    NOT NULL CHECK (directive <> ''),
  framework       TEXT    NOT NULL CHECK (framework <> ''),
  guardrails      TEXT    NOT NULL CHECK (guardrails <> ''),
  backend         TEXT    NOT NULL CHECK (backend <> ''),
  model_version   TEXT,
  confidence      REAL    CHECK (confidence >= 0 AND confidence <= 1),
  reasoning       TEXT,
  latency_ms      INTEGER CHECK (latency_ms >= 0)
);
-- /v1/prompts (newest first), ?since; retention
CREATE INDEX prompt_history_time ON prompt_history (created_at);
-- ?backend (newest first)
CREATE INDEX prompt_history_backend ON prompt_history (backend, created_at);
-- a backend's latency quantiles (p50, p95: read by rank)
CREATE INDEX prompt_history_backend_latency ON prompt_history (backend, latency_ms);
-- ?min_confidence
CREATE INDEX prompt_history_confidence ON prompt_history (confidence, latency_ms);

-- The full-text index over the three texts people search. External content
-- (the text stays in prompt_history alone): a contentless index would store
-- less, but SQLite 3.40 (Debian 12) cannot delete from one, and retention
-- must. Kept by triggers, so every write and delete of a record (ingest,
-- prune) updates it in the same transaction.
CREATE VIRTUAL TABLE prompt_search USING fts5(
  original_idea, context, improved_prompt,
  content = 'prompt_history', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER prompt_history_indexed AFTER INSERT ON prompt_history BEGIN
  INSERT INTO prompt_search (rowid, original_idea, context, improved_prompt)
  VALUES (new.id, new.original_idea, new.context, new.improved_prompt);
END;
CREATE TRIGGER prompt_history_unindexed AFTER DELETE ON prompt_history BEGIN
  INSERT INTO prompt_search (prompt_search, rowid, original_idea, context, improved_prompt)
  VALUES ('delete', old.id, old.original_idea, old.context, old.improved_prompt);
END;

-- Per backend, exact sums (confidence in millionths), kept when retention
-- deletes the records.
CREATE TABLE prompt_backend_stats (
  backend           TEXT    PRIMARY KEY,
  prompts           INTEGER NOT NULL,
  confidence_micros INTEGER NOT NULL,
  confidence_count  INTEGER NOT NULL,
  latency_ms_sum    INTEGER NOT NULL,
  latency_count     INTEGER NOT NULL,
  first_seen        INTEGER NOT NULL,
  last_seen         INTEGER NOT NULL
) WITHOUT ROWID;
