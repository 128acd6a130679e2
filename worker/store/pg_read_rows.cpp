#include "store/pg_read_rows.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "core/statistics.hpp"

namespace patternd::store::pg {
namespace {

bool starts_name(char c) { return std::islower(static_cast<unsigned char>(c)) || c == '_'; }
bool in_name(char c) { return starts_name(c) || std::isdigit(static_cast<unsigned char>(c)) != 0; }

// Text that reads back as the same double (17 significant digits).
std::string exact_text(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Statement& Statement::bind(const std::string& name, std::string value) {
  m_values[name] = std::move(value);
  return *this;
}
Statement& Statement::bind(const std::string& name, std::int64_t value) {
  return bind(name, std::to_string(value));
}
Statement& Statement::bind(const std::string& name, double value) {
  return bind(name, exact_text(value));
}
Statement& Statement::bind(const std::string& name, const std::optional<std::string>& value) {
  return value ? bind(name, *value) : *this;
}
Statement& Statement::bind(const std::string& name, const std::optional<std::int64_t>& value) {
  return value ? bind(name, *value) : *this;
}
Statement& Statement::bind(const std::string& name, const std::optional<double>& value) {
  return value ? bind(name, *value) : *this;
}
Statement& Statement::bind_digest(const std::string& name, const core::Digest& digest) {
  return bind(name, "\\x" + core::to_hex(digest));
}
// As the SQLite reader binds it (sqlite_reader.cpp, bind_position).
Statement& Statement::bind_position(const Position& position) {
  if (std::nearbyint(position.key) == position.key && std::fabs(position.key) < 9e15)
    bind(":key", static_cast<std::int64_t>(position.key));
  else
    bind(":key", position.key);
  return bind(":id", position.id);
}

PgResult Statement::run(Connection& connection) const {
  std::string sql;
  std::vector<std::string> names;  // $n is names[n - 1]
  for (std::size_t i = 0; i < m_sql.size(); ++i) {
    const bool named = m_sql[i] == ':' && i + 1 < m_sql.size() && starts_name(m_sql[i + 1]) &&
                       (i == 0 || m_sql[i - 1] != ':');
    if (!named) {
      sql += m_sql[i];
      continue;
    }
    std::size_t end = i + 1;
    while (end < m_sql.size() && in_name(m_sql[end])) ++end;
    const std::string name = m_sql.substr(i, end - i);
    std::size_t index = 0;
    while (index < names.size() && names[index] != name) ++index;
    if (index == names.size()) names.push_back(name);
    sql += "$" + std::to_string(index + 1);
    i = end - 1;
  }
  std::vector<std::optional<std::string>> params;
  for (const auto& name : names) {
    const auto value = m_values.find(name);
    if (value == m_values.end()) throw std::logic_error("unbound parameter " + name + ": " + m_sql);
    params.emplace_back(value->second);
  }
  return connection.query(sql, params);
}

bool Cells::null(int column) const { return PQgetisnull(m_result, m_row, column) != 0; }
std::string Cells::text(int column) const {
  return std::string(PQgetvalue(m_result, m_row, column),
                     static_cast<std::size_t>(PQgetlength(m_result, m_row, column)));
}
std::optional<std::string> Cells::text_or_null(int column) const {
  if (null(column)) return std::nullopt;
  return text(column);
}
// Integer columns, and sums of them (numeric: integral text all the same).
std::int64_t Cells::integer(int column) const {
  return null(column) ? 0 : std::stoll(PQgetvalue(m_result, m_row, column));
}
std::optional<std::int64_t> Cells::integer_or_null(int column) const {
  if (null(column)) return std::nullopt;
  return integer(column);
}
// The server writes the shortest text that reads back as the same double
// (extra_float_digits 1, set by the reader): strtod gives the stored value.
double Cells::real(int column) const {
  return null(column) ? 0 : std::strtod(PQgetvalue(m_result, m_row, column), nullptr);
}
std::optional<double> Cells::real_or_null(int column) const {
  if (null(column)) return std::nullopt;
  return real(column);
}
std::optional<bool> Cells::flag_or_null(int column) const {
  if (null(column)) return std::nullopt;
  return integer(column) != 0;
}
// bytea in hex output ("\x0a1b..."), which the reader's session asks for.
std::string Cells::bytes(int column) const {
  const std::string hex = text(column);
  std::string out;
  if (hex.size() < 2 || hex[0] != '\\' || hex[1] != 'x') return out;
  out.reserve((hex.size() - 2) / 2);
  for (std::size_t i = 2; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(hex_value(hex[i]) * 16 + hex_value(hex[i + 1])));
  return out;
}
core::Digest Cells::digest(int column) const {
  core::Digest d{};
  const std::string raw = bytes(column);
  if (raw.size() == d.size())
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(raw[i]);
  return d;
}

OperationPatternStats operation_stats(const Cells& c, int first) {
  OperationPatternStats p;
  p.signature = c.text(first);
  p.category = c.text(first + 1);
  p.tool = c.text(first + 2);
  p.target = c.text(first + 3);
  p.occurrences = c.integer(first + 4);
  p.successes = c.integer(first + 5);
  p.avg_tokens = c.real(first + 6);
  p.avg_cost_usd = c.real(first + 7);
  p.tool_cost_usd = c.real(first + 8);
  p.savings_per_run_usd = c.real(first + 9);
  p.runs_last_30_days = c.integer(first + 10);
  p.savings_last_30_days_usd = c.real(first + 11);
  p.avg_duration_seconds = c.real(first + 12);
  p.confidence = c.real(first + 13);
  p.first_seen = c.integer(first + 14);
  p.last_seen = c.integer(first + 15);
  return p;
}

// core::wilson_lower_bound is the formula the stored confidence columns use.
OutcomeFigures figures_of(const Cells& c, int first) {
  OutcomeFigures f;
  f.attempts = c.integer(first);
  f.successes = c.integer(first + 1);
  const std::int64_t duration_sum = c.integer(first + 2);
  const std::int64_t duration_count = c.integer(first + 3);
  f.first_seen = c.integer(first + 4);
  f.last_seen = c.integer(first + 5);
  f.success_rate = f.attempts > 0 ? static_cast<double>(f.successes) / f.attempts : 0;
  f.confidence = core::wilson_lower_bound(f.successes, f.attempts);
  if (duration_count > 0) f.mean_duration_ms = static_cast<double>(duration_sum) / duration_count;
  return f;
}

PatternRow pattern_row(const Cells& c) {
  PatternRow r;
  r.id = c.integer(0);
  r.stats = operation_stats(c, 1);
  const auto& p = r.stats;
  r.success_rate = p.occurrences > 0 ? static_cast<double>(p.successes) / p.occurrences : 0;
  return r;
}

FailureRow failure_row(const Cells& c) {
  FailureRow r;
  r.id = c.integer(0);
  r.stats.signature = c.text(1);
  r.stats.error_type = c.text(2);
  r.stats.example = c.text(3);
  r.stats.frequency = c.integer(4);
  r.stats.agent_count = c.integer(5);
  r.stats.session_count = c.integer(6);
  r.stats.first_seen = c.integer(7);
  r.stats.last_seen = c.integer(8);
  return r;
}

ExtractionRow extraction_row(const Cells& c) {
  ExtractionRow r;
  r.id = c.integer(0);
  r.identity = c.digest(1);
  r.event_id = c.text_or_null(2);
  r.agent = c.text(3);
  r.session_id = c.text(4);
  r.time = c.integer(5);
  r.type = c.text(6);
  r.pattern = c.text_or_null(7);
  r.matched_value = c.text_or_null(8);
  r.original_line = c.text_or_null(9);
  r.line_number = c.integer_or_null(10);
  r.risk_level = c.text_or_null(11);
  r.auto_confirmable = c.flag_or_null(12);
  r.metadata = c.text_or_null(13);
  if (!c.null(14))
    r.code = ExtractionRow::Code{c.digest(14), c.integer_or_null(15), c.integer_or_null(16),
                                 c.flag_or_null(17)};
  return r;
}

SessionRow session_row(const Cells& c) {
  SessionRow r;
  r.id = c.integer(0);
  r.session_id = c.text(1);
  r.agent = c.text(2);
  r.first_event = c.integer(3);
  r.last_event = c.integer(4);
  r.event_count = c.integer(5);
  r.error_count = c.integer(6);
  r.feedback_outcomes = c.integer(7);
  r.state_changes = c.integer(8);
  r.started_at = c.integer_or_null(9);
  r.ended_at = c.integer_or_null(10);
  r.exit_code = c.integer_or_null(11);
  r.state = c.text_or_null(12);
  r.end_state = c.text_or_null(13);
  r.environment = c.text_or_null(14);
  r.lines_processed = c.integer_or_null(15);
  r.stdout_log_path = c.text_or_null(16);
  r.stderr_log_path = c.text_or_null(17);
  r.extraction_config_version = c.text_or_null(18);
  r.environment_config_version = c.text_or_null(19);
  return r;
}

StateChange state_change_row(const Cells& c) {
  StateChange s;
  s.id = c.integer(0);
  s.session_id = c.text(1);
  s.agent = c.text(2);
  s.state = c.text(3);
  s.time = c.integer(4);
  s.exit_code = c.integer_or_null(5);
  s.lines_processed = c.integer_or_null(6);
  s.environment = c.text_or_null(7);
  s.metadata = c.text_or_null(8);
  s.stdout_log_path = c.text_or_null(9);
  s.stderr_log_path = c.text_or_null(10);
  s.extraction_config_version = c.text_or_null(11);
  s.environment_config_version = c.text_or_null(12);
  return s;
}

CodeBlockRow code_block_row(const Cells& c) {
  return CodeBlockRow{c.integer(0), c.digest(1),  c.text(2),   c.text(3),
                      c.integer(4), c.integer(5), c.integer(6)};
}

FixRow fix_row(const Cells& c) {
  FixRow r;
  r.id = c.integer(0);
  r.signature = c.text(1);
  r.pattern = c.text(2);
  r.error_type = c.text(3);
  r.figures = figures_of(c, 4);
  r.fix_example = c.text_or_null(10);
  r.agent_count = c.integer(11);
  return r;
}

OutcomeStatsRow outcome_stats_row(const Cells& c) {
  return OutcomeStatsRow{c.text(0), figures_of(c, 1), c.integer(7)};
}

PromptRow prompt_row(const Cells& c) {
  PromptRow r;
  r.id = c.integer(0);
  r.identity = c.digest(1);
  r.prompt_id = c.text_or_null(2);
  r.agent = c.text_or_null(3);
  r.session_id = c.text_or_null(4);
  r.time = c.integer(5);
  r.original_idea = c.text(6);
  r.context = c.text(7);
  r.improved_prompt = c.text(8);
  r.role = c.text(9);
  r.directive = c.text(10);
  r.framework = c.text(11);
  r.guardrails = c.text(12);
  r.backend = c.text(13);
  r.model_version = c.text_or_null(14);
  r.confidence = c.real_or_null(15);
  r.reasoning = c.text_or_null(16);
  r.latency_ms = c.integer_or_null(17);
  r.rank = c.real_or_null(18);
  return r;
}

}  // namespace patternd::store::pg
