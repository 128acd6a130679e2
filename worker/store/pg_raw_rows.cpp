#include "store/pg_raw_rows.hpp"

namespace patternd::store::pg {

RawTable::RawTable(std::string table, std::vector<RawColumn> columns, std::string key)
    : m_columns(std::move(columns)) {
  std::string names, arrays, staged;
  for (std::size_t i = 0; i < m_columns.size(); ++i) {
    const RawColumn& column = m_columns[i];
    const std::string separator = i == 0 ? "" : ", ";
    names += separator + column.name;
    arrays += separator + "$" + std::to_string(i + 1) + "::" + column.type + "[]";
    staged += separator + column.name + " " + column.type;
  }
  const std::string returning = " ON CONFLICT DO NOTHING RETURNING " + key + ", id";
  const std::string staging = "staged_" + table;
  m_arrays_insert =
      "INSERT INTO " + table + " (" + names + ") SELECT * FROM unnest(" + arrays + ")" + returning;
  m_staging_table =
      "CREATE TEMP TABLE IF NOT EXISTS " + staging + " (" + staged + ") ON COMMIT DELETE ROWS";
  m_copy = "COPY " + staging + " FROM STDIN (FORMAT binary)";
  m_staged_insert =
      "INSERT INTO " + table + " (" + names + ") SELECT " + names + " FROM " + staging + returning;
}

PgResult insert_staged(Connection& c, const RawTable& table, const CopyRows& rows) {
  c.copy_in(table.copy(), rows.data());
  return c.prepared(table.staged_insert());
}

bool refuses_a_record(const PgError& e) {
  const std::string& state = e.sqlstate();
  return state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0;
}

std::string bytea_text(const core::Digest& digest) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string text = "\\x";
  text.reserve(2 + 2 * digest.size());
  for (const unsigned char byte : digest) {
    text += k_hex[byte >> 4];
    text += k_hex[byte & 0xF];
  }
  return text;
}

void reject_nul(std::uint32_t message, std::vector<pipeline::Rejection>& rejected) {
  rejected.push_back({message, core::RejectClass::db_constraint,
                      "rejected by the database: a text holds a NUL character (\\u0000), "
                      "which PostgreSQL cannot store"});
}

void reject_refused(std::uint32_t message, const PgError& e,
                    std::vector<pipeline::Rejection>& rejected) {
  rejected.push_back(
      {message, core::RejectClass::db_constraint, "rejected by the database: " + e.reason()});
}

PgResult insert_in_savepoint(Connection& c, const std::string& sql, const Rows& row,
                             std::uint32_t message, std::vector<pipeline::Rejection>& rejected) {
  c.exec("SAVEPOINT raw_row");
  try {
    PgResult result = c.query(sql, row.params());
    c.exec("RELEASE SAVEPOINT raw_row");
    return result;
  } catch (const PgError& e) {
    if (!refuses_a_record(e)) throw;
    c.exec("ROLLBACK TO SAVEPOINT raw_row");
    reject_refused(message, e, rejected);
    return nullptr;
  }
}

}  // namespace patternd::store::pg
