#pragma once
// Per-agent totals and per-agent activity by minute and hour (schema/007),
// grown in the batch's transaction by the rows that were new to the
// database: one upsert per agent (and event type, or minute, or hour) per
// batch, so that an agent's figures and a timeline are read in a few probes
// instead of a sum over raw rows.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <map>
#include <string>
#include <utility>

#include "core/event.hpp"

namespace patternd::store {

// What a batch adds, backend-free: each store writes it in its own way
// (SqliteAgentTotals here, pg::write_agent_totals for PostgreSQL).
class AgentTotals {
 public:
  void add_workflow(const core::Workflow& workflow);
  void add_event(const core::Extraction& event);
  void add_outcome(const core::Outcome& outcome);  // activity only: totals are outcome_agent_stats
  // Forgets what was added (written, or the transaction rolled back).
  void clear();

  struct Span {
    std::int64_t count = 0;
    core::TimestampMs first = 0, last = 0;
    void add(core::TimestampMs t);
  };
  struct WorkflowTotals {
    Span span;
    std::int64_t successes = 0, tokens = 0, cost_micros = 0;
  };
  struct Activity {
    std::int64_t workflows = 0, errors = 0, outcomes = 0;
  };
  using ActivityMap = std::map<std::pair<std::int64_t, std::string>, Activity>;
  const std::map<std::string, WorkflowTotals>& workflows() const { return m_workflows; }
  const std::map<std::pair<std::string, std::string>, Span>& events() const { return m_events; }
  const ActivityMap& minutes() const { return m_minutes; }
  const ActivityMap& hours() const { return m_hours; }

 private:
  std::map<std::string, WorkflowTotals> m_workflows;
  std::map<std::pair<std::string, std::string>, Span> m_events;  // (agent, type)
  // (minute or hour since the epoch, agent)
  ActivityMap m_minutes, m_hours;
};

// Writes a batch's AgentTotals to SQLite: statements prepared once.
class SqliteAgentTotals : public AgentTotals {
 public:
  explicit SqliteAgentTotals(SQLite::Database& db);
  // Writes what was added (inside the caller's transaction) and clears.
  void flush();

 private:
  SQLite::Statement m_upsert_workflows;
  SQLite::Statement m_upsert_events;
  SQLite::Statement m_upsert_minute;
  SQLite::Statement m_upsert_hour;
};

}  // namespace patternd::store
