#include "store/session_deltas.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace patternd::store {
namespace {

// A text field of the session's lifecycle: the earliest event that carries
// it wins (an upsert's SET reads the row as it was before).
#define PATTERND_EARLIEST(field, n)                                                          \
  field " = CASE WHEN ?" #n "1 IS NOT NULL AND (" field "_rank IS NULL OR ?" #n "1 < " field \
        "_rank) THEN ?" #n "0 ELSE " field " END, " field "_rank = CASE WHEN ?" #n           \
        "1 IS NOT NULL AND (" field "_rank IS NULL OR ?" #n "1 < " field "_rank) THEN ?" #n  \
        "1 ELSE " field "_rank END"

// The agent and first event are those of the earliest event of any kind
// (ties: smaller identity). min() and max() with a NULL are NULL in SQLite,
// hence the coalesce around the optional ones.
constexpr const char* k_upsert_session =
    R"sql(
INSERT INTO agent_sessions
  (session_id, agent_name, first_event, first_event_identity, last_event, event_count,
   error_count, feedback_outcomes, state_changes, started_at, ended_at, exit_code, end_state,
   end_rank, state, state_rank, lines_processed, environment, environment_rank,
   stdout_log_path, stdout_log_path_rank, stderr_log_path, stderr_log_path_rank,
   extraction_config_version, extraction_config_version_rank, environment_config_version,
   environment_config_version_rank)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
        ?20, ?21, ?30, ?31, ?40, ?41, ?50, ?51, ?60, ?61)
ON CONFLICT (session_id) DO UPDATE SET
  agent_name = CASE WHEN excluded.first_event < first_event
                      OR (excluded.first_event = first_event
                          AND excluded.first_event_identity < first_event_identity)
                    THEN excluded.agent_name ELSE agent_name END,
  first_event_identity = CASE WHEN excluded.first_event < first_event
                                OR (excluded.first_event = first_event
                                    AND excluded.first_event_identity < first_event_identity)
                              THEN excluded.first_event_identity
                              ELSE first_event_identity END,
  first_event = min(first_event, excluded.first_event),
  last_event  = max(last_event, excluded.last_event),
  event_count = event_count + excluded.event_count,
  error_count = error_count + excluded.error_count,
  feedback_outcomes = feedback_outcomes + excluded.feedback_outcomes,
  state_changes = state_changes + excluded.state_changes,
  started_at = coalesce(min(started_at, excluded.started_at), started_at, excluded.started_at),
  lines_processed = coalesce(max(lines_processed, excluded.lines_processed), lines_processed,
                             excluded.lines_processed),
  ended_at = CASE WHEN ?14 IS NOT NULL AND (end_rank IS NULL OR ?14 > end_rank)
                  THEN ?11 ELSE ended_at END,
  exit_code = CASE WHEN ?14 IS NOT NULL AND (end_rank IS NULL OR ?14 > end_rank)
                   THEN ?12 ELSE exit_code END,
  end_state = CASE WHEN ?14 IS NOT NULL AND (end_rank IS NULL OR ?14 > end_rank)
                   THEN ?13 ELSE end_state END,
  end_rank = CASE WHEN ?14 IS NOT NULL AND (end_rank IS NULL OR ?14 > end_rank)
                  THEN ?14 ELSE end_rank END,
  state = CASE WHEN ?16 IS NOT NULL AND (state_rank IS NULL OR ?16 > state_rank)
               THEN ?15 ELSE state END,
  state_rank = CASE WHEN ?16 IS NOT NULL AND (state_rank IS NULL OR ?16 > state_rank)
                    THEN ?16 ELSE state_rank END,
  )sql" PATTERND_EARLIEST("environment", 2) ",\n  " PATTERND_EARLIEST("stdout_log_path", 3) ",\n  " PATTERND_EARLIEST(
        "stderr_log_path", 4) ",\n  " PATTERND_EARLIEST("extraction_config_version",
                                                        5) ",\n  " PATTERND_EARLIEST("environment_config_version", 6) R"sql(
