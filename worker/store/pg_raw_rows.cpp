#include "store/pg_raw_rows.hpp"

namespace patternd::store::pg {

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
