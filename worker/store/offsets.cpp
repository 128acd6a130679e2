#include "store/offsets.hpp"

#include <SQLiteCpp/Statement.h>

namespace patternd::store {

constexpr const char* k_stored_offset =
    "SELECT next_offset FROM kafka_offsets WHERE topic = ? AND partition = ?";

std::optional<std::int64_t> stored_offset(Database& db, const std::string& topic,
                                          std::int32_t partition) {
  SQLite::Statement q(db.sql(), k_stored_offset);
  q.bind(1, topic);
  q.bind(2, partition);
  if (!q.executeStep()) return std::nullopt;
  return q.getColumn(0).getInt64();
}

}  // namespace patternd::store