RETURNING id)sql";

#undef PATTERND_EARLIEST

void bind_rank(SQLite::Statement& q, int index, const EventRank& rank) {
  q.bind(index, rank.data(), static_cast<int>(rank.size()));
}

}  // namespace

EventRank event_rank(core::TimestampMs time, const core::Digest& identity) {
  EventRank r{};
  // Offset by 2^63 so that the unsigned big-endian bytes order as the signed time.
  const std::uint64_t t = static_cast<std::uint64_t>(time) ^ (std::uint64_t{1} << 63);
  for (int i = 0; i < 8; ++i)
    r[static_cast<std::size_t>(i)] = static_cast<unsigned char>(t >> (56 - 8 * i));
  std::memcpy(r.data() + 8, identity.data(), identity.size());
  return r;
}

SqliteSessionDeltas::SqliteSessionDeltas(SQLite::Database& db) : m_upsert(db, k_upsert_session) {}

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

void SessionDeltas::add_lifecycle(const core::SessionEvent& e) {
  Delta& d = add(e.session_id, e.agent_name, e.timestamp, e.identity);
  d.state_changes += 1;
  const EventRank rank = event_rank(e.timestamp, e.identity);
  if (e.state == core::SessionState::started)
    d.started_at = d.started_at ? std::min(*d.started_at, e.timestamp) : e.timestamp;
  if (core::is_terminal(e.state) && (!d.end || d.end_rank < rank)) {
    d.end = &e;
    d.end_rank = rank;
  }
  if (!d.latest || d.latest_rank < rank) {
    d.latest = &e;
    d.latest_rank = rank;
  }
  if (e.lines_processed)
    d.lines_processed =
        d.lines_processed ? std::max(*d.lines_processed, *e.lines_processed) : *e.lines_processed;
  d.environment.offer(e.environment, rank);
  d.stdout_log.offer(e.stdout_log_path, rank);
  d.stderr_log.offer(e.stderr_log_path, rank);
  d.extraction_config.offer(e.extraction_config_version, rank);
  d.environment_config.offer(e.environment_config_version, rank);
}

std::unordered_map<std::string_view, std::int64_t> SqliteSessionDeltas::flush() {
  std::unordered_map<std::string_view, std::int64_t> rows;
  rows.reserve(sessions().size());
  auto& q = m_upsert;
  for (const auto& [session_id, d] : sessions()) {
    q.reset();
    q.clearBindings();
    q.bind(1, std::string(session_id));
    q.bindNoCopy(2, *d.agent);
    q.bind(3, d.first);
    q.bindNoCopy(4, d.first_identity.data(), static_cast<int>(d.first_identity.size()));
    q.bind(5, d.last);
    q.bind(6, d.events);
    q.bind(7, d.errors);
    q.bind(8, d.outcomes);
    q.bind(9, d.state_changes);
    if (d.started_at) q.bind(10, *d.started_at);
    if (d.end) {
      q.bind(11, d.end->timestamp);
      if (d.end->exit_code) q.bind(12, *d.end->exit_code);
      q.bind(13, std::string(core::to_string(d.end->state)));
      bind_rank(q, 14, d.end_rank);
    }
    if (d.latest) {
      q.bind(15, std::string(core::to_string(d.latest->state)));
      bind_rank(q, 16, d.latest_rank);
    }
    if (d.lines_processed) q.bind(17, *d.lines_processed);
    int field = 20;
    for (const Earliest* e : {&d.environment, &d.stdout_log, &d.stderr_log, &d.extraction_config,
                              &d.environment_config}) {
      if (e->value) {
        q.bindNoCopy(field, *e->value);
        bind_rank(q, field + 1, e->rank);
      }
      field += 10;
    }
    q.executeStep();
    rows[session_id] = q.getColumn(0).getInt64();
    q.reset();
  }
  clear();
  return rows;
}

}  // namespace patternd::store
