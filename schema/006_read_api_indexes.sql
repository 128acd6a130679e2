-- patternd schema, version 6: the indexes the read API (SPEC section 13)
-- answers from. Each serves the queries named beside it (the SQL is in
-- store/read_queries.cpp; tests/integration/read_query_plans_test.cpp checks
-- that no query of the API scans a raw-row table).
--
-- The writer pays for every index on every insert, so an index is only here
-- if a query has no reasonable way without it. The raw-row indexes end with
-- the event time, which grows: an agent's new events land at the end of its
-- range, not on random pages (bench figures in the closing note of issue 16).

-- /v1/extractions?agent
CREATE INDEX extraction_events_agent ON extraction_events (agent_name, event_time);
-- /v1/sessions/{id}/events, /v1/sessions/{id} (events by type), /v1/extractions?session
CREATE INDEX extraction_events_session ON extraction_events (session_id, event_time);

-- No index leads with event_type, pattern or risk_level. Each of their values
-- is a sizable share of the events (a handful of types and patterns, three
-- risks), so a filter on one alone is answered by walking the time index
-- newest first: a page of 50 reads a few hundred entries. Measured on the
-- 500,000-message drain, those three indexes cost the writer a tenth of its
-- throughput; the session index (random session ids) costs more, but a
-- session's events have no other way in.

-- /v1/sessions (newest first), /v1/timeline (sessions started), ?agent;
-- /v1/agents (sessions per agent)
CREATE INDEX agent_sessions_first_event ON agent_sessions (first_event);
CREATE INDEX agent_sessions_agent ON agent_sessions (agent_name, first_event);

-- /v1/code-blocks (newest first) and ?language
CREATE INDEX code_blocks_first_seen ON code_blocks (first_seen);
CREATE INDEX code_blocks_language ON code_blocks (language, first_seen);

-- /v1/failures?sort=frequency|last_seen, and ?agent through the agents table
CREATE INDEX failure_patterns_frequency ON failure_patterns (frequency);
CREATE INDEX failure_patterns_last_seen ON failure_patterns (last_seen);
CREATE INDEX failure_pattern_agents_agent ON failure_pattern_agents (agent_name, failure_id);
