#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "store/pg_aggregates.hpp"
#include "store/pg_arrays.hpp"

namespace patternd::store::pg {
namespace {

// core::wilson_lower_bound's formula, term for term, in double precision
// (as SQLite computes it): s successes of n attempts.
#define PATTERND_WILSON(s, n)                                                 \
  "(((" s ")::float8 + 1.9208 - 1.96 * sqrt((" s ")::float8 * ((" n ") - (" s \
  "))::float8 "                                                               \
  "/ (" n ")::float8 + 0.9604)) / ((" n ")::float8 + 3.8416))"

constexpr const char* k_upsert_fixes = R"sql(
INSERT INTO failure_fixes AS f
  (signature, pattern, error_type, attempts, successes, duration_ms_sum, duration_count,
   first_seen, last_seen, fix_example, fix_example_rank, fix_example_time, fix_example_identity,
   agent_count, confidence)
SELECT u.*, 0, )sql" PATTERND_WILSON("u.successes", "u.attempts") R"sql(
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[],
  $7::bigint[], $8::bigint[], $9::bigint[], $10::text[], $11::bigint[], $12::bigint[],
  $13::bytea[]) AS u(signature, pattern, error_type, attempts, successes, duration_ms_sum,
  duration_count, first_seen, last_seen, fix_example, fix_example_rank, fix_example_time,
  fix_example_identity)
ON CONFLICT (signature, pattern) DO UPDATE SET
  confidence      = )sql" PATTERND_WILSON("f.successes + excluded.successes",
                                          "f.attempts + excluded.attempts") R"sql(,
  attempts        = f.attempts + excluded.attempts,
  successes       = f.successes + excluded.successes,
  duration_ms_sum = f.duration_ms_sum + excluded.duration_ms_sum,
  duration_count  = f.duration_count + excluded.duration_count,
  first_seen      = least(f.first_seen, excluded.first_seen),
  last_seen       = greatest(f.last_seen, excluded.last_seen),
  fix_example = CASE WHEN excluded.fix_example_rank IS NOT NULL AND (f.fix_example_rank IS NULL
                  OR (excluded.fix_example_rank, excluded.fix_example_time,
                      excluded.fix_example_identity)
                     < (f.fix_example_rank, f.fix_example_time, f.fix_example_identity))
                THEN excluded.fix_example ELSE f.fix_example END,
  fix_example_identity = CASE WHEN excluded.fix_example_rank IS NOT NULL
                  AND (f.fix_example_rank IS NULL
                  OR (excluded.fix_example_rank, excluded.fix_example_time,
                      excluded.fix_example_identity)
                     < (f.fix_example_rank, f.fix_example_time, f.fix_example_identity))
                THEN excluded.fix_example_identity ELSE f.fix_example_identity END,
  fix_example_time = CASE WHEN excluded.fix_example_rank IS NOT NULL
                  AND (f.fix_example_rank IS NULL
                  OR (excluded.fix_example_rank, excluded.fix_example_time,
                      excluded.fix_example_identity)
                     < (f.fix_example_rank, f.fix_example_time, f.fix_example_identity))
                THEN excluded.fix_example_time ELSE f.fix_example_time END,
  fix_example_rank = least(f.fix_example_rank, excluded.fix_example_rank)
RETURNING signature, pattern, id)sql";

constexpr const char* k_insert_fix_agents = R"sql(
INSERT INTO failure_fix_agents (fix_id, agent_name)
SELECT * FROM unnest($1::bigint[], $2::text[])
ON CONFLICT DO NOTHING RETURNING fix_id)sql";

constexpr const char* k_add_fix_agents = R"sql(
UPDATE failure_fixes f SET agent_count = f.agent_count + u.agents
FROM unnest($1::bigint[], $2::bigint[]) AS u(id, agents) WHERE f.id = u.id)sql";

// xmax = 0 on the returned row: it was inserted, not updated (a new agent
// of the approach).
constexpr const char* k_upsert_agent_stats = R"sql(
INSERT INTO outcome_agent_stats AS a
  (pattern, agent_name, attempts, successes, duration_ms_sum, duration_count, first_seen,
   last_seen)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[],
  $6::bigint[], $7::bigint[], $8::bigint[])
ON CONFLICT (pattern, agent_name) DO UPDATE SET
  attempts        = a.attempts + excluded.attempts,
  successes       = a.successes + excluded.successes,
  duration_ms_sum = a.duration_ms_sum + excluded.duration_ms_sum,
  duration_count  = a.duration_count + excluded.duration_count,
  first_seen      = least(a.first_seen, excluded.first_seen),
  last_seen       = greatest(a.last_seen, excluded.last_seen)
RETURNING pattern, agent_name, xmax = 0)sql";

constexpr const char* k_upsert_outcome_stats = R"sql(
INSERT INTO outcome_stats AS o
  (pattern, attempts, successes, duration_ms_sum, duration_count, first_seen, last_seen,
   agent_count, confidence)
