#include "store/pg_aggregates.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "store/pg_arrays.hpp"

namespace patternd::store::pg {
namespace {

constexpr const char* k_upsert_operation_patterns = R"sql(
INSERT INTO operation_patterns AS p
  (pattern_signature, category, tool, target, occurrences, successes, total_tokens,
   total_cost_micros, total_duration_ms, total_errors, total_retries, first_seen, last_seen)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],
  $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],
  $12::bigint[], $13::bigint[])
ON CONFLICT (pattern_signature) DO UPDATE SET
  occurrences       = p.occurrences + excluded.occurrences,
  successes         = p.successes + excluded.successes,
  total_tokens      = p.total_tokens + excluded.total_tokens,
  total_cost_micros = p.total_cost_micros + excluded.total_cost_micros,
  total_duration_ms = p.total_duration_ms + excluded.total_duration_ms,
  total_errors      = p.total_errors + excluded.total_errors,
  total_retries     = p.total_retries + excluded.total_retries,
  first_seen        = least(p.first_seen, excluded.first_seen),
  last_seen         = greatest(p.last_seen, excluded.last_seen)
RETURNING pattern_signature, id)sql";

constexpr const char* k_upsert_pattern_days = R"sql(
INSERT INTO operation_pattern_days AS d (pattern_id, day, occurrences)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
ON CONFLICT (pattern_id, day) DO UPDATE SET occurrences = d.occurrences + excluded.occurrences)sql";

constexpr const char* k_insert_occurrences = R"sql(
INSERT INTO pattern_occurrences (pattern_id, workflow_id, occurred_at)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
ON CONFLICT DO NOTHING)sql";

// The example is the earliest occurrence by event time, ties broken by the
// smaller identity.
constexpr const char* k_upsert_failure_patterns = R"sql(
INSERT INTO failure_patterns AS f
  (signature, error_type, example, example_time, example_identity, frequency, first_seen,
   last_seen, agent_count, session_count)
SELECT *, 0, 0 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bytea[],
  $6::bigint[], $7::bigint[], $8::bigint[])
ON CONFLICT (signature) DO UPDATE SET
  example = CASE WHEN (excluded.example_time, excluded.example_identity)
                      < (f.example_time, f.example_identity)
                 THEN excluded.example ELSE f.example END,
  example_identity = CASE WHEN (excluded.example_time, excluded.example_identity)
                               < (f.example_time, f.example_identity)
                          THEN excluded.example_identity ELSE f.example_identity END,
  example_time = least(f.example_time, excluded.example_time),
  frequency    = f.frequency + excluded.frequency,
  first_seen   = least(f.first_seen, excluded.first_seen),
  last_seen    = greatest(f.last_seen, excluded.last_seen)
RETURNING signature, id)sql";

// Members new to a pattern, counted by what the insert added: a concurrent
// insert of the same member waits for the other transaction, then adds
// nothing, so each member is counted once whichever worker saw it first.
constexpr const char* k_insert_failure_agents = R"sql(
INSERT INTO failure_pattern_agents (failure_id, agent_name)
SELECT * FROM unnest($1::bigint[], $2::text[])
ON CONFLICT DO NOTHING RETURNING failure_id)sql";

constexpr const char* k_insert_failure_sessions = R"sql(
INSERT INTO failure_pattern_sessions (failure_id, session_id)
SELECT * FROM unnest($1::bigint[], $2::bigint[])
ON CONFLICT DO NOTHING RETURNING failure_id)sql";

constexpr const char* k_add_failure_members = R"sql(
UPDATE failure_patterns f SET agent_count = f.agent_count + u.agents,
                              session_count = f.session_count + u.sessions
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(id, agents, sessions)
WHERE f.id = u.id)sql";

constexpr const char* k_upsert_agent_workflows = R"sql(
INSERT INTO agent_workflow_totals AS t
  (agent_name, workflows, successes, total_tokens, cost_micros, first_seen, last_seen)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
  $6::bigint[], $7::bigint[])
ON CONFLICT (agent_name) DO UPDATE SET
  workflows = t.workflows + excluded.workflows,
  successes = t.successes + excluded.successes,
  total_tokens = t.total_tokens + excluded.total_tokens,
  cost_micros = t.cost_micros + excluded.cost_micros,
  first_seen = least(t.first_seen, excluded.first_seen),
  last_seen = greatest(t.last_seen, excluded.last_seen))sql";

