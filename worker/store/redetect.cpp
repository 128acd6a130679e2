#include "store/redetect.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <cstring>

#include "detect/failure.hpp"
#include "store/accumulator.hpp"
#include "store/outcome_totals.hpp"
#include "store/statements.hpp"

namespace patternd::store {
namespace {

constexpr const char* k_clear_pattern_tables = R"sql(
DELETE FROM pattern_occurrences;
DELETE FROM operation_pattern_days;
DELETE FROM operation_patterns;
DELETE FROM failure_pattern_agents;
DELETE FROM failure_pattern_sessions;
DELETE FROM failure_patterns;
DELETE FROM failure_fix_agents;
DELETE FROM failure_fixes;)sql";

// failure_fixes hang on failure signatures: rebuilt from the outcomes that
// name an error. outcome_stats do not depend on detection and stay.
constexpr const char* k_outcomes_with_error = R"sql(
SELECT identity, agent_name, event_time, pattern, success, duration_ms, error, fix
FROM outcomes WHERE error IS NOT NULL ORDER BY id)sql";

constexpr const char* k_all_workflows = R"sql(
SELECT id, nl_input, workflow_template, status, total_tokens, cost_micros, error_count,
       retry_count, duration_ms, completed_at
FROM workflow_history ORDER BY id)sql";

constexpr const char* k_all_error_events = R"sql(
SELECT e.identity, e.agent_name, s.id, e.event_time, e.matched_value, e.original_line
FROM extraction_events e JOIN agent_sessions s ON s.session_id = e.session_id
WHERE e.event_type = 'error' ORDER BY e.id)sql";

// Rows per flush: bounds memory, keeps upserts per pattern few.
constexpr std::uint64_t k_chunk = 20'000;

core::WorkflowStatus status_of(const std::string& text) {
  if (text == "failed") return core::WorkflowStatus::failed;
  if (text == "cancelled") return core::WorkflowStatus::cancelled;
  return core::WorkflowStatus::completed;
}

}  // namespace

RedetectSummary redetect(Database& db, const detect::Rules& rules,
                         const std::function<void(std::uint64_t)>& progress) {
  RedetectSummary summary;
  auto& sql = db.sql();
  SQLite::Transaction txn(sql, SQLite::TransactionBehavior::IMMEDIATE);
  sql.exec(k_clear_pattern_tables);
  Statements statements(sql);
  PatternAccumulator accumulator;

  std::vector<std::string> signatures;
  SQLite::Statement workflows(sql, k_all_workflows);
  while (workflows.executeStep()) {
    core::Workflow w;
    w.nl_input = workflows.getColumn(1).getString();
    w.workflow_template = workflows.getColumn(2).getString();
    w.status = status_of(workflows.getColumn(3).getString());
    w.total_tokens = workflows.getColumn(4).getInt64();
    w.cost_micros = workflows.getColumn(5).getInt64();
    w.error_count = workflows.getColumn(6).getInt64();
    w.retry_count = workflows.getColumn(7).getInt64();
    w.duration_ms = workflows.getColumn(8).getInt64();
    w.completed_at = workflows.getColumn(9).getInt64();
    signatures.clear();
    rules.classify(w.nl_input, w.workflow_template, signatures);
    accumulator.add_workflow(workflows.getColumn(0).getInt64(), w, signatures);
    if (++summary.workflows % k_chunk == 0) {
      summary.operation_occurrences += accumulator.flush(statements).operation_occurrences;
      if (progress) progress(summary.workflows);
    }
  }
  summary.operation_occurrences += accumulator.flush(statements).operation_occurrences;

  SQLite::Statement errors(sql, k_all_error_events);
  while (errors.executeStep()) {
    core::Digest identity{};
    const SQLite::Column blob = errors.getColumn(0);
    std::memcpy(identity.data(), blob.getBlob(),
                std::min<std::size_t>(identity.size(), static_cast<std::size_t>(blob.getBytes())));
    const std::string matched = errors.getColumn(4).getString();
    const std::string original = errors.getColumn(5).getString();
    const std::string& text = matched.empty() ? original : matched;
    const std::string signature = detect::normalize_failure(text);
    if (signature.empty()) continue;
    accumulator.add_failure(signature, detect::failure_type(signature), text, identity,
                            errors.getColumn(3).getInt64(), errors.getColumn(1).getString(),
                            errors.getColumn(2).getInt64());
    if (++summary.error_events % k_chunk == 0) {
      summary.failure_occurrences += accumulator.flush(statements).failure_occurrences;
      if (progress) progress(summary.workflows + summary.error_events);
    }
  }
  summary.failure_occurrences += accumulator.flush(statements).failure_occurrences;

  SqliteOutcomeTotals fixes(sql);
  SQLite::Statement outcomes(sql, k_outcomes_with_error);
  while (outcomes.executeStep()) {
    core::Outcome o;
    const SQLite::Column blob = outcomes.getColumn(0);
    std::memcpy(
        o.identity.data(), blob.getBlob(),
        std::min<std::size_t>(o.identity.size(), static_cast<std::size_t>(blob.getBytes())));
    o.agent_name = outcomes.getColumn(1).getString();
    o.timestamp = outcomes.getColumn(2).getInt64();
    o.pattern = outcomes.getColumn(3).getString();
    o.success = outcomes.getColumn(4).getInt() == 1;
    if (!outcomes.getColumn(5).isNull()) o.duration_ms = outcomes.getColumn(5).getInt64();
    o.error = outcomes.getColumn(6).getString();
    o.fix = outcomes.getColumn(7).getString();
    const std::string signature = detect::normalize_failure(o.error);
    if (signature.empty()) continue;
    fixes.add_fix(o, signature, detect::failure_type(signature));
    if (++summary.outcomes % k_chunk == 0) {
      fixes.flush();
      if (progress) progress(summary.workflows + summary.error_events + summary.outcomes);
    }
  }
  fixes.flush();

  db.set_meta(k_meta_rules_version, rules.version());
  txn.commit();
  return summary;
}

}  // namespace patternd::store
