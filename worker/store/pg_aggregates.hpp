#pragma once
// The aggregates a batch grows, written to PostgreSQL: each table with one
// statement per batch (the rows as arrays, store/pg_arrays.hpp), its rows in
// a fixed key order. Workers writing at once lock the rows they share in the
// same order, so they queue behind one another instead of deadlocking; a
// deadlock the server reports anyway (40P01) is a transient error the whole
// batch is retried for.
//
// The sums come from the same backend-free accumulators SQLite's writer
// fills (accumulator.hpp, agent_totals.hpp, ...), so both stores compute the
// same tables. Each function runs inside the caller's transaction.

#include <string_view>
#include <unordered_map>

#include "pipeline/outcome.hpp"
#include "store/accumulator.hpp"
#include "store/agent_totals.hpp"
#include "store/outcome_totals.hpp"
#include "store/pg_arrays.hpp"
#include "store/pg_connection.hpp"
#include "store/prompt_totals.hpp"
#include "store/session_deltas.hpp"

namespace patternd::store::pg {

// The staging table write_sessions() copies into: once per connection.
void create_session_staging(Connection& c);
// Upserts the sessions; returns each one's agent_sessions.id (the failure
// patterns count sessions by it).
std::unordered_map<std::string_view, std::int64_t> write_sessions(Connection& c,
                                                                  const SessionDeltas& sessions);
pipeline::NewOccurrences write_patterns(Connection& c, const PatternAccumulator& patterns);
void write_agent_totals(Connection& c, const AgentTotals& totals);
void write_outcome_totals(Connection& c, const OutcomeTotals& totals);
void write_prompt_totals(Connection& c, const PromptTotals& totals);

// code_blocks: one row per distinct block, grown by its new occurrences.
struct CodeBlockDelta {
  const core::CodeBlock* block = nullptr;
  std::int64_t occurrences = 0;
  core::TimestampMs first = 0, last = 0;
};
void write_code_blocks(Connection& c, const std::map<core::Digest, CodeBlockDelta>& blocks);

}  // namespace patternd::store::pg
