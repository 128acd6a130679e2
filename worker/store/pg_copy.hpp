#pragma once
// A batch's rows in PostgreSQL's binary COPY format: what the batch writer
// streams into a staging table (COPY ... FROM STDIN (FORMAT binary)) before
// one INSERT ... SELECT moves the new ones into their table. Binary, so the
// server parses nothing: a number is its eight bytes, a text its bytes.
//
// The same row-building calls as Rows (store/pg_arrays.hpp), so one
// function describes a record's row for either: integers are always sent as
// bigint (the staging table's columns are bigint; the INSERT narrows them).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/sha256.hpp"

namespace patternd::store::pg {

class CopyRows {
 public:
  explicit CopyRows(std::size_t columns);

  void begin_row();
  void end_row() { ++m_rows; }
  // Whether a text of the current row held a NUL character (PostgreSQL's
  // text cannot).
  bool holds_nul() const { return m_bad_row; }
  // A text stored with the row elsewhere (a code block's): its NUL makes
  // holds_nul() true too.
  void note_text(std::string_view text) {
    if (text.find('\0') != std::string_view::npos) m_bad_row = true;
  }
  void drop_row() { m_data.resize(m_row_start); }

  CopyRows& text(std::string_view value);
  CopyRows& text_or_null(std::string_view value) { return value.empty() ? null() : text(value); }
  CopyRows& integer(std::int64_t value);
  CopyRows& real(double value);
  CopyRows& bytes(const unsigned char* data, std::size_t size);
  CopyRows& digest(const core::Digest& d) { return bytes(d.data(), d.size()); }
  CopyRows& null();
  template <typename T>
  CopyRows& optional(const std::optional<T>& value) {
    if (!value) return null();
    if constexpr (std::is_floating_point_v<T>)
      return real(*value);
    else
      return integer(static_cast<std::int64_t>(*value));
  }

  std::size_t size() const { return m_rows; }
  bool empty() const { return m_rows == 0; }
  // The whole COPY stream: header, rows, trailer.
  std::string data() const;
  void clear();

 private:
  void field_length(std::int32_t length);

  std::size_t m_columns;
  std::string m_data;  // the tuples
  std::size_t m_row_start = 0;
  std::size_t m_rows = 0;
  bool m_bad_row = false;
};

}  // namespace patternd::store::pg
