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

-- Workflows and errors per minute and per hour, per agent: /v1/timeline
-- counted raw rows, and 30 days of them at 10 million rows took longer than
-- the 2 s read limit. The writer grows these like the totals above (new rows
-- only), so a timeline reads one row per agent and bucket. Hours serve
-- hour and day buckets, minutes serve minute buckets (1,000 at most).
-- Times are bucketed by integer division of milliseconds since the epoch.
CREATE TABLE activity_minutes (
  minute     INTEGER NOT NULL,
  agent_name TEXT    NOT NULL,
  workflows  INTEGER NOT NULL,
  errors     INTEGER NOT NULL,
  PRIMARY KEY (minute, agent_name)
) WITHOUT ROWID;

CREATE TABLE activity_hours (
  hour       INTEGER NOT NULL,
  agent_name TEXT    NOT NULL,
  workflows  INTEGER NOT NULL,
  errors     INTEGER NOT NULL,
  PRIMARY KEY (hour, agent_name)
) WITHOUT ROWID;

INSERT INTO activity_minutes
SELECT t / 60000, agent_name, sum(w), sum(e) FROM (
  SELECT completed_at AS t, agent_name, 1 AS w, 0 AS e FROM workflow_history
  UNION ALL
  SELECT event_time, agent_name, 0, 1 FROM extraction_events WHERE event_type = 'error')
GROUP BY 1, 2;

INSERT INTO activity_hours
SELECT minute / 60, agent_name, sum(workflows), sum(errors) FROM activity_minutes GROUP BY 1, 2;
