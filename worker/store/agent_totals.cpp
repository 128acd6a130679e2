#include "store/agent_totals.hpp"

namespace patternd::store {
namespace {

constexpr const char* k_upsert_workflows = R"sql(
INSERT INTO agent_workflow_totals
  (agent_name, workflows, successes, total_tokens, cost_micros, first_seen, last_seen)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (agent_name) DO UPDATE SET
  workflows = workflows + excluded.workflows,
  successes = successes + excluded.successes,
  total_tokens = total_tokens + excluded.total_tokens,
  cost_micros = cost_micros + excluded.cost_micros,
  first_seen = min(first_seen, excluded.first_seen),
  last_seen = max(last_seen, excluded.last_seen))sql";

constexpr const char* k_upsert_events = R"sql(
INSERT INTO agent_event_totals (agent_name, event_type, events, first_seen, last_seen)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (agent_name, event_type) DO UPDATE SET
  events = events + excluded.events,
  first_seen = min(first_seen, excluded.first_seen),
  last_seen = max(last_seen, excluded.last_seen))sql";

constexpr const char* k_upsert_minute = R"sql(
INSERT INTO activity_minutes (minute, agent_name, workflows, errors, outcomes) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (minute, agent_name) DO UPDATE SET
  workflows = workflows + excluded.workflows, errors = errors + excluded.errors,
  outcomes = outcomes + excluded.outcomes)sql";

constexpr const char* k_upsert_hour = R"sql(
INSERT INTO activity_hours (hour, agent_name, workflows, errors, outcomes) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (hour, agent_name) DO UPDATE SET
  workflows = workflows + excluded.workflows, errors = errors + excluded.errors,
  outcomes = outcomes + excluded.outcomes)sql";

// Integer division, as schema/007's backfill buckets (toward zero).
constexpr std::int64_t k_minute_ms = 60'000;
constexpr std::int64_t k_hour_ms = 3'600'000;

}  // namespace

void AgentTotals::Span::add(core::TimestampMs t) {
  first = count == 0 ? t : std::min(first, t);
  last = count == 0 ? t : std::max(last, t);
  ++count;
}

SqliteAgentTotals::SqliteAgentTotals(SQLite::Database& db)
    : m_upsert_workflows(db, k_upsert_workflows),
      m_upsert_events(db, k_upsert_events),
      m_upsert_minute(db, k_upsert_minute),
      m_upsert_hour(db, k_upsert_hour) {}

void AgentTotals::add_workflow(const core::Workflow& w) {
  WorkflowTotals& t = m_workflows[w.agent_name];
  t.span.add(w.completed_at);
  t.successes += w.succeeded();
  t.tokens += w.total_tokens;
  t.cost_micros += w.cost_micros;
  ++m_minutes[{w.completed_at / k_minute_ms, w.agent_name}].workflows;
  ++m_hours[{w.completed_at / k_hour_ms, w.agent_name}].workflows;
}

void AgentTotals::add_event(const core::Extraction& e) {
  m_events[{e.agent_name, e.event_type}].add(e.timestamp);
  if (e.is_error()) {
    ++m_minutes[{e.timestamp / k_minute_ms, e.agent_name}].errors;
    ++m_hours[{e.timestamp / k_hour_ms, e.agent_name}].errors;
  }
}

void AgentTotals::add_outcome(const core::Outcome& o) {
  ++m_minutes[{o.timestamp / k_minute_ms, o.agent_name}].outcomes;
  ++m_hours[{o.timestamp / k_hour_ms, o.agent_name}].outcomes;
}

void SqliteAgentTotals::flush() {
  for (const auto& [agent, t] : workflows()) {
    auto& q = m_upsert_workflows;
    q.reset();
    q.bindNoCopy(1, agent);
    q.bind(2, t.span.count);
    q.bind(3, t.successes);
    q.bind(4, t.tokens);
    q.bind(5, t.cost_micros);
    q.bind(6, t.span.first);
    q.bind(7, t.span.last);
    q.exec();
  }
  for (const auto& [key, span] : events()) {
    auto& q = m_upsert_events;
    q.reset();
    q.bindNoCopy(1, key.first);
    q.bindNoCopy(2, key.second);
    q.bind(3, span.count);
    q.bind(4, span.first);
    q.bind(5, span.last);
    q.exec();
  }
  for (auto [table, statement] :
       {std::pair{&minutes(), &m_upsert_minute}, {&hours(), &m_upsert_hour}}) {
    for (const auto& [key, activity] : *table) {
      auto& q = *statement;
      q.reset();
      q.bind(1, key.first);
      q.bindNoCopy(2, key.second);
      q.bind(3, activity.workflows);
      q.bind(4, activity.errors);
      q.bind(5, activity.outcomes);
      q.exec();
    }
  }
  clear();
}

void AgentTotals::clear() {
  m_workflows.clear();
  m_events.clear();
  m_minutes.clear();
  m_hours.clear();
}

}  // namespace patternd::store
