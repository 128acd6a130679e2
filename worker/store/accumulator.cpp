#include "store/accumulator.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace patternd::store {
namespace {

constexpr std::int64_t k_ms_per_day = 86'400'000;

std::int64_t day_of(core::TimestampMs time) {
  return time >= 0 ? time / k_ms_per_day : (time - k_ms_per_day + 1) / k_ms_per_day;
}

}  // namespace

std::string_view signature_part(std::string_view signature, int index) {
  for (int i = 0; i < index; ++i) signature.remove_prefix(signature.find(':') + 1);
  return signature.substr(0, signature.find(':'));
}

void PatternAccumulator::add_workflow(std::int64_t workflow_row, const core::Workflow& w,
                                      const std::vector<std::string>& signatures) {
  for (const auto& signature : signatures) {
    auto [it, inserted] =
        m_operation_index.try_emplace(signature, static_cast<std::uint32_t>(m_operations.size()));
    if (inserted) {
      m_operations.emplace_back().signature = signature;
      m_operations.back().first_seen = w.completed_at;
      m_operations.back().last_seen = w.completed_at;
    }
    Operation& op = m_operations[it->second];
    op.occurrences += 1;
    op.successes += w.succeeded() ? 1 : 0;
    op.tokens += w.total_tokens;
    op.cost_micros += w.cost_micros;
    op.duration_ms += w.duration_ms;
    op.errors += w.error_count;
    op.retries += w.retry_count;
    op.first_seen = std::min(op.first_seen, w.completed_at);
    op.last_seen = std::max(op.last_seen, w.completed_at);
    op.runs_per_day[day_of(w.completed_at)] += 1;
    m_occurrences.push_back({it->second, workflow_row, w.completed_at});
  }
}

void PatternAccumulator::add_failure(const std::string& signature, const std::string& error_type,
                                     std::string_view example, const core::Digest& identity,
                                     core::TimestampMs time, const std::string& agent,
                                     std::int64_t session_row) {
  auto [it, inserted] =
      m_failure_index.try_emplace(signature, static_cast<std::uint32_t>(m_failures.size()));
  if (inserted) {
    Failure failure;
    failure.signature = signature;
    failure.error_type = error_type;
    failure.example = core::truncate_utf8(example, k_max_example_bytes);
    failure.example_time = time;
    failure.example_identity = identity;
    failure.first_seen = failure.last_seen = time;
    m_failures.push_back(std::move(failure));
  }
  Failure& f = m_failures[it->second];
  if (time < f.example_time || (time == f.example_time && identity < f.example_identity)) {
    f.example = core::truncate_utf8(example, k_max_example_bytes);
    f.example_time = time;
    f.example_identity = identity;
  }
  f.frequency += 1;
  f.first_seen = std::min(f.first_seen, time);
  f.last_seen = std::max(f.last_seen, time);
  f.agents.insert(agent);
  f.sessions.insert(session_row);
}

FlushCounts PatternAccumulator::flush(Statements& s) {
  FlushCounts counts;
  std::vector<std::int64_t> operation_ids(m_operations.size());
  for (std::size_t i = 0; i < m_operations.size(); ++i) {
    const Operation& op = m_operations[i];
    auto& q = s.upsert_operation_pattern;
    q.bindNoCopy(1, op.signature);
    const std::string category(signature_part(op.signature, 0)),
        tool(signature_part(op.signature, 1)), target(signature_part(op.signature, 2));
    q.bind(2, category);
    q.bind(3, tool);
    q.bind(4, target);
    q.bind(5, op.occurrences);
    q.bind(6, op.successes);
    q.bind(7, op.tokens);
    q.bind(8, op.cost_micros);
    q.bind(9, op.duration_ms);
    q.bind(10, op.errors);
    q.bind(11, op.retries);
    q.bind(12, op.first_seen);
    q.bind(13, op.last_seen);
    q.executeStep();
    operation_ids[i] = q.getColumn(0).getInt64();
    q.reset();
    for (const auto& [day, runs] : op.runs_per_day) {
      auto& d = s.upsert_pattern_day;
      d.bind(1, operation_ids[i]);
      d.bind(2, day);
      d.bind(3, runs);
      d.exec();
      d.reset();
    }
  }
  for (const Occurrence& occurrence : m_occurrences) {
    auto& q = s.insert_occurrence;
    q.bind(1, operation_ids[occurrence.operation]);
    q.bind(2, occurrence.workflow_row);
    q.bind(3, occurrence.time);
    counts.operation_occurrences += static_cast<std::uint64_t>(q.exec());
    q.reset();
  }

  for (const Failure& f : m_failures) {
    auto& q = s.upsert_failure_pattern;
    q.bindNoCopy(1, f.signature);
    q.bindNoCopy(2, f.error_type);
    q.bindNoCopy(3, f.example);
    q.bind(4, f.example_time);
    q.bindNoCopy(5, f.example_identity.data(), static_cast<int>(f.example_identity.size()));
    q.bind(6, f.frequency);
    q.bind(7, f.first_seen);
    q.bind(8, f.last_seen);
    q.executeStep();
    const std::int64_t failure_id = q.getColumn(0).getInt64();
    q.reset();
    counts.failure_occurrences += static_cast<std::uint64_t>(f.frequency);

    std::int64_t new_agents = 0, new_sessions = 0;
    for (const auto& agent : f.agents) {
      auto& a = s.insert_failure_agent;
      a.bind(1, failure_id);
      a.bindNoCopy(2, agent);
      new_agents += a.exec();
      a.reset();
    }
    for (const auto session : f.sessions) {
      auto& m = s.insert_failure_session;
      m.bind(1, failure_id);
      m.bind(2, session);
      new_sessions += m.exec();
      m.reset();
    }
    if (new_agents > 0 || new_sessions > 0) {
      auto& u = s.add_failure_members;
      u.bind(1, new_agents);
      u.bind(2, new_sessions);
      u.bind(3, failure_id);
      u.exec();
      u.reset();
    }
  }

  clear();
  return counts;
}

void PatternAccumulator::clear() {
  m_operation_index.clear();
  m_operations.clear();
  m_occurrences.clear();
  m_failure_index.clear();
  m_failures.clear();
}

}  // namespace patternd::store
