-- patternd schema, version 6: the indexes the read API (SPEC section 13)
-- answers from. Each serves the queries named beside it (the SQL is in
-- store/read_queries.cpp; tests/integration/read_query_plans_test.cpp checks
-- that no query of the API scans a raw-row table).
--
-- The writer pays for every index on every insert, so an index is only here
-- if a query needs it, and each leads with a column of few distinct values
-- followed by time: new rows land at the end of a few ranges, not on random
-- pages (bench figures in the closing note of issue 16).

-- /v1/extractions?agent, /v1/agents/{name}/stats, /v1/timeline?agent
CREATE INDEX extraction_events_agent ON extraction_events (agent_name, event_time);
-- /v1/sessions/{id}/events, /v1/sessions/{id}, /v1/extractions?session
CREATE INDEX extraction_events_session ON extraction_events (session_id, event_time);
-- /v1/extractions?type, /v1/timeline (errors)
CREATE INDEX extraction_events_type ON extraction_events (event_type, event_time);
-- /v1/extractions?pattern and ?risk: partial, most events have neither
CREATE INDEX extraction_events_pattern ON extraction_events (pattern, event_time) WHERE pattern IS NOT NULL;
CREATE INDEX extraction_events_risk ON extraction_events (risk_level, event_time) WHERE risk_level IS NOT NULL;

-- /v1/agents/{name}/stats, /v1/agents, /v1/timeline?agent (workflows)
CREATE INDEX workflow_history_agent ON workflow_history (agent_name, completed_at);

-- /v1/sessions (newest first), /v1/timeline (sessions started), ?agent
CREATE INDEX agent_sessions_first_event ON agent_sessions (first_event);
CREATE INDEX agent_sessions_agent ON agent_sessions (agent_name, first_event);

-- /v1/code-blocks (newest first) and ?language
CREATE INDEX code_blocks_first_seen ON code_blocks (first_seen);
CREATE INDEX code_blocks_language ON code_blocks (language, first_seen);

-- /v1/failures?sort=frequency|last_seen, and ?agent through the agents table
CREATE INDEX failure_patterns_frequency ON failure_patterns (frequency);
CREATE INDEX failure_patterns_last_seen ON failure_patterns (last_seen);
CREATE INDEX failure_pattern_agents_agent ON failure_pattern_agents (agent_name, failure_id);