constexpr const char* k_upsert_agent_events = R"sql(
INSERT INTO agent_event_totals AS t (agent_name, event_type, events, first_seen, last_seen)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
ON CONFLICT (agent_name, event_type) DO UPDATE SET
  events = t.events + excluded.events,
  first_seen = least(t.first_seen, excluded.first_seen),
  last_seen = greatest(t.last_seen, excluded.last_seen))sql";

// %s: minute or hour (the table activity_%ss and its first column).
constexpr const char* k_upsert_activity = R"sql(
INSERT INTO activity_%ss AS a (%s, agent_name, workflows, errors, outcomes)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
ON CONFLICT (%s, agent_name) DO UPDATE SET
  workflows = a.workflows + excluded.workflows, errors = a.errors + excluded.errors,
  outcomes = a.outcomes + excluded.outcomes)sql";

constexpr const char* k_upsert_prompt_backends = R"sql(
INSERT INTO prompt_backend_stats AS b
  (backend, prompts, confidence_micros, confidence_count, latency_ms_sum, latency_count,
   first_seen, last_seen)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
  $6::bigint[], $7::bigint[], $8::bigint[])
ON CONFLICT (backend) DO UPDATE SET
  prompts = b.prompts + excluded.prompts,
  confidence_micros = b.confidence_micros + excluded.confidence_micros,
  confidence_count = b.confidence_count + excluded.confidence_count,
  latency_ms_sum = b.latency_ms_sum + excluded.latency_ms_sum,
  latency_count = b.latency_count + excluded.latency_count,
  first_seen = least(b.first_seen, excluded.first_seen),
  last_seen = greatest(b.last_seen, excluded.last_seen))sql";

constexpr const char* k_upsert_code_blocks = R"sql(
INSERT INTO code_blocks AS b (digest, language, content, occurrences, first_seen, last_seen)
SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
  $6::bigint[])
ON CONFLICT (digest) DO UPDATE SET
  occurrences = b.occurrences + excluded.occurrences,
  first_seen  = least(b.first_seen, excluded.first_seen),
  last_seen   = greatest(b.last_seen, excluded.last_seen))sql";

}  // namespace

pipeline::NewOccurrences write_patterns(Connection& c, const PatternAccumulator& patterns) {
  pipeline::NewOccurrences counts;
  const auto& operations = patterns.operations();
  if (!operations.empty()) {
    std::vector<std::uint32_t> order(operations.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return operations[a].signature < operations[b].signature;
    });
    Rows rows(13);
    for (const std::uint32_t i : order) {
      const PatternAccumulator::Operation& op = operations[i];
      rows.begin_row();
      rows.text(op.signature);
      for (int part = 0; part < 3; ++part) rows.text(signature_part(op.signature, part));
      rows.integer(op.occurrences).integer(op.successes).integer(op.tokens);
      rows.integer(op.cost_micros).integer(op.duration_ms).integer(op.errors);
      rows.integer(op.retries).integer(op.first_seen).integer(op.last_seen);
      rows.end_row();
    }
    const PgResult upserted = send(c, k_upsert_operation_patterns, rows);
    std::unordered_map<std::string, std::int64_t> id_of;
    for (int i = 0; i < PQntuples(upserted.get()); ++i)
      id_of[text_at(upserted.get(), i, 0)] = integer_at(upserted.get(), i, 1);
    std::vector<std::int64_t> ids(operations.size());
    for (std::size_t i = 0; i < operations.size(); ++i) ids[i] = id_of.at(operations[i].signature);

    // Days and occurrences by pattern id, then day or workflow: the order of
    // their primary keys.
    Rows days(3);
    for (const std::uint32_t i : order)
      for (const auto& [day, runs] : operations[i].runs_per_day) {
        days.begin_row();
        days.integer(ids[i]).integer(day).integer(runs);
        days.end_row();
      }
    send(c, k_upsert_pattern_days, days);
    auto occurrences = patterns.occurrences();
    std::sort(occurrences.begin(), occurrences.end(), [&](const auto& a, const auto& b) {
      return std::pair(ids[a.operation], a.workflow_row) <
             std::pair(ids[b.operation], b.workflow_row);
    });
    Rows occurred(3);
    for (const auto& o : occurrences) {
      occurred.begin_row();
      occurred.integer(ids[o.operation]).integer(o.workflow_row).integer(o.time);
      occurred.end_row();
    }
    counts.operation_occurrences =
        static_cast<std::uint64_t>(rows_changed(send(c, k_insert_occurrences, occurred).get()));
  }

  const auto& failures = patterns.failures();
  if (failures.empty()) return counts;
  std::vector<std::uint32_t> order(failures.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return failures[a].signature < failures[b].signature;
  });
  Rows rows(8);
  for (const std::uint32_t i : order) {
    const PatternAccumulator::Failure& f = failures[i];
    rows.begin_row();
    rows.text(f.signature).text(f.error_type).text(f.example).integer(f.example_time);
    rows.digest(f.example_identity).integer(f.frequency).integer(f.first_seen);
    rows.integer(f.last_seen);
    rows.end_row();
    counts.failure_occurrences += static_cast<std::uint64_t>(f.frequency);
  }
  const PgResult upserted = send(c, k_upsert_failure_patterns, rows);
  std::unordered_map<std::string, std::int64_t> id_of;
  for (int i = 0; i < PQntuples(upserted.get()); ++i)
    id_of[text_at(upserted.get(), i, 0)] = integer_at(upserted.get(), i, 1);

  Rows agents(2), sessions(2);
  for (const std::uint32_t i : order) {
    const std::int64_t id = id_of.at(failures[i].signature);
    for (const auto& agent : failures[i].agents) {
      agents.begin_row();
      agents.integer(id).text(agent);
      agents.end_row();
    }
    for (const auto session : failures[i].sessions) {
      sessions.begin_row();
      sessions.integer(id).integer(session);
      sessions.end_row();
    }
  }
  // Per failure id: (new agents, new sessions).
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> added;
  const PgResult new_agents = send(c, k_insert_failure_agents, agents);
  for (int i = 0; i < PQntuples(new_agents.get()); ++i)
    ++added[integer_at(new_agents.get(), i, 0)].first;
  const PgResult new_sessions = send(c, k_insert_failure_sessions, sessions);
  for (int i = 0; i < PQntuples(new_sessions.get()); ++i)
    ++added[integer_at(new_sessions.get(), i, 0)].second;
  if (added.empty()) return counts;
  Rows members(3);
  for (const auto& [id, n] : added) {
    members.begin_row();
    members.integer(id).integer(n.first).integer(n.second);
    members.end_row();
  }
  send(c, k_add_failure_members, members);
  return counts;
}

