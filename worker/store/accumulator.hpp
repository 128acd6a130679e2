#pragma once
// Per-batch, in-memory aggregation of pattern occurrences: the batch writer
// and `redetect` both feed new occurrences here and flush once, so the
// database sees one upsert per pattern per batch and both paths compute
// exactly the same tables.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event.hpp"
#include "pipeline/outcome.hpp"
#include "store/statements.hpp"

namespace patternd::store {

using FlushCounts = pipeline::NewOccurrences;

class PatternAccumulator {
 public:
  // A workflow that is new to the database, with its detected signatures.
  void add_workflow(std::int64_t workflow_row, const core::Workflow& workflow,
                    const std::vector<std::string>& signatures);

  // An error event that is new to the database. `session_row` is its
  // agent_sessions.id.
  void add_failure(const std::string& signature, const std::string& error_type,
                   std::string_view example, const core::Digest& identity, core::TimestampMs time,
                   const std::string& agent, std::int64_t session_row);

  // Writes what was accumulated (inside the caller's transaction) and clears.
  FlushCounts flush(Statements& statements);
  // Forgets what was added (written, or the transaction rolled back).
  void clear();

  // What was accumulated, for a store that writes it in its own way
  // (pg::write_patterns).
  struct Operation {
    std::string signature;
    std::int64_t occurrences = 0, successes = 0, tokens = 0, cost_micros = 0, duration_ms = 0,
                 errors = 0, retries = 0;
    core::TimestampMs first_seen = 0, last_seen = 0;
    std::map<std::int64_t, std::int64_t> runs_per_day;
  };
  struct Occurrence {
    std::uint32_t operation;
    std::int64_t workflow_row;
    core::TimestampMs time;
  };
  struct Failure {
    std::string signature, error_type, example;
    core::TimestampMs example_time = 0;
    core::Digest example_identity{};
    std::int64_t frequency = 0;
    core::TimestampMs first_seen = 0, last_seen = 0;
    std::set<std::string> agents;
    std::set<std::int64_t> sessions;
  };
  const std::vector<Operation>& operations() const { return m_operations; }
  const std::vector<Occurrence>& occurrences() const { return m_occurrences; }
  const std::vector<Failure>& failures() const { return m_failures; }

 private:
  std::unordered_map<std::string, std::uint32_t> m_operation_index;
  std::vector<Operation> m_operations;
  std::vector<Occurrence> m_occurrences;
  std::unordered_map<std::string, std::uint32_t> m_failure_index;
  std::vector<Failure> m_failures;
};

// The category, tool or target (index 0, 1, 2) of an operation signature
// "category:tool:target".
std::string_view signature_part(std::string_view signature, int index);

// Examples are kept short: enough to recognise the error.
inline constexpr std::size_t k_max_example_bytes = 2048;

}  // namespace patternd::store
