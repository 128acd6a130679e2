#pragma once
// Retention: deletes raw rows older than the horizon (by event time) in short
// transactions of at most `chunk` rows each, pausing between them, so a
// worker sharing the database keeps writing while a prune runs. The pattern
// aggregates (operation_patterns, operation_pattern_days, failure_patterns
// and their distinct agents and sessions) and agent_sessions are kept: they
// are the memory. Messages older than the horizon are not ingested any more
// (expired), so a pruned row can never be counted twice.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "core/time.hpp"
#include "store/database.hpp"

namespace patternd::store {

struct PruneOptions {
  std::int64_t chunk = 5000;                  // rows per transaction
  std::chrono::milliseconds pause{20};        // between transactions
  const std::atomic<bool>* stop = nullptr;    // checked between transactions
};

struct PruneReport {
  std::int64_t workflows = 0, occurrences = 0, events = 0, code_blocks = 0, dead_letters = 0;
  std::int64_t transactions = 0;
  bool stopped = false;  // `stop` was set before the end
  std::int64_t total() const {
    return workflows + occurrences + events + code_blocks + dead_letters;
  }
};

// Rows with event times before `horizon` (dead letters: rejected before it).
// Throws SQLite::Exception if the database refuses (the next prune resumes).
PruneReport prune(Database& db, core::TimestampMs horizon, const PruneOptions& options = {});

// The horizon for `days` of retention at `now`; days must be > 0.
inline core::TimestampMs retention_horizon(std::int64_t days, core::TimestampMs now) {
  return now - days * 86'400'000;
}

}  // namespace patternd::store
