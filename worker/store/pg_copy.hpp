#pragma once
// A batch's rows in PostgreSQL's binary COPY format: what the batch writer
// streams into a staging table (COPY ... FROM STDIN (FORMAT binary)) before
// one INSERT ... SELECT moves the new ones into their table. Binary, so the
// server parses nothing: a number is its eight bytes, a text its bytes.
//
// The same row-building calls as Rows (store/pg_row_builder.hpp), so one
// function describes a record's row for either: integers are always sent as
// bigint (the staging table's columns are bigint; the INSERT narrows them).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "store/pg_row_builder.hpp"

namespace patternd::store::pg {

class CopyRows : public RowBuilder<CopyRows> {
 public:
  explicit CopyRows(std::size_t columns);

  void begin_row();
  void drop_row() { m_data.resize(m_row_start); }  // instead of end_row

  CopyRows& text(std::string_view value);
  CopyRows& integer(std::int64_t value);
  CopyRows& real(double value);
  CopyRows& bytes(const unsigned char* data, std::size_t size);
  CopyRows& null();

  // The whole COPY stream: header, rows, trailer.
  std::string data() const;
  void clear();

 private:
  void field_length(std::int32_t length);

  std::size_t m_columns;
  std::string m_data;  // the tuples
  std::size_t m_row_start = 0;
};

}  // namespace patternd::store::pg
