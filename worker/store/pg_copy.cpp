#include "store/pg_copy.hpp"

#include <bit>
#include <cstring>

namespace patternd::store::pg {
namespace {

// Network byte order, as the binary format wants every integer.
template <typename T>
void put(std::string& out, T value) {
  using U = std::make_unsigned_t<T>;
  const U bits = static_cast<U>(value);
  for (int shift = 8 * (static_cast<int>(sizeof(T)) - 1); shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((bits >> shift) & 0xFF));
}

// "PGCOPY\n\377\r\n\0", then no flags and no header extension.
constexpr char k_signature[] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};

}  // namespace

CopyRows::CopyRows(std::size_t columns) : m_columns(columns) {}

void CopyRows::begin_row() {
  m_row_start = m_data.size();
  m_bad_row = false;
  put(m_data, static_cast<std::int16_t>(m_columns));
}

void CopyRows::field_length(std::int32_t length) { put(m_data, length); }

CopyRows& CopyRows::text(std::string_view value) {
  if (value.find('\0') != std::string_view::npos) m_bad_row = true;
  field_length(static_cast<std::int32_t>(value.size()));
  m_data.append(value);
  return *this;
}

CopyRows& CopyRows::integer(std::int64_t value) {
  field_length(8);
  put(m_data, value);
  return *this;
}

CopyRows& CopyRows::real(double value) {
  field_length(8);
  put(m_data, std::bit_cast<std::int64_t>(value));
  return *this;
}

CopyRows& CopyRows::bytes(const unsigned char* data, std::size_t size) {
  field_length(static_cast<std::int32_t>(size));
  m_data.append(reinterpret_cast<const char*>(data), size);
  return *this;
}

CopyRows& CopyRows::null() {
  field_length(-1);
  return *this;
}

std::string CopyRows::data() const {
  std::string out;
  out.reserve(sizeof k_signature + 8 + m_data.size() + 2);
  out.append(k_signature, sizeof k_signature);
  put(out, std::int32_t{0});  // flags
  put(out, std::int32_t{0});  // header extension length
  out += m_data;
  put(out, std::int16_t{-1});
  return out;
}

void CopyRows::clear() {
  m_data.clear();
  m_rows = 0;
}

}  // namespace patternd::store::pg
