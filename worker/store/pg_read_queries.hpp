#pragma once
// The SQL of the read API on PostgreSQL: store/read_queries.cpp's statements,
// translated. Same fragments, filters, orders and keyset conditions, with
// named parameters (pg_read_rows.hpp binds them); the translation:
// * `WHERE true`, and an alias on every subquery in FROM;
// * text orders and text cursors `COLLATE "C"`: byte order, as SQLite
//   compares text, whatever collation the database was created with (the
//   tables ordered by text are small aggregates: no index is lost);
// * strpos() for SQLite's instr(); casts where a parameter's type would
//   otherwise be unknown.

#include <string>

#include "store/reader.hpp"

namespace patternd::store::pg::sql {

std::string patterns(const PatternQuery& q);
std::string failures(const FailureQuery& q);
std::string extractions(const ExtractionQuery& q);
std::string sessions(const SessionQuery& q);
std::string state_changes(const StateChangeQuery& q);
std::string code_blocks(const CodeBlockQuery& q);
std::string agents(const Page& page);
std::string fixes(const FixQuery& q);
std::string outcome_stats(const OutcomeStatsQuery& q);
std::string prompts(const PromptQuery& q);
std::string timeline_activity(bool minutes, bool agent);
std::string timeline_sessions(bool agent);

extern const char* const k_pattern;
extern const char* const k_pattern_days;
extern const char* const k_failure;
extern const std::string k_session;
extern const std::string k_session_changes;
extern const char* const k_session_types;
extern const char* const k_session_stored;
extern const char* const k_code_block;
extern const char* const k_agent_sessions;
extern const char* const k_agent_workflows;
extern const char* const k_agent_types;
extern const char* const k_agent_outcomes;
extern const char* const k_agent_failures;
extern const char* const k_query_words;
extern const std::string k_prompt_by_id;
extern const std::string k_prompt_by_identity;
extern const char* const k_prompt_backends;
extern const char* const k_prompt_backend;
extern const char* const k_latency_quantiles;
extern const std::string k_health;

// The tables whose rows health() counts, in its order (as the SQLite
// reader's).
extern const char* const k_health_tables[12];

}  // namespace patternd::store::pg::sql
