#pragma once
// The queries behind `patternd report`: top operation patterns (from the
// operation_pattern_stats view), top failure signatures, and counts. Ordering
// is total (ties broken by signature) so that equal databases give equal
// reports.

#include <cstdint>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "store/database.hpp"

namespace patternd::store {

struct OperationPatternStats {
  std::string signature, category, tool, target;
  std::int64_t occurrences = 0, successes = 0, runs_last_30_days = 0;
  double avg_tokens = 0, avg_cost_usd = 0, tool_cost_usd = 0, savings_per_run_usd = 0,
         savings_last_30_days_usd = 0, avg_duration_seconds = 0, confidence = 0;
  core::TimestampMs first_seen = 0, last_seen = 0;
};

struct FailureStats {
  std::string signature, error_type, example;
  std::int64_t frequency = 0, agent_count = 0, session_count = 0;
  core::TimestampMs first_seen = 0, last_seen = 0;
};

struct Report {
  std::string rules_version;  // the rules the pattern tables follow
  std::int64_t workflows = 0, extraction_events = 0, sessions = 0, code_blocks = 0,
               operation_patterns = 0, failure_patterns = 0, dead_letters = 0;
  std::vector<std::pair<std::string, std::int64_t>> dead_letters_by_reason;
  std::vector<OperationPatternStats> operations;
  std::vector<FailureStats> failures;
};

Report load_report(Database& db, std::size_t top);

}  // namespace patternd::store
