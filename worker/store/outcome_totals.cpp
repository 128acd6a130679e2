#include "store/outcome_totals.hpp"

#include <algorithm>

#include "core/text.hpp"
#include "store/accumulator.hpp"

namespace patternd::store {
namespace {

// Sums arrive pre-summed per batch. The confidence is computed from the new
// sums by SQLite, with core::wilson_lower_bound's formula term for term (see
// schema/008): ?5 successes of ?4 attempts on insert, old + new on update.
#define PATTERND_WILSON(s, n)                                                 \
  "((" s ") + 1.9208 - 1.96 * sqrt((" s ") * ((" n ") - (" s ")) * 1.0 / (" n \
  ") + 0.9604)) / ((" n ") + 3.8416)"

// Whether this batch's example (?11 rank, ?12 time, ?13 identity) comes
// before the stored one: the four example columns move together.
#define PATTERND_EARLIER_EXAMPLE                                        \
  "?11 IS NOT NULL AND (fix_example_rank IS NULL OR (?11, ?12, ?13) < " \
  "(fix_example_rank, fix_example_time, fix_example_identity))"

constexpr const char* k_upsert_fix = R"sql(
INSERT INTO failure_fixes
  (signature, pattern, error_type, attempts, successes, duration_ms_sum, duration_count,
   first_seen, last_seen, fix_example, fix_example_rank, fix_example_time, fix_example_identity,
   agent_count, confidence)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 0, )sql" PATTERND_WILSON(
    "?5", "?4") R"sql()
ON CONFLICT (signature, pattern) DO UPDATE SET
  confidence      = )sql" PATTERND_WILSON("successes + excluded.successes",
                                          "attempts + excluded.attempts") R"sql(,
  attempts        = attempts + excluded.attempts,
  successes       = successes + excluded.successes,
  duration_ms_sum = duration_ms_sum + excluded.duration_ms_sum,
  duration_count  = duration_count + excluded.duration_count,
  first_seen      = min(first_seen, excluded.first_seen),
  last_seen       = max(last_seen, excluded.last_seen),
  fix_example = CASE WHEN )sql" PATTERND_EARLIER_EXAMPLE R"sql( THEN ?10 ELSE fix_example END,
  fix_example_identity = CASE WHEN )sql" PATTERND_EARLIER_EXAMPLE R"sql(
                         THEN ?13 ELSE fix_example_identity END,
  fix_example_time = CASE WHEN )sql" PATTERND_EARLIER_EXAMPLE R"sql( THEN ?12 ELSE fix_example_time END,
  fix_example_rank = CASE WHEN )sql" PATTERND_EARLIER_EXAMPLE R"sql( THEN ?11 ELSE fix_example_rank END
RETURNING id)sql";

constexpr const char* k_insert_fix_agent = R"sql(
INSERT INTO failure_fix_agents (fix_id, agent_name) VALUES (?, ?) ON CONFLICT DO NOTHING)sql";

constexpr const char* k_add_fix_agents = R"sql(
UPDATE failure_fixes SET agent_count = agent_count + ? WHERE id = ?)sql";

// RETURNING tells a new (pattern, agent) row from a grown one: a new row
// holds exactly this batch's attempts (?3), a grown one more.
constexpr const char* k_upsert_agent_stats = R"sql(
INSERT INTO outcome_agent_stats
  (pattern, agent_name, attempts, successes, duration_ms_sum, duration_count, first_seen,
   last_seen)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (pattern, agent_name) DO UPDATE SET
  attempts        = attempts + excluded.attempts,
  successes       = successes + excluded.successes,
  duration_ms_sum = duration_ms_sum + excluded.duration_ms_sum,
  duration_count  = duration_count + excluded.duration_count,
  first_seen      = min(first_seen, excluded.first_seen),
  last_seen       = max(last_seen, excluded.last_seen)
RETURNING attempts = ?3)sql";

constexpr const char* k_upsert_stats = R"sql(
INSERT INTO outcome_stats
  (pattern, attempts, successes, duration_ms_sum, duration_count, first_seen, last_seen,
   agent_count, confidence)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, )sql" PATTERND_WILSON("?3", "?2") R"sql()
ON CONFLICT (pattern) DO UPDATE SET
  confidence      = )sql" PATTERND_WILSON("successes + excluded.successes",
                                          "attempts + excluded.attempts") R"sql(,
  attempts        = attempts + excluded.attempts,
  successes       = successes + excluded.successes,
  duration_ms_sum = duration_ms_sum + excluded.duration_ms_sum,
  duration_count  = duration_count + excluded.duration_count,
  first_seen      = min(first_seen, excluded.first_seen),
  last_seen       = max(last_seen, excluded.last_seen),
  agent_count     = agent_count + excluded.agent_count)sql";

#undef PATTERND_WILSON
#undef PATTERND_EARLIER_EXAMPLE

void bind_figures(SQLite::Statement& q, int first_index, std::int64_t attempts,
                  std::int64_t successes, std::int64_t duration_sum, std::int64_t duration_count,
                  core::TimestampMs first, core::TimestampMs last) {
  q.bind(first_index, attempts);
  q.bind(first_index + 1, successes);
  q.bind(first_index + 2, duration_sum);
  q.bind(first_index + 3, duration_count);
  q.bind(first_index + 4, first);
  q.bind(first_index + 5, last);
}

}  // namespace