void write_agent_totals(Connection& c, const AgentTotals& totals) {
  if (!totals.workflows().empty()) {
    Rows rows(7);
    for (const auto& [agent, t] : totals.workflows()) {
      rows.begin_row();
      rows.text(agent).integer(t.span.count).integer(t.successes).integer(t.tokens);
      rows.integer(t.cost_micros).integer(t.span.first).integer(t.span.last);
      rows.end_row();
    }
    send(c, k_upsert_agent_workflows, rows);
  }
  if (!totals.events().empty()) {
    Rows rows(5);
    for (const auto& [key, span] : totals.events()) {
      rows.begin_row();
      rows.text(key.first).text(key.second).integer(span.count).integer(span.first);
      rows.integer(span.last);
      rows.end_row();
    }
    send(c, k_upsert_agent_events, rows);
  }
  for (const auto& [unit, activity] :
       {std::pair{"minute", &totals.minutes()}, {"hour", &totals.hours()}}) {
    if (activity->empty()) continue;
    Rows rows(5);
    for (const auto& [key, a] : *activity) {
      rows.begin_row();
      rows.integer(key.first).text(key.second).integer(a.workflows).integer(a.errors);
      rows.integer(a.outcomes);
      rows.end_row();
    }
    std::string sql = k_upsert_activity;
    for (std::size_t at; (at = sql.find("%s")) != std::string::npos;) sql.replace(at, 2, unit);
    send(c, sql, rows);
  }
}

void write_prompt_totals(Connection& c, const PromptTotals& totals) {
  if (totals.backends().empty()) return;
  Rows rows(8);
  for (const auto& [backend, f] : totals.backends()) {
    rows.begin_row();
    rows.text(backend).integer(f.prompts).integer(f.confidence_micros);
    rows.integer(f.confidence_count).integer(f.latency_ms_sum).integer(f.latency_count);
    rows.integer(f.first).integer(f.last);
    rows.end_row();
  }
  send(c, k_upsert_prompt_backends, rows);
}

void write_code_blocks(Connection& c, const std::map<core::Digest, CodeBlockDelta>& blocks) {
  if (blocks.empty()) return;
  Rows rows(6);
  for (const auto& [digest, b] : blocks) {
    rows.begin_row();
    rows.digest(digest).text(b.block->language).text(b.block->content);
    rows.integer(b.occurrences).integer(b.first).integer(b.last);
    rows.end_row();
  }
  send(c, k_upsert_code_blocks, rows);
}

}  // namespace patternd::store::pg
