-- patternd schema, version 11: the prompts' reads at a million records.
--
-- A backend's latency quantiles from counts.
--
-- /v1/prompts/stats gives each backend's latency p50 and p95 over the stored
-- records. Read by rank on an index (schema/010), a quantile steps through
-- every record below it: 240 ms for five backends at a million prompts. Here
-- each (backend, latency) is counted once, so a quantile walks the distinct
-- latencies instead (a few thousand per backend) and stays exact. Triggers
-- keep the counts with the records in the same transaction, on ingest and on
-- retention alike, as the full-text index is kept.
CREATE TABLE prompt_latency_counts (
  backend    TEXT    NOT NULL,
  latency_ms INTEGER NOT NULL,
  prompts    INTEGER NOT NULL CHECK (prompts > 0),
  PRIMARY KEY (backend, latency_ms)
) WITHOUT ROWID;
INSERT INTO prompt_latency_counts (backend, latency_ms, prompts)
  SELECT backend, latency_ms, count(*) FROM prompt_history
  WHERE latency_ms IS NOT NULL GROUP BY backend, latency_ms;

CREATE TRIGGER prompt_history_latency_counted AFTER INSERT ON prompt_history
WHEN new.latency_ms IS NOT NULL BEGIN
  INSERT INTO prompt_latency_counts (backend, latency_ms, prompts)
  VALUES (new.backend, new.latency_ms, 1)
  ON CONFLICT (backend, latency_ms) DO UPDATE SET prompts = prompts + 1;
END;
CREATE TRIGGER prompt_history_latency_uncounted AFTER DELETE ON prompt_history
WHEN old.latency_ms IS NOT NULL BEGIN
  -- The last one goes, else one fewer (exclusive conditions: either runs).
  DELETE FROM prompt_latency_counts
  WHERE backend = old.backend AND latency_ms = old.latency_ms AND prompts = 1;
  UPDATE prompt_latency_counts SET prompts = prompts - 1
  WHERE backend = old.backend AND latency_ms = old.latency_ms;
END;

-- Its only reader was the quantiles: one index less to write per record.
DROP INDEX prompt_history_backend_latency;

-- A search filtered by backend, model, confidence or time tests each
-- candidate match against the record; the record's filter columns come after
-- its kilobytes of text, in overflow pages. This covering index answers the
-- test by row id from one small entry: 95-115 ms became 20-35 ms at a million
-- prompts. (One line: bench/bulkload picks index statements out by line.)
CREATE INDEX prompt_history_filters ON prompt_history (id, backend, model_version, confidence, created_at);
