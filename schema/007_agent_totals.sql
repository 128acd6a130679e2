-- patternd schema, version 7: per-agent totals, kept by the writer.
--
-- /v1/agents and /v1/agents/{name}/stats summed an agent's raw rows on every
-- request: at 10 million rows, half a second per agent. The writer now adds
-- each new row to its agent's totals in the batch's transaction (one upsert
-- per agent and kind per batch), and like the pattern tables they outlive
-- retention. Rows stored before this migration are counted below; rows
-- already pruned before it are not.

CREATE TABLE agent_workflow_totals (
  agent_name   TEXT    PRIMARY KEY,
  workflows    INTEGER NOT NULL,
  successes    INTEGER NOT NULL,  -- completed with no errors, as for patterns
  total_tokens INTEGER NOT NULL,
  cost_micros  INTEGER NOT NULL,
  first_seen   INTEGER NOT NULL,
  last_seen    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE agent_event_totals (
  agent_name TEXT    NOT NULL,
  event_type TEXT    NOT NULL,
  events     INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL,
  PRIMARY KEY (agent_name, event_type)
) WITHOUT ROWID;

INSERT INTO agent_workflow_totals
SELECT agent_name, count(*), sum(status = 'completed' AND error_count = 0), sum(total_tokens),
       sum(cost_micros), min(completed_at), max(completed_at)
FROM workflow_history GROUP BY agent_name;

INSERT INTO agent_event_totals
SELECT agent_name, event_type, count(*), min(event_time), max(event_time)
FROM extraction_events GROUP BY agent_name, event_type;