void OutcomeTotals::Figures::add(const core::Outcome& o) {
  first = attempts == 0 ? o.timestamp : std::min(first, o.timestamp);
  last = attempts == 0 ? o.timestamp : std::max(last, o.timestamp);
  ++attempts;
  successes += o.success ? 1 : 0;
  if (o.duration_ms) {
    duration_ms_sum += *o.duration_ms;
    ++duration_count;
  }
}

SqliteOutcomeTotals::SqliteOutcomeTotals(SQLite::Database& db)
    : m_upsert_fix(db, k_upsert_fix),
      m_insert_fix_agent(db, k_insert_fix_agent),
      m_add_fix_agents(db, k_add_fix_agents),
      m_upsert_agent_stats(db, k_upsert_agent_stats),
      m_upsert_stats(db, k_upsert_stats) {}

void OutcomeTotals::add(const core::Outcome& o, const std::string& signature,
                        const std::string& error_type) {
  m_agent_stats[{o.pattern, o.agent_name}].add(o);
  add_fix(o, signature, error_type);
}

void OutcomeTotals::add_fix(const core::Outcome& o, const std::string& signature,
                            const std::string& error_type) {
  if (signature.empty()) return;
  Fix& fix = m_fixes[{signature, o.pattern}];
  fix.figures.add(o);
  fix.error_type = error_type;
  fix.agents.insert(o.agent_name);
  if (o.fix.empty()) return;
  const int rank = o.success ? 0 : 1;
  if (!fix.has_example || std::tie(rank, o.timestamp, o.identity) <
                              std::tie(fix.example_rank, fix.example_time, fix.example_identity)) {
    fix.has_example = true;
    fix.example_rank = rank;
    fix.example_time = o.timestamp;
    fix.example_identity = o.identity;
    fix.example = core::truncate_utf8(o.fix, k_max_example_bytes);
  }
}

void SqliteOutcomeTotals::flush() {
  for (const auto& [key, fix] : fixes()) {
    auto& q = m_upsert_fix;
    q.reset();
    q.bindNoCopy(1, key.first);
    q.bindNoCopy(2, key.second);
    q.bindNoCopy(3, fix.error_type);
    const Figures& f = fix.figures;
    bind_figures(q, 4, f.attempts, f.successes, f.duration_ms_sum, f.duration_count, f.first,
                 f.last);
    if (fix.has_example) {
      q.bindNoCopy(10, fix.example);
      q.bind(11, fix.example_rank);
      q.bind(12, fix.example_time);
      q.bindNoCopy(13, fix.example_identity.data(), static_cast<int>(fix.example_identity.size()));
    } else {
      for (int i = 10; i <= 13; ++i) q.bind(i);
    }
    q.executeStep();
    const std::int64_t fix_id = q.getColumn(0).getInt64();
    q.reset();
    std::int64_t new_agents = 0;
    for (const auto& agent : fix.agents) {
      auto& a = m_insert_fix_agent;
      a.reset();
      a.bind(1, fix_id);
      a.bindNoCopy(2, agent);
      new_agents += a.exec();
    }
    if (new_agents > 0) {
      auto& u = m_add_fix_agents;
      u.reset();
      u.bind(1, new_agents);
      u.bind(2, fix_id);
      u.exec();
    }
  }

  // Per approach: the batch's sums over its agents, and how many of those
  // agents are new to it.
  struct PatternSums {
    Figures figures;
    std::int64_t new_agents = 0;
  };
  std::map<std::string_view, PatternSums> patterns;
  for (const auto& [key, f] : agent_stats()) {
    auto& q = m_upsert_agent_stats;
    q.reset();
    q.bindNoCopy(1, key.first);
    q.bindNoCopy(2, key.second);
    bind_figures(q, 3, f.attempts, f.successes, f.duration_ms_sum, f.duration_count, f.first,
                 f.last);
    q.executeStep();
    const bool new_agent = q.getColumn(0).getInt() == 1;
    q.reset();
    PatternSums& p = patterns[key.first];
    Figures& sum = p.figures;
    sum.first = sum.attempts == 0 ? f.first : std::min(sum.first, f.first);
    sum.last = sum.attempts == 0 ? f.last : std::max(sum.last, f.last);
    sum.attempts += f.attempts;
    sum.successes += f.successes;
    sum.duration_ms_sum += f.duration_ms_sum;
    sum.duration_count += f.duration_count;
    p.new_agents += new_agent ? 1 : 0;
  }
  for (const auto& [pattern, p] : patterns) {
    auto& q = m_upsert_stats;
    q.reset();
    q.bind(1, std::string(pattern));
    const Figures& f = p.figures;
    bind_figures(q, 2, f.attempts, f.successes, f.duration_ms_sum, f.duration_count, f.first,
                 f.last);
    q.bind(8, p.new_agents);
    q.exec();
  }
  clear();
}

void OutcomeTotals::clear() {
  m_fixes.clear();
  m_agent_stats.clear();
}

}  // namespace patternd::store
