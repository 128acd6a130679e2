// `prune` and `redetect` on PostgreSQL: the same results as store/prune.cpp
// and store/redetect.cpp compute in SQLite.

#include <thread>

#include "detect/failure.hpp"
#include "detect/rules.hpp"
#include "store/pg_aggregates.hpp"
#include "store/pg_store.hpp"

namespace patternd::store::pg {
namespace {

// Each chunk its own transaction (autocommit): workers writing meanwhile
// wait for one chunk at most. A table with an index on its time column
// loses its oldest rows first.
struct Chunked {
  const char* sql;  // $1 horizon, $2 chunk
  std::int64_t PruneReport::*counter;
};

constexpr Chunked k_prune_steps[] = {
    {R"sql(
DELETE FROM pattern_occurrences WHERE (pattern_id, workflow_id) IN
  (SELECT pattern_id, workflow_id FROM pattern_occurrences WHERE occurred_at < $1 LIMIT $2))sql",
     &PruneReport::occurrences},
    {R"sql(
DELETE FROM workflow_history WHERE id IN
  (SELECT id FROM workflow_history WHERE completed_at < $1 ORDER BY completed_at LIMIT $2))sql",
     &PruneReport::workflows},
    {R"sql(
DELETE FROM extraction_events WHERE id IN
  (SELECT id FROM extraction_events WHERE event_time < $1 ORDER BY event_time LIMIT $2))sql",
     &PruneReport::events},
    {R"sql(
DELETE FROM outcomes WHERE id IN
  (SELECT id FROM outcomes WHERE event_time < $1 ORDER BY event_time LIMIT $2))sql",
     &PruneReport::outcomes},
    // A session's row keeps its lifecycle fields; its state changes go.
    {R"sql(
DELETE FROM session_state_changes WHERE id IN
  (SELECT id FROM session_state_changes WHERE event_time < $1 ORDER BY event_time LIMIT $2))sql",
     &PruneReport::state_changes},
    // The backends' figures stay; the latency counts follow by trigger.
    {R"sql(
DELETE FROM prompt_history WHERE id IN
  (SELECT id FROM prompt_history WHERE created_at < $1 ORDER BY created_at LIMIT $2))sql",
     &PruneReport::prompts},
    // A block a worker grew meanwhile (its last_seen now newer) stays: the
    // subquery's ids were chosen before, so the horizon is checked again.
    {R"sql(
DELETE FROM code_blocks WHERE last_seen < $1 AND id IN
  (SELECT id FROM code_blocks WHERE last_seen < $1 LIMIT $2))sql",
     &PruneReport::code_blocks},
    {R"sql(
DELETE FROM dead_letters WHERE id IN
  (SELECT id FROM dead_letters WHERE received_at < $1 LIMIT $2))sql",
     &PruneReport::dead_letters},
};

constexpr const char* k_clear_pattern_tables = R"sql(
TRUNCATE pattern_occurrences, operation_pattern_days, operation_patterns,
         failure_pattern_agents, failure_pattern_sessions, failure_patterns,
         failure_fix_agents, failure_fixes)sql";

// Rows per read and per flush: bounds memory, keeps upserts per pattern few.
constexpr int k_chunk = 20'000;

constexpr const char* k_workflows_after = R"sql(
SELECT id, nl_input, workflow_template, status, total_tokens, cost_micros, error_count,
       retry_count, duration_ms, completed_at
FROM workflow_history WHERE id > $1 ORDER BY id LIMIT $2)sql";

constexpr const char* k_error_events_after = R"sql(
SELECT e.id, e.identity, e.agent_name, s.id, e.event_time, e.matched_value, e.original_line
FROM extraction_events e JOIN agent_sessions s ON s.session_id = e.session_id
WHERE e.event_type = 'error' AND e.id > $1 ORDER BY e.id LIMIT $2)sql";

// failure_fixes hang on failure signatures: rebuilt from the outcomes that
// name an error. outcome_stats do not depend on detection and stay.
constexpr const char* k_outcomes_with_error_after = R"sql(
SELECT id, identity, agent_name, event_time, pattern, success, duration_ms, error, fix
FROM outcomes WHERE error IS NOT NULL AND id > $1 ORDER BY id LIMIT $2)sql";

std::string text(const PGresult* r, int row, int column) {
  return Connection::value(r, row, column).value_or("");
}
std::int64_t integer(const PGresult* r, int row, int column) {
  return std::stoll(text(r, row, column));
}
core::Digest digest(const PGresult* r, int row, int column) {
  core::Digest d{};
  const std::string hex = text(r, row, column);  // \x and 64 hex digits
  for (std::size_t i = 0; i < d.size() && 2 + 2 * i + 1 < hex.size(); ++i)
    d[i] = static_cast<unsigned char>(std::stoi(hex.substr(2 + 2 * i, 2), nullptr, 16));
  return d;
}

