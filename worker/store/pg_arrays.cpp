#include "store/pg_arrays.hpp"

#include <charconv>
#include <cstdio>

namespace patternd::store::pg {

Rows::Rows(std::size_t columns) : m_columns(columns), m_row_start(columns) {}

void Rows::begin_row() {
  for (std::size_t i = 0; i < m_columns.size(); ++i) m_row_start[i] = m_columns[i].size();
  m_column = 0;
  m_bad_row = false;
}

void Rows::drop_row() {
  for (std::size_t i = 0; i < m_columns.size(); ++i) m_columns[i].resize(m_row_start[i]);
}

std::string& Rows::next_column() { return m_columns.at(m_column++); }

// An array element in double quotes: a backslash or a quote is escaped with
// a backslash; everything else, commas and braces included, is literal.
Rows& Rows::text(std::string_view value) {
  if (value.find('\0') != std::string_view::npos) m_bad_row = true;
  std::string& out = next_column();
  out.reserve(out.size() + value.size() + 3);
  out += '"';
  for (const char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += "\",";
  return *this;
}

Rows& Rows::integer(std::int64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  std::string& out = next_column();
  out.append(digits, end);
  out += ',';
  return *this;
}

// Shortest round-trip form: the value read back is the value sent.
Rows& Rows::real(double value) {
  char digits[32];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  std::string& out = next_column();
  out.append(digits, end);
  out += ',';
  return *this;
}

// bytea's hex input form, \x0a1b..., its backslash escaped inside the array.
Rows& Rows::bytes(const unsigned char* data, std::size_t size) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string& out = next_column();
  out += "\"\\\\x";
  for (std::size_t i = 0; i < size; ++i) {
    out += k_hex[data[i] >> 4];
    out += k_hex[data[i] & 0xF];
  }
  out += "\",";
  return *this;
}

Rows& Rows::null() {
  next_column() += "NULL,";
  return *this;
}

std::vector<std::optional<std::string>> Rows::params() const {
  std::vector<std::optional<std::string>> params;
  params.reserve(m_columns.size());
  for (const std::string& column : m_columns) {
    std::string literal;
    literal.reserve(column.size() + 2);
    literal += '{';
    // Every element ends with a comma; the last one's is dropped.
    literal.append(column, 0, column.empty() ? 0 : column.size() - 1);
    literal += '}';
    params.push_back(std::move(literal));
  }
  return params;
}

void Rows::clear() {
  for (std::string& column : m_columns) column.clear();
  m_rows = 0;
}

}  // namespace patternd::store::pg
