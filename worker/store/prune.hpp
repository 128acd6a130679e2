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
#include "store/records.hpp"

namespace patternd::store {

// Rows with event times before `horizon` (dead letters: rejected before it).
// Throws SQLite::Exception if the database refuses (the next prune resumes).
PruneReport prune(Database& db, core::TimestampMs horizon, const PruneOptions& options = {});

}  // namespace patternd::store
