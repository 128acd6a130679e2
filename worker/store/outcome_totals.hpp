#pragma once
// The aggregates of the outcomes stream (schema/008): failure_fixes per
// (failure signature, approach), outcome_stats per approach and
// outcome_agent_stats per (approach, agent). Fed the outcomes that were new
// to the database, summed in memory, and written with one upsert per row
// per batch inside the batch's transaction; `redetect` feeds it too, so
// both compute the same tables.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "core/event.hpp"

namespace patternd::store {

// What a batch adds, backend-free: each store writes it in its own way
// (SqliteOutcomeTotals here, pg::write_outcome_totals for PostgreSQL).
class OutcomeTotals {
 public:
  // An outcome new to the database; `signature` (and its error type) is its
  // error's failure signature, empty when it names no error.
  void add(const core::Outcome& outcome, const std::string& signature,
           const std::string& error_type);
  // Only the failure_fixes part (redetect, which rebuilds that table alone).
  void add_fix(const core::Outcome& outcome, const std::string& signature,
               const std::string& error_type);

  // Forgets what was added (written, or the transaction rolled back).
  void clear();

  struct Figures {
    std::int64_t attempts = 0, successes = 0, duration_ms_sum = 0, duration_count = 0;
    core::TimestampMs first = 0, last = 0;
    void add(const core::Outcome& o);
  };
  struct Fix {
    Figures figures;
    std::string error_type;
    // The example: lowest (rank, time, identity); rank 0 for a success.
    bool has_example = false;
    int example_rank = 0;
    core::TimestampMs example_time = 0;
    core::Digest example_identity{};
    std::string example;
    std::set<std::string> agents;
  };

  using Fixes = std::map<std::pair<std::string, std::string>, Fix>;  // (signature, pattern)
  using AgentStats = std::map<std::pair<std::string, std::string>, Figures>;  // (pattern, agent)
  const Fixes& fixes() const { return m_fixes; }
  const AgentStats& agent_stats() const { return m_agent_stats; }

 private:
  Fixes m_fixes;
  AgentStats m_agent_stats;
};

// Writes a batch's OutcomeTotals to SQLite: statements prepared once.
class SqliteOutcomeTotals : public OutcomeTotals {
 public:
  explicit SqliteOutcomeTotals(SQLite::Database& db);
  // Writes what was added (inside the caller's transaction) and clears.
  void flush();

 private:
  SQLite::Statement m_upsert_fix;
  SQLite::Statement m_insert_fix_agent;
  SQLite::Statement m_add_fix_agents;
  SQLite::Statement m_upsert_agent_stats;
  SQLite::Statement m_upsert_stats;
};

}  // namespace patternd::store
