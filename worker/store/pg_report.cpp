#include "store/pg_report.hpp"

#include <string>

#include "store/pg_read_rows.hpp"

namespace patternd::store::pg {
namespace {

constexpr const char* k_rules_version = "SELECT value FROM patternd_meta WHERE key = :key";

constexpr const char* k_counts =
    "SELECT (SELECT count(*) FROM workflow_history), (SELECT count(*) FROM extraction_events), "
    "(SELECT count(*) FROM agent_sessions), (SELECT count(*) FROM code_blocks), "
    "(SELECT count(*) FROM operation_patterns), (SELECT count(*) FROM failure_patterns), "
    "(SELECT count(*) FROM dead_letters)";

constexpr const char* k_dead_letters_by_reason =
    "SELECT reason_class, count(*) FROM dead_letters GROUP BY reason_class "
    "ORDER BY reason_class COLLATE \"C\"";

constexpr const char* k_top_operations =
    "SELECT pattern_signature, category, tool, target, occurrences, successes, avg_tokens, "
    "avg_cost_usd, tool_cost_usd, savings_per_run_usd, runs_last_30_days, "
    "savings_last_30_days_usd, avg_duration_seconds, confidence, first_seen, last_seen "
    "FROM operation_pattern_stats "
    "ORDER BY occurrences DESC, pattern_signature COLLATE \"C\" LIMIT :top";

constexpr const char* k_top_failures =
    "SELECT signature, error_type, example, frequency, agent_count, session_count, first_seen, "
    "last_seen FROM failure_patterns ORDER BY frequency DESC, signature COLLATE \"C\" LIMIT :top";

// Ties by name, not by row id: the same report whatever the order of arrival.
constexpr const char* k_top_fixes =
    "SELECT pattern, fix_example, attempts, successes, confidence FROM failure_fixes "
    "WHERE signature = :signature ORDER BY confidence DESC, pattern COLLATE \"C\" LIMIT 3";

constexpr const char* k_dead_letter_columns =
    "SELECT id, topic, partition, \"offset\", reason_class, reason, payload, payload_size, "
    "message_time, received_at, source_file, source_line FROM dead_letters ";

constexpr const char* k_pattern_counts =
    "SELECT (SELECT count(*) FROM operation_patterns), (SELECT count(*) FROM failure_patterns)";

FailureStats failure_stats(const Cells& c) {
  FailureStats f;
  f.signature = c.text(0);
  f.error_type = c.text(1);
  f.example = c.text(2);
  f.frequency = c.integer(3);
  f.agent_count = c.integer(4);
  f.session_count = c.integer(5);
  f.first_seen = c.integer(6);
  f.last_seen = c.integer(7);
  return f;
}

FixStats fix_stats(const Cells& c) {
  return FixStats{c.text(0), c.text_or_null(1), c.integer(2), c.integer(3), c.real(4)};
}

DeadLetter dead_letter(const Cells& c) {
  DeadLetter d;
  d.id = c.integer(0);
  d.topic = c.text(1);
  d.partition = static_cast<std::int32_t>(c.integer(2));
  d.offset = c.integer(3);
  d.reason_class = c.text(4);
  d.reason = c.text(5);
  d.payload = c.bytes(6);
  d.payload_size = c.integer(7);
  d.message_time = c.integer_or_null(8);
  d.received_at = c.integer(9);
  d.source_file = c.text_or_null(10);
  d.source_line = c.integer_or_null(11);
  return d;
}

// The filter's conditions, each only when it is given, and its values bound.
Statement filtered(std::string select, const DeadLetterFilter& filter, const std::string& rest) {
  std::string where = "WHERE true";
  if (filter.reason_class) where += " AND reason_class = :reason_class";
  if (filter.topic) where += " AND topic = :topic";
  if (filter.since) where += " AND received_at >= :since";
  if (filter.until) where += " AND received_at < :until";
  Statement s(std::move(select) + where + rest);
  s.bind(":reason_class", filter.reason_class)
      .bind(":topic", filter.topic)
      .bind(":since", filter.since)
      .bind(":until", filter.until);
  return s;
}

// The output formats pg_read_rows.cpp reads (bytea in hex, doubles exact),
// whatever the server's defaults: set on the caller's session, where they
// change what a result looks like and nothing else.
void use_read_formats(Connection& connection) {
  connection.exec("SET bytea_output = 'hex'; SET extra_float_digits = 1");
}

}  // namespace

Report report(Connection& connection, std::size_t top) {
  use_read_formats(connection);
  Report out;
  const PgResult rules =
      Statement(k_rules_version).bind(":key", std::string(k_meta_rules_version)).run(connection);
  if (PQntuples(rules.get()) > 0) out.rules_version = Cells(rules.get(), 0).text(0);

  const PgResult counts = Statement(k_counts).run(connection);
  const Cells n(counts.get(), 0);
  out.workflows = n.integer(0);
  out.extraction_events = n.integer(1);
  out.sessions = n.integer(2);
  out.code_blocks = n.integer(3);
  out.operation_patterns = n.integer(4);
  out.failure_patterns = n.integer(5);
  out.dead_letters = n.integer(6);

  out.dead_letters_by_reason =
      rows_of(Statement(k_dead_letters_by_reason).run(connection), [](const Cells& c) {
        return std::pair{c.text(0), c.integer(1)};
      });
  const auto limit = static_cast<std::int64_t>(top);
  out.operations = rows_of(Statement(k_top_operations).bind(":top", limit).run(connection),
                           [](const Cells& c) { return operation_stats(c, 0); });
  out.failures =
      rows_of(Statement(k_top_failures).bind(":top", limit).run(connection), failure_stats);
  for (auto& failure : out.failures)
    failure.top_fixes = rows_of(
        Statement(k_top_fixes).bind(":signature", failure.signature).run(connection), fix_stats);
  return out;
}

std::vector<DeadLetter> find_dead_letters(Connection& connection, const DeadLetterFilter& filter) {
  use_read_formats(connection);
  Statement s =
      filtered(k_dead_letter_columns, filter, " AND id > :after ORDER BY id LIMIT :limit");
  s.bind(":after", filter.after_id).bind(":limit", filter.limit);
  return rows_of(s.run(connection), dead_letter);
}

std::int64_t count_dead_letters(Connection& connection, const DeadLetterFilter& filter) {
  const PgResult count = filtered("SELECT count(*) FROM dead_letters ", filter, "").run(connection);
  return Cells(count.get(), 0).integer(0);
}

PatternCounts count_patterns(Connection& connection) {
  const PgResult counts = Statement(k_pattern_counts).run(connection);
  const Cells n(counts.get(), 0);
  return {n.integer(0), n.integer(1)};
}

}  // namespace patternd::store::pg
