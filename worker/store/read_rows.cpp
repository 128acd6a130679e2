#include "store/read_rows.hpp"

#include <SQLiteCpp/Column.h>

#include <cstring>

#include "core/statistics.hpp"

namespace patternd::store {

std::optional<std::string> text_or_null(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getString();
}
std::optional<std::int64_t> integer_or_null(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}
core::Digest digest_of(const SQLite::Column& c) {
  core::Digest d{};
  if (c.getBytes() == static_cast<int>(d.size())) std::memcpy(d.data(), c.getBlob(), d.size());
  return d;
}

PatternRow pattern_row(SQLite::Statement& s) {
  PatternRow r;
  r.id = s.getColumn(0).getInt64();
  auto& p = r.stats;
  p.signature = s.getColumn(1).getString();
  p.category = s.getColumn(2).getString();
  p.tool = s.getColumn(3).getString();
  p.target = s.getColumn(4).getString();
  p.occurrences = s.getColumn(5).getInt64();
  p.successes = s.getColumn(6).getInt64();
  p.avg_tokens = s.getColumn(7).getDouble();
  p.avg_cost_usd = s.getColumn(8).getDouble();
  p.tool_cost_usd = s.getColumn(9).getDouble();
  p.savings_per_run_usd = s.getColumn(10).getDouble();
  p.runs_last_30_days = s.getColumn(11).getInt64();
  p.savings_last_30_days_usd = s.getColumn(12).getDouble();
  p.avg_duration_seconds = s.getColumn(13).getDouble();
  p.confidence = s.getColumn(14).getDouble();
  p.first_seen = s.getColumn(15).getInt64();
  p.last_seen = s.getColumn(16).getInt64();
  r.success_rate = p.occurrences > 0 ? static_cast<double>(p.successes) / p.occurrences : 0;
  return r;
}

FailureRow failure_row(SQLite::Statement& s) {
  FailureRow r;
  r.id = s.getColumn(0).getInt64();
  r.stats.signature = s.getColumn(1).getString();
  r.stats.error_type = s.getColumn(2).getString();
  r.stats.example = s.getColumn(3).getString();
  r.stats.frequency = s.getColumn(4).getInt64();
  r.stats.agent_count = s.getColumn(5).getInt64();
  r.stats.session_count = s.getColumn(6).getInt64();
  r.stats.first_seen = s.getColumn(7).getInt64();
  r.stats.last_seen = s.getColumn(8).getInt64();
  return r;
}

ExtractionRow extraction_row(SQLite::Statement& s) {
  ExtractionRow r;
  r.id = s.getColumn(0).getInt64();
  r.identity = digest_of(s.getColumn(1));
  r.event_id = text_or_null(s.getColumn(2));
  r.agent = s.getColumn(3).getString();
  r.session_id = s.getColumn(4).getString();
  r.time = s.getColumn(5).getInt64();
  r.type = s.getColumn(6).getString();
  r.pattern = text_or_null(s.getColumn(7));
  r.matched_value = text_or_null(s.getColumn(8));
  r.original_line = text_or_null(s.getColumn(9));
  r.line_number = integer_or_null(s.getColumn(10));
  r.risk_level = text_or_null(s.getColumn(11));
  if (!s.getColumn(12).isNull()) r.auto_confirmable = s.getColumn(12).getInt() != 0;
  r.metadata = text_or_null(s.getColumn(13));
  if (!s.getColumn(14).isNull()) {
    ExtractionRow::Code code;
    code.digest = digest_of(s.getColumn(14));
    code.line_start = integer_or_null(s.getColumn(15));
    code.line_end = integer_or_null(s.getColumn(16));
    if (!s.getColumn(17).isNull()) code.parseable = s.getColumn(17).getInt() != 0;
    r.code = code;
  }
  return r;
}

SessionRow session_row(SQLite::Statement& s) {
  SessionRow r;
  r.id = s.getColumn(0).getInt64();
  r.session_id = s.getColumn(1).getString();
  r.agent = s.getColumn(2).getString();
  r.first_event = s.getColumn(3).getInt64();
  r.last_event = s.getColumn(4).getInt64();
  r.event_count = s.getColumn(5).getInt64();
  r.error_count = s.getColumn(6).getInt64();
  r.feedback_outcomes = s.getColumn(7).getInt64();
  r.state_changes = s.getColumn(8).getInt64();
  r.started_at = integer_or_null(s.getColumn(9));
  r.ended_at = integer_or_null(s.getColumn(10));
  r.exit_code = integer_or_null(s.getColumn(11));
  r.state = text_or_null(s.getColumn(12));
  r.end_state = text_or_null(s.getColumn(13));
  r.environment = text_or_null(s.getColumn(14));
  r.lines_processed = integer_or_null(s.getColumn(15));
  r.stdout_log_path = text_or_null(s.getColumn(16));
  r.stderr_log_path = text_or_null(s.getColumn(17));
  r.extraction_config_version = text_or_null(s.getColumn(18));
  r.environment_config_version = text_or_null(s.getColumn(19));
  return r;
}

StateChange state_change_row(SQLite::Statement& s) {
  StateChange c;
  c.id = s.getColumn(0).getInt64();
  c.session_id = s.getColumn(1).getString();
  c.agent = s.getColumn(2).getString();
  c.state = s.getColumn(3).getString();
  c.time = s.getColumn(4).getInt64();
  c.exit_code = integer_or_null(s.getColumn(5));
  c.lines_processed = integer_or_null(s.getColumn(6));
  c.environment = text_or_null(s.getColumn(7));
  c.metadata = text_or_null(s.getColumn(8));
  c.stdout_log_path = text_or_null(s.getColumn(9));
  c.stderr_log_path = text_or_null(s.getColumn(10));
  c.extraction_config_version = text_or_null(s.getColumn(11));
  c.environment_config_version = text_or_null(s.getColumn(12));
  return c;
}

CodeBlockRow code_block_row(SQLite::Statement& s) {
  CodeBlockRow r;
  r.id = s.getColumn(0).getInt64();
  r.digest = digest_of(s.getColumn(1));
  r.language = s.getColumn(2).getString();
  r.content = s.getColumn(3).getString();
  r.times_seen = s.getColumn(4).getInt64();
  r.first_seen = s.getColumn(5).getInt64();
  r.last_seen = s.getColumn(6).getInt64();
  return r;
}

// core::wilson_lower_bound is the formula the stored confidence columns use.
OutcomeFigures figures_of(SQLite::Statement& s, int first) {
  OutcomeFigures f;
  f.attempts = s.getColumn(first).getInt64();
  f.successes = s.getColumn(first + 1).getInt64();
  const std::int64_t duration_sum = s.getColumn(first + 2).getInt64();
  const std::int64_t duration_count = s.getColumn(first + 3).getInt64();
  f.first_seen = s.getColumn(first + 4).getInt64();
  f.last_seen = s.getColumn(first + 5).getInt64();
  f.success_rate = f.attempts > 0 ? static_cast<double>(f.successes) / f.attempts : 0;
  f.confidence = core::wilson_lower_bound(f.successes, f.attempts);
  if (duration_count > 0) f.mean_duration_ms = static_cast<double>(duration_sum) / duration_count;
  return f;
}

FixRow fix_row(SQLite::Statement& s) {
  FixRow r;
  r.id = s.getColumn(0).getInt64();
  r.signature = s.getColumn(1).getString();
  r.pattern = s.getColumn(2).getString();
  r.error_type = s.getColumn(3).getString();
  r.figures = figures_of(s, 4);
  r.fix_example = text_or_null(s.getColumn(10));
  r.agent_count = s.getColumn(11).getInt64();
  return r;
}

OutcomeStatsRow outcome_stats_row(SQLite::Statement& s) {
  OutcomeStatsRow r;
  r.pattern = s.getColumn(0).getString();
  r.figures = figures_of(s, 1);
  r.agent_count = s.getColumn(7).getInt64();
  return r;
}

}  // namespace patternd::store