SELECT u.*, )sql" PATTERND_WILSON("u.successes", "u.attempts") R"sql(
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
  $7::bigint[], $8::bigint[]) AS u(pattern, attempts, successes, duration_ms_sum,
  duration_count, first_seen, last_seen, agent_count)
ON CONFLICT (pattern) DO UPDATE SET
  confidence      = )sql" PATTERND_WILSON("o.successes + excluded.successes",
                                          "o.attempts + excluded.attempts") R"sql(,
  attempts        = o.attempts + excluded.attempts,
  successes       = o.successes + excluded.successes,
  duration_ms_sum = o.duration_ms_sum + excluded.duration_ms_sum,
  duration_count  = o.duration_count + excluded.duration_count,
  first_seen      = least(o.first_seen, excluded.first_seen),
  last_seen       = greatest(o.last_seen, excluded.last_seen),
  agent_count     = o.agent_count + excluded.agent_count)sql";

#undef PATTERND_WILSON

}  // namespace

void write_outcome_totals(Connection& c, const OutcomeTotals& totals) {
  using Figures = OutcomeTotals::Figures;
  if (!totals.fixes().empty()) {
    Rows rows(13);
    for (const auto& [key, fix] : totals.fixes()) {
      const Figures& f = fix.figures;
      rows.begin_row();
      rows.text(key.first).text(key.second).text(fix.error_type).integer(f.attempts);
      rows.integer(f.successes).integer(f.duration_ms_sum).integer(f.duration_count);
      rows.integer(f.first).integer(f.last);
      if (fix.has_example) {
        rows.text(fix.example).integer(fix.example_rank).integer(fix.example_time);
        rows.digest(fix.example_identity);
      } else {
        rows.null().null().null().null();
      }
      rows.end_row();
    }
    const PgResult upserted = send(c, k_upsert_fixes, rows);
    std::map<std::pair<std::string, std::string>, std::int64_t> id_of;
    for (int i = 0; i < PQntuples(upserted.get()); ++i)
      id_of[{text_at(upserted.get(), i, 0), text_at(upserted.get(), i, 1)}] =
          integer_at(upserted.get(), i, 2);
    Rows agents(2);
    for (const auto& [key, fix] : totals.fixes())
      for (const auto& agent : fix.agents) {
        agents.begin_row();
        agents.integer(id_of.at(key)).text(agent);
        agents.end_row();
      }
    std::map<std::int64_t, std::int64_t> added;
    const PgResult new_agents = send(c, k_insert_fix_agents, agents);
    for (int i = 0; i < PQntuples(new_agents.get()); ++i)
      ++added[integer_at(new_agents.get(), i, 0)];
    if (!added.empty()) {
      Rows grown(2);
      for (const auto& [id, n] : added) {
        grown.begin_row();
        grown.integer(id).integer(n);
        grown.end_row();
      }
      send(c, k_add_fix_agents, grown);
    }
  }

  if (totals.agent_stats().empty()) return;
  Rows rows(8);
  for (const auto& [key, f] : totals.agent_stats()) {
    rows.begin_row();
    rows.text(key.first).text(key.second).integer(f.attempts).integer(f.successes);
    rows.integer(f.duration_ms_sum).integer(f.duration_count).integer(f.first).integer(f.last);
    rows.end_row();
  }
  const PgResult upserted = send(c, k_upsert_agent_stats, rows);
  std::map<std::string, std::int64_t> new_agents;  // per approach
  for (int i = 0; i < PQntuples(upserted.get()); ++i)
    if (text_at(upserted.get(), i, 2) == "t") ++new_agents[text_at(upserted.get(), i, 0)];

  // Per approach: the batch's sums over its agents.
  std::map<std::string_view, Figures> sums;
  for (const auto& [key, f] : totals.agent_stats()) {
    Figures& sum = sums[key.first];
    sum.first = sum.attempts == 0 ? f.first : std::min(sum.first, f.first);
    sum.last = sum.attempts == 0 ? f.last : std::max(sum.last, f.last);
    sum.attempts += f.attempts;
    sum.successes += f.successes;
    sum.duration_ms_sum += f.duration_ms_sum;
    sum.duration_count += f.duration_count;
  }
  Rows stats(8);
  for (const auto& [pattern, f] : sums) {
    const auto agents = new_agents.find(std::string(pattern));
    stats.begin_row();
    stats.text(pattern).integer(f.attempts).integer(f.successes).integer(f.duration_ms_sum);
    stats.integer(f.duration_count).integer(f.first).integer(f.last);
    stats.integer(agents == new_agents.end() ? 0 : agents->second);
    stats.end_row();
  }
  send(c, k_upsert_outcome_stats, stats);
}

}  // namespace patternd::store::pg