core::WorkflowStatus status_of(const std::string& text) {
  if (text == "failed") return core::WorkflowStatus::failed;
  if (text == "cancelled") return core::WorkflowStatus::cancelled;
  return core::WorkflowStatus::completed;
}

// Reads `sql` ($1 the last id read, $2 the chunk) a chunk at a time and
// hands each row to `row`; `flush` after each chunk.
template <class Row, class Flush>
void each_chunk(Connection& c, const char* sql, Row row, Flush flush) {
  std::int64_t after = -1;
  for (;;) {
    const PgResult chunk = c.query(sql, {std::to_string(after), std::to_string(k_chunk)});
    const int rows = PQntuples(chunk.get());
    for (int i = 0; i < rows; ++i) row(chunk.get(), i);
    flush();
    if (rows < k_chunk) return;
    after = integer(chunk.get(), rows - 1, 0);
  }
}

}  // namespace

PruneReport PgStore::prune(core::TimestampMs horizon, const PruneOptions& options) {
  PruneReport report;
  for (const Chunked& step : k_prune_steps) {
    for (;;) {
      if (options.stop != nullptr && options.stop->load(std::memory_order_relaxed)) {
        report.stopped = true;
        return report;
      }
      const std::int64_t deleted = guarded([&](Connection& c) {
        return rows_changed(
            c.query(step.sql, {std::to_string(horizon), std::to_string(options.chunk)}).get());
      });
      ++report.transactions;
      report.*step.counter += deleted;
      if (deleted < options.chunk) break;
      std::this_thread::sleep_for(options.pause);  // the workers' turn
    }
  }
  return report;
}

RedetectSummary PgStore::redetect(const detect::Rules& rules,
                                  const std::function<void(std::uint64_t)>& progress) {
  return guarded([&](Connection& c) {
    RedetectSummary summary;
    c.exec("BEGIN");
    try {
      c.exec(k_clear_pattern_tables);
      PatternAccumulator accumulator;
      std::vector<std::string> signatures;
      const auto flush_patterns = [&] {
        const auto counts = write_patterns(c, accumulator);
        summary.operation_occurrences += counts.operation_occurrences;
        summary.failure_occurrences += counts.failure_occurrences;
        accumulator.clear();
        if (progress) progress(summary.workflows + summary.error_events + summary.outcomes);
      };
      each_chunk(
          c, k_workflows_after,
          [&](const PGresult* r, int i) {
            core::Workflow w;
            w.nl_input = text(r, i, 1);
            w.workflow_template = text(r, i, 2);
            w.status = status_of(text(r, i, 3));
            w.total_tokens = integer(r, i, 4);
            w.cost_micros = integer(r, i, 5);
            w.error_count = integer(r, i, 6);
            w.retry_count = integer(r, i, 7);
            w.duration_ms = integer(r, i, 8);
            w.completed_at = integer(r, i, 9);
            signatures.clear();
            rules.classify(w.nl_input, w.workflow_template, signatures);
            accumulator.add_workflow(integer(r, i, 0), w, signatures);
            ++summary.workflows;
          },
          flush_patterns);
      each_chunk(
          c, k_error_events_after,
          [&](const PGresult* r, int i) {
            const std::string matched = text(r, i, 5), original = text(r, i, 6);
            const std::string& example = matched.empty() ? original : matched;
            const std::string signature = detect::normalize_failure(example);
            if (signature.empty()) return;
            accumulator.add_failure(signature, detect::failure_type(signature), example,
                                    digest(r, i, 1), integer(r, i, 4), text(r, i, 2),
                                    integer(r, i, 3));
            ++summary.error_events;
          },
          flush_patterns);
      OutcomeTotals fixes;
      each_chunk(
          c, k_outcomes_with_error_after,
          [&](const PGresult* r, int i) {
            core::Outcome o;
            o.identity = digest(r, i, 1);
            o.agent_name = text(r, i, 2);
            o.timestamp = integer(r, i, 3);
            o.pattern = text(r, i, 4);
            o.success = integer(r, i, 5) == 1;
            if (const auto duration = Connection::value(r, i, 6))
              o.duration_ms = std::stoll(*duration);
            o.error = text(r, i, 7);
            o.fix = text(r, i, 8);
            const std::string signature = detect::normalize_failure(o.error);
            if (signature.empty()) return;
            fixes.add_fix(o, signature, detect::failure_type(signature));
            ++summary.outcomes;
          },
          [&] {
            write_outcome_totals(c, fixes);
            fixes.clear();
          });
      c.query(
          "INSERT INTO patternd_meta (key, value) VALUES ($1, $2) "
          "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
          {k_meta_rules_version, rules.version()});
      c.exec("COMMIT");
    } catch (...) {
      if (!c.broken()) c.query("ROLLBACK");
      throw;
    }
    return summary;
  });
}

}  // namespace patternd::store::pg
