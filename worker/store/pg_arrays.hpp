#pragma once
// A batch's rows sent to PostgreSQL as arrays: one array parameter per
// column, in text form ({"a","b",NULL}), expanded by the statement with
// unnest(). A thousand rows are then one statement and one round trip, its
// plan the same whatever the batch size:
//
//   INSERT INTO t (a, b) SELECT * FROM unnest($1::text[], $2::bigint[])
//
// A row is built column by column between begin_row() and end_row(), with
// the calls store/pg_row_builder.hpp describes (a NUL in a text is reported,
// not sent).

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sha256.hpp"
#include "store/pg_connection.hpp"
#include "store/pg_row_builder.hpp"

namespace patternd::store::pg {

class Rows : public RowBuilder<Rows> {
 public:
  explicit Rows(std::size_t columns);

  void begin_row();
  // Takes the current row back (instead of end_row).
  void drop_row();

  // The next column of the current row.
  Rows& text(std::string_view value);
  Rows& integer(std::int64_t value);
  Rows& real(double value);
  Rows& bytes(const unsigned char* data, std::size_t size);
  Rows& null();
  // The array literals, one per column, as statement parameters.
  std::vector<std::optional<std::string>> params() const;
  void clear();

 private:
  std::string& next_column();

  std::vector<std::string> m_columns;  // each "elem,elem," without the braces
  std::vector<std::size_t> m_row_start;
  std::size_t m_column = 0;
};

// Sends `rows` as the array parameters of `sql`. Throws PgError.
inline PgResult send(Connection& c, const std::string& sql, const Rows& rows) {
  return c.prepared(sql, rows.params());
}

// A value of a result row, as text or as an integer (a NULL is "" or 0).
inline std::string text_at(const PGresult* result, int row, int column) {
  return {PQgetvalue(result, row, column),
          static_cast<std::size_t>(PQgetlength(result, row, column))};
}
inline std::int64_t integer_at(const PGresult* result, int row, int column) {
  return std::strtoll(PQgetvalue(result, row, column), nullptr, 10);
}

// The number of rows a statement changed (INSERT, UPDATE, DELETE).
inline std::int64_t rows_changed(const PGresult* result) {
  return std::strtoll(PQcmdTuples(const_cast<PGresult*>(result)), nullptr, 10);
}

}  // namespace patternd::store::pg
