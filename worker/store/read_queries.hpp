#pragma once
// The SQL of the read API, one builder per query. A statement is assembled
// from constant fragments only: which fragments depends on which filters are
// present, never on their values (those are bound by name: :agent, :since,
// :key, ...). So the set of statements is finite, and every_read_statement()
// lists it: tests/integration/read_query_plans_test.cpp checks the plan of
// each (an index, never a scan of a raw-row table).

#include <string>
#include <vector>

#include "store/reader.hpp"

namespace patternd::store::sql {

std::string patterns(const PatternQuery& q);
std::string failures(const FailureQuery& q);
std::string extractions(const ExtractionQuery& q);
std::string sessions(const SessionQuery& q);
std::string state_changes(const StateChangeQuery& q);
std::string code_blocks(const CodeBlockQuery& q);
std::string agents(const Page& page);
std::string fixes(const FixQuery& q);
std::string outcome_stats(const OutcomeStatsQuery& q);

// Fixed statements (their parameters are always bound).
extern const char* const k_pattern;
extern const char* const k_pattern_days;
extern const char* const k_failure;
extern const std::string k_session;
extern const char* const k_session_changes;
extern const char* const k_session_types;
extern const char* const k_agent_sessions;
extern const char* const k_agent_workflows;
extern const char* const k_agent_types;
extern const char* const k_agent_failures;
extern const char* const k_agent_outcomes;
extern const char* const k_code_block;
extern const char* const k_session_stored;
std::string timeline_activity(bool minutes, bool agent);
std::string timeline_sessions(bool agent);

// Every statement the reader can prepare, for checking their plans.
std::vector<std::string> every_read_statement();

}  // namespace patternd::store::sql
