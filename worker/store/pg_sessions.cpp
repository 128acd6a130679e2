#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "store/pg_aggregates.hpp"
#include "store/pg_arrays.hpp"
#include "store/pg_copy.hpp"

namespace patternd::store::pg {
namespace {

// A session's fields as schema/009 defines them, whatever the order events
// arrive in: the end and the state are those of the latest (terminal) event,
// each lifecycle text that of the earliest event carrying it. Ranks are
// (time, identity) as bytes (session_deltas.hpp); least() and greatest()
// skip NULLs.
#define PATTERND_LATER(rank) \
  "excluded." rank " IS NOT NULL AND (s." rank " IS NULL OR excluded." rank " > s." rank ")"
#define PATTERND_EARLIEST(field)                                                             \
  field " = CASE WHEN excluded." field "_rank IS NOT NULL AND (s." field                     \
        "_rank IS NULL OR excluded." field "_rank < s." field "_rank) THEN excluded." field  \
        " ELSE s." field " END,\n  " field "_rank = least(s." field "_rank, excluded." field \
        "_rank)"

// The batch's sessions arrive by binary COPY (27 columns, a thousand rows
// and more: parsing them as arrays was a third of this statement's time).
constexpr const char* k_staging_table = R"sql(
CREATE TEMP TABLE IF NOT EXISTS staged_agent_sessions (
  session_id text, agent_name text, first_event bigint, first_event_identity bytea,
  last_event bigint, event_count bigint, error_count bigint, feedback_outcomes bigint,
  state_changes bigint, started_at bigint, ended_at bigint, exit_code bigint, end_state text,
  end_rank bytea, state text, state_rank bytea, lines_processed bigint, environment text,
  environment_rank bytea, stdout_log_path text, stdout_log_path_rank bytea,
  stderr_log_path text, stderr_log_path_rank bytea, extraction_config_version text,
  extraction_config_version_rank bytea, environment_config_version text,
  environment_config_version_rank bytea) ON COMMIT DELETE ROWS)sql";
constexpr const char* k_copy = "COPY staged_agent_sessions FROM STDIN (FORMAT binary)";

constexpr const char* k_upsert_sessions = R"sql(
INSERT INTO agent_sessions AS s
  (session_id, agent_name, first_event, first_event_identity, last_event, event_count,
   error_count, feedback_outcomes, state_changes, started_at, ended_at, exit_code, end_state,
   end_rank, state, state_rank, lines_processed, environment, environment_rank,
   stdout_log_path, stdout_log_path_rank, stderr_log_path, stderr_log_path_rank,
   extraction_config_version, extraction_config_version_rank, environment_config_version,
   environment_config_version_rank)
SELECT * FROM staged_agent_sessions
ON CONFLICT (session_id) DO UPDATE SET
  agent_name = CASE WHEN (excluded.first_event, excluded.first_event_identity)
                         < (s.first_event, s.first_event_identity)
                    THEN excluded.agent_name ELSE s.agent_name END,
  first_event_identity = CASE WHEN (excluded.first_event, excluded.first_event_identity)
                                   < (s.first_event, s.first_event_identity)
                              THEN excluded.first_event_identity ELSE s.first_event_identity END,
  first_event = least(s.first_event, excluded.first_event),
  last_event = greatest(s.last_event, excluded.last_event),
  event_count = s.event_count + excluded.event_count,
  error_count = s.error_count + excluded.error_count,
  feedback_outcomes = s.feedback_outcomes + excluded.feedback_outcomes,
  state_changes = s.state_changes + excluded.state_changes,
  started_at = least(s.started_at, excluded.started_at),
  lines_processed = greatest(s.lines_processed, excluded.lines_processed),
  ended_at = CASE WHEN )sql" PATTERND_LATER("end_rank") R"sql( THEN excluded.ended_at ELSE s.ended_at END,
  exit_code = CASE WHEN )sql" PATTERND_LATER("end_rank") R"sql( THEN excluded.exit_code ELSE s.exit_code END,
  end_state = CASE WHEN )sql" PATTERND_LATER("end_rank") R"sql( THEN excluded.end_state ELSE s.end_state END,
  end_rank = greatest(s.end_rank, excluded.end_rank),
  state = CASE WHEN )sql" PATTERND_LATER("state_rank") R"sql( THEN excluded.state ELSE s.state END,
  state_rank = greatest(s.state_rank, excluded.state_rank),
  )sql" PATTERND_EARLIEST("environment") ",\n  " PATTERND_EARLIEST("stdout_log_path") ",\n  " PATTERND_EARLIEST("stderr_log_path") ",\n  " PATTERND_EARLIEST("extraction_config_version") ",\n  " PATTERND_EARLIEST("environment_config_version") R"sql(
RETURNING session_id, id)sql";

#undef PATTERND_LATER
#undef PATTERND_EARLIEST

CopyRows& rank_or_null(CopyRows& rows, bool present, const EventRank& rank) {
  return present ? rows.bytes(rank.data(), rank.size()) : rows.null();
}

}  // namespace

void create_session_staging(Connection& c) { c.exec(k_staging_table); }

std::unordered_map<std::string_view, std::int64_t> write_sessions(Connection& c,
                                                                  const SessionDeltas& sessions) {
  std::unordered_map<std::string_view, std::int64_t> ids;
  if (sessions.sessions().empty()) return ids;
  std::vector<std::string_view> order;
  order.reserve(sessions.sessions().size());
  for (const auto& [id, _] : sessions.sessions()) order.push_back(id);
  std::sort(order.begin(), order.end());
  CopyRows rows(27);
  for (const std::string_view id : order) {
    const SessionDeltas::Delta& d = sessions.sessions().at(id);
    rows.begin_row();
    rows.text(id).text(*d.agent).integer(d.first).digest(d.first_identity).integer(d.last);
    rows.integer(d.events).integer(d.errors).integer(d.outcomes).integer(d.state_changes);
    rows.optional(d.started_at);
    if (d.end) {
      rows.integer(d.end->timestamp).optional(d.end->exit_code);
      rows.text(core::to_string(d.end->state));
    } else {
      rows.null().null().null();
    }
    rank_or_null(rows, d.end != nullptr, d.end_rank);
    if (d.latest)
      rows.text(core::to_string(d.latest->state));
    else
      rows.null();
    rank_or_null(rows, d.latest != nullptr, d.latest_rank);
    rows.optional(d.lines_processed);
    for (const auto* e : {&d.environment, &d.stdout_log, &d.stderr_log, &d.extraction_config,
                          &d.environment_config}) {
      if (e->value)
        rows.text(*e->value);
      else
        rows.null();
      rank_or_null(rows, e->value != nullptr, e->rank);
    }
    rows.end_row();
  }
  c.copy_in(k_copy, rows.data());
  const PgResult result = c.prepared(k_upsert_sessions);
  for (int i = 0; i < PQntuples(result.get()); ++i) {
    // The key of the map the deltas hold, which outlives this batch's ids.
    const auto held = sessions.sessions().find(text_at(result.get(), i, 0));
    if (held != sessions.sessions().end()) ids[held->first] = integer_at(result.get(), i, 1);
  }
  return ids;
}

}  // namespace patternd::store::pg
