#include "store/session_deltas.hpp"

#include <algorithm>
#include <string>

namespace patternd::store {

SessionDeltas::Delta& SessionDeltas::add(std::string_view session, const std::string& agent,
                                         core::TimestampMs time, const core::Digest& identity) {
  auto [it, inserted] = m_sessions.try_emplace(session);
  Delta& d = it->second;
  if (inserted || time < d.first || (time == d.first && identity < d.first_identity)) {
    d.agent = &agent;
    d.first = time;
    d.first_identity = identity;
  }
  d.last = inserted ? time : std::max(d.last, time);
  return d;
}

void SessionDeltas::add_event(const core::Extraction& e) {
  Delta& d = add(e.session_id, e.agent_name, e.timestamp, e.identity);
  d.events += 1;
  d.errors += e.is_error() ? 1 : 0;
}

void SessionDeltas::add_outcome(const core::Outcome& o) {
  if (o.session_id.empty()) return;
  add(o.session_id, o.agent_name, o.timestamp, o.identity).outcomes += 1;
}

std::unordered_map<std::string_view, std::int64_t> SessionDeltas::flush(Statements& statements) {
  std::unordered_map<std::string_view, std::int64_t> rows;
  rows.reserve(m_sessions.size());
  auto& q = statements.upsert_session;
  for (const auto& [session_id, d] : m_sessions) {
    q.bind(1, std::string(session_id));
    q.bindNoCopy(2, *d.agent);
    q.bind(3, d.first);
    q.bindNoCopy(4, d.first_identity.data(), static_cast<int>(d.first_identity.size()));
    q.bind(5, d.last);
    q.bind(6, d.events);
    q.bind(7, d.errors);
    q.bind(8, d.outcomes);
    q.executeStep();
    rows[session_id] = q.getColumn(0).getInt64();
    q.reset();
  }
  m_sessions.clear();
  return rows;
}

}  // namespace patternd::store
