#pragma once
// The PostgreSQL reader's building blocks: statements written with named
// parameters (:agent, :key), as the SQLite reader's are, sent to libpq as
// $1, $2, ... with every value as text; and the rows of store/reader.hpp read
// from a result's text values, column by column in the order of the
// statements in store/pg_read_queries.cpp. Internal to the PostgreSQL reader
// and report.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/sha256.hpp"
#include "store/pg_connection.hpp"
#include "store/reader.hpp"

namespace patternd::store::pg {

// One statement and its values by name. A name in the SQL is a colon and a
// lower-case identifier not preceded by another colon (so casts such as
// `::bigint` stay as they are); every name in the SQL must be bound.
class Statement {
 public:
  explicit Statement(std::string sql) : m_sql(std::move(sql)) {}

  Statement& bind(const std::string& name, std::string value);
  Statement& bind(const std::string& name, std::int64_t value);
  Statement& bind(const std::string& name, double value);
  // Absent: nothing bound (the SQL names it only when present).
  Statement& bind(const std::string& name, const std::optional<std::string>& value);
  Statement& bind(const std::string& name, const std::optional<std::int64_t>& value);
  Statement& bind(const std::string& name, const std::optional<double>& value);
  // A digest as bytea's hex input ("\x0a1b...").
  Statement& bind_digest(const std::string& name, const core::Digest& digest);
  // A cursor's key as an integer when it is one (times and counts: exact and
  // comparable with bigint columns), else as a double; and its id.
  Statement& bind_position(const Position& position);

  // Runs it on `connection`. Throws PgError.
  PgResult run(Connection& connection) const;

 private:
  std::string m_sql;
  std::map<std::string, std::string> m_values;
};

// One row of a result, read by column index. NULL reads as 0 or "" where a
// value is required.
class Cells {
 public:
  Cells(const PGresult* result, int row) : m_result(result), m_row(row) {}
  bool null(int column) const;
  std::string text(int column) const;
  std::optional<std::string> text_or_null(int column) const;
  std::int64_t integer(int column) const;
  std::optional<std::int64_t> integer_or_null(int column) const;
  double real(int column) const;
  std::optional<double> real_or_null(int column) const;
  std::optional<bool> flag_or_null(int column) const;  // a 0/1 integer column
  std::string bytes(int column) const;                 // bytea, decoded
  core::Digest digest(int column) const;               // zeros unless 32 bytes

 private:
  const PGresult* m_result;
  int m_row;
};

// Each row of `result` made by `row_of(Cells)`.
template <typename RowOf>
auto rows_of(const PgResult& result, RowOf row_of) {
  std::vector<decltype(row_of(Cells(nullptr, 0)))> out;
  const int n = PQntuples(result.get());
  out.reserve(static_cast<std::size_t>(n));
  for (int row = 0; row < n; ++row) out.push_back(row_of(Cells(result.get(), row)));
  return out;
}

// The columns of operation_pattern_stats from `first` on, in the view's
// order as store/pg_read_queries.cpp and the report select them.
OperationPatternStats operation_stats(const Cells& c, int first);
// Attempts, successes, duration sum and count, first and last seen, from
// column `first` on, with the rates derived as the SQLite reader derives them.
OutcomeFigures figures_of(const Cells& c, int first);

PatternRow pattern_row(const Cells& c);
FailureRow failure_row(const Cells& c);
ExtractionRow extraction_row(const Cells& c);
SessionRow session_row(const Cells& c);
StateChange state_change_row(const Cells& c);
CodeBlockRow code_block_row(const Cells& c);
FixRow fix_row(const Cells& c);
OutcomeStatsRow outcome_stats_row(const Cells& c);
PromptRow prompt_row(const Cells& c);

}  // namespace patternd::store::pg
