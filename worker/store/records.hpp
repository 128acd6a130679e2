#pragma once
// The plain data the store answers with (reports, dead letters, prune,
// backup and redetect summaries): what commands and the read API see of a
// database, whichever database it is.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/time.hpp"

namespace patternd::store {

// What opening a store for writing did to its schema.
struct MigrationReport {
  int from_version = 0;
  int to_version = 0;
};

// Opening a store failed.
struct OpenError {
  std::string message;
  // The file is another application's database (a wrong storage.path): a
  // configuration error, and nothing was added to it.
  bool foreign = false;
};

// --- `patternd report`: top patterns and counts -------------------------------

struct OperationPatternStats {
  std::string signature, category, tool, target;
  std::int64_t occurrences = 0, successes = 0, runs_last_30_days = 0;
  double avg_tokens = 0, avg_cost_usd = 0, tool_cost_usd = 0, savings_per_run_usd = 0,
         savings_last_30_days_usd = 0, avg_duration_seconds = 0, confidence = 0;
  core::TimestampMs first_seen = 0, last_seen = 0;
};

// An approach tried against a failure (failure_fixes), for the report.
struct FixStats {
  std::string pattern;
  std::optional<std::string> fix_example;
  std::int64_t attempts = 0, successes = 0;
  double confidence = 0;  // Wilson lower bound of successes / attempts
};

struct FailureStats {
  std::string signature, error_type, example;
  std::int64_t frequency = 0, agent_count = 0, session_count = 0;
  core::TimestampMs first_seen = 0, last_seen = 0;
  std::vector<FixStats> top_fixes;  // the report's: its best three, by confidence
};

struct Report {
  std::string rules_version;  // the rules the pattern tables follow
  std::int64_t workflows = 0, extraction_events = 0, sessions = 0, code_blocks = 0,
               operation_patterns = 0, failure_patterns = 0, dead_letters = 0;
  std::vector<std::pair<std::string, std::int64_t>> dead_letters_by_reason;
  std::vector<OperationPatternStats> operations;
  std::vector<FailureStats> failures;
};

// --- dead letters ------------------------------------------------------------

struct DeadLetterFilter {
  std::optional<std::string> reason_class;  // invalid_json, too_large, missing_field, ...
  std::optional<std::string> topic;
  std::optional<core::TimestampMs> since, until;  // rejected at or after / before
  std::int64_t after_id = 0;                      // keyset paging: ids above this
  std::int64_t limit = 100;
};

struct DeadLetter {
  std::int64_t id = 0;
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string reason_class;
  std::string reason;
  std::string payload;            // the first 64 KiB
  std::int64_t payload_size = 0;  // the whole message's size
  std::optional<core::TimestampMs> message_time;
  core::TimestampMs received_at = 0;
  std::optional<std::string> source_file;  // a file's dead letter: where it is
  std::optional<std::int64_t> source_line;

  bool truncated() const { return payload_size > static_cast<std::int64_t>(payload.size()); }
};

// --- retention ---------------------------------------------------------------

struct PruneOptions {
  std::int64_t chunk = 5000;                // rows per transaction
  std::chrono::milliseconds pause{20};      // between transactions
  const std::atomic<bool>* stop = nullptr;  // checked between transactions
};

struct PruneReport {
  std::int64_t workflows = 0, occurrences = 0, events = 0, outcomes = 0, state_changes = 0,
               prompts = 0, code_blocks = 0, dead_letters = 0;
  std::int64_t transactions = 0;
  bool stopped = false;  // `stop` was set before the end
  std::int64_t total() const {
    return workflows + occurrences + events + outcomes + state_changes + prompts + code_blocks +
           dead_letters;
  }
};

// --- backup and redetect -----------------------------------------------------

struct BackupReport {
  std::int64_t bytes = 0;
  std::int64_t partitions = 0;        // partitions with a stored offset
  std::int64_t messages_covered = 0;  // the sum of stored next offsets
  double seconds = 0;
};

struct BackupError {
  std::string message;
  // `out` existed, at the start or by the time the copy was ready (another
  // program created it meanwhile): a usage error; it was left untouched.
  bool out_exists = false;
};

struct RedetectSummary {
  std::uint64_t workflows = 0;
  std::uint64_t error_events = 0;
  std::uint64_t operation_occurrences = 0;
  std::uint64_t failure_occurrences = 0;
  std::uint64_t outcomes = 0;  // outcomes with an error, linked to their signature again
};

// The horizon for `days` of retention at `now`; days must be > 0.
inline core::TimestampMs retention_horizon(std::int64_t days, core::TimestampMs now) {
  return now - days * 86'400'000;
}

// Distinct patterns stored, for the patternd_patterns gauge.
struct PatternCounts {
  std::int64_t operation = 0;
  std::int64_t failure = 0;
};

// The metadata key of the rules version the pattern tables follow.
inline constexpr const char* k_meta_rules_version = "rules_version";

}  // namespace patternd::store
