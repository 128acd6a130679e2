#include "store/report.hpp"

#include <SQLiteCpp/Statement.h>

namespace patternd::store {
namespace {

constexpr const char* k_top_operations = R"sql(
SELECT pattern_signature, category, tool, target, occurrences, successes, avg_tokens,
       avg_cost_usd, tool_cost_usd, savings_per_run_usd, runs_last_30_days,
       savings_last_30_days_usd, avg_duration_seconds, confidence, first_seen, last_seen
FROM operation_pattern_stats
ORDER BY occurrences DESC, pattern_signature
LIMIT ?)sql";

constexpr const char* k_top_failures = R"sql(
SELECT signature, error_type, example, frequency, agent_count, session_count, first_seen,
       last_seen
FROM failure_patterns
ORDER BY frequency DESC, signature
LIMIT ?)sql";

constexpr const char* k_dead_letters_by_reason = R"sql(
SELECT reason_class, count(*) FROM dead_letters GROUP BY reason_class ORDER BY reason_class)sql";

std::int64_t count_of(SQLite::Database& db, const char* sql) {
  return db.execAndGet(sql).getInt64();
}

}  // namespace

Report load_report(Database& db, std::size_t top) {
  auto& sql = db.sql();
  Report report;
  report.rules_version = db.meta(k_meta_rules_version).value_or("");
  report.workflows = count_of(sql, "SELECT count(*) FROM workflow_history");
  report.extraction_events = count_of(sql, "SELECT count(*) FROM extraction_events");
  report.sessions = count_of(sql, "SELECT count(*) FROM agent_sessions");
  report.code_blocks = count_of(sql, "SELECT count(*) FROM code_blocks");
  report.operation_patterns = count_of(sql, "SELECT count(*) FROM operation_patterns");
  report.failure_patterns = count_of(sql, "SELECT count(*) FROM failure_patterns");
  report.dead_letters = count_of(sql, "SELECT count(*) FROM dead_letters");

  SQLite::Statement reasons(sql, k_dead_letters_by_reason);
  while (reasons.executeStep())
    report.dead_letters_by_reason.emplace_back(reasons.getColumn(0).getString(),
                                               reasons.getColumn(1).getInt64());

  SQLite::Statement operations(sql, k_top_operations);
  operations.bind(1, static_cast<std::int64_t>(top));
  while (operations.executeStep()) {
    OperationPatternStats s;
    s.signature = operations.getColumn(0).getString();
    s.category = operations.getColumn(1).getString();
    s.tool = operations.getColumn(2).getString();
    s.target = operations.getColumn(3).getString();
    s.occurrences = operations.getColumn(4).getInt64();
    s.successes = operations.getColumn(5).getInt64();
    s.avg_tokens = operations.getColumn(6).getDouble();
    s.avg_cost_usd = operations.getColumn(7).getDouble();
    s.tool_cost_usd = operations.getColumn(8).getDouble();
    s.savings_per_run_usd = operations.getColumn(9).getDouble();
    s.runs_last_30_days = operations.getColumn(10).getInt64();
    s.savings_last_30_days_usd = operations.getColumn(11).getDouble();
    s.avg_duration_seconds = operations.getColumn(12).getDouble();
    s.confidence = operations.getColumn(13).getDouble();
    s.first_seen = operations.getColumn(14).getInt64();
    s.last_seen = operations.getColumn(15).getInt64();
    report.operations.push_back(std::move(s));
  }

  // Ties by name, not by row id: the same report whatever the order of arrival.
  SQLite::Statement fixes(sql, R"sql(
SELECT pattern, fix_example, attempts, successes, confidence FROM failure_fixes
WHERE signature = ? ORDER BY confidence DESC, pattern LIMIT 3)sql");
  SQLite::Statement failures(sql, k_top_failures);
  failures.bind(1, static_cast<std::int64_t>(top));
  while (failures.executeStep()) {
    FailureStats f;
    f.signature = failures.getColumn(0).getString();
    f.error_type = failures.getColumn(1).getString();
    f.example = failures.getColumn(2).getString();
    f.frequency = failures.getColumn(3).getInt64();
    f.agent_count = failures.getColumn(4).getInt64();
    f.session_count = failures.getColumn(5).getInt64();
    f.first_seen = failures.getColumn(6).getInt64();
    f.last_seen = failures.getColumn(7).getInt64();
    fixes.bind(1, f.signature);
    while (fixes.executeStep()) {
      FixStats x;
      x.pattern = fixes.getColumn(0).getString();
      if (!fixes.getColumn(1).isNull()) x.fix_example = fixes.getColumn(1).getString();
      x.attempts = fixes.getColumn(2).getInt64();
      x.successes = fixes.getColumn(3).getInt64();
      x.confidence = fixes.getColumn(4).getDouble();
      f.top_fixes.push_back(std::move(x));
    }
    fixes.reset();
    report.failures.push_back(std::move(f));
  }
  return report;
}

}  // namespace patternd::store
