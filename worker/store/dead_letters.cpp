#include "store/dead_letters.hpp"

#include <SQLiteCpp/Statement.h>

namespace patternd::store {
namespace {

// One statement for every combination of filters: an absent filter binds NULL.
constexpr const char* k_where = R"sql(
WHERE (?1 IS NULL OR reason_class = ?1)
  AND (?2 IS NULL OR topic = ?2)
  AND (?3 IS NULL OR received_at >= ?3)
  AND (?4 IS NULL OR received_at < ?4))sql";

template <typename T>
void bind_optional(SQLite::Statement& q, int index, const std::optional<T>& value) {
  if (value)
    q.bind(index, *value);
  else
    q.bind(index);  // NULL
}

void bind_filter(SQLite::Statement& q, const DeadLetterFilter& filter) {
  bind_optional(q, 1, filter.reason_class);
  bind_optional(q, 2, filter.topic);
  bind_optional(q, 3, filter.since);
  bind_optional(q, 4, filter.until);
}

}  // namespace

std::vector<DeadLetter> find_dead_letters(Database& db, const DeadLetterFilter& filter) {
  SQLite::Statement q(db.sql(), std::string(R"sql(
SELECT id, topic, partition, offset, reason_class, reason, payload, payload_size, message_time,
       received_at, source_file, source_line
FROM dead_letters)sql") + k_where + " AND id > ?5 ORDER BY id LIMIT ?6");
  bind_filter(q, filter);
  q.bind(5, filter.after_id);
  q.bind(6, filter.limit);
  std::vector<DeadLetter> letters;
  while (q.executeStep()) {
    DeadLetter d;
    d.id = q.getColumn(0).getInt64();
    d.topic = q.getColumn(1).getString();
    d.partition = q.getColumn(2).getInt();
    d.offset = q.getColumn(3).getInt64();
    d.reason_class = q.getColumn(4).getString();
    d.reason = q.getColumn(5).getString();
    const auto payload = q.getColumn(6);
    d.payload.assign(static_cast<const char*>(payload.getBlob()),
                     static_cast<std::size_t>(payload.getBytes()));
    d.payload_size = q.getColumn(7).getInt64();
    if (!q.getColumn(8).isNull()) d.message_time = q.getColumn(8).getInt64();
    d.received_at = q.getColumn(9).getInt64();
    if (!q.getColumn(10).isNull()) d.source_file = q.getColumn(10).getString();
    if (!q.getColumn(11).isNull()) d.source_line = q.getColumn(11).getInt64();
    letters.push_back(std::move(d));
  }
  return letters;
}

std::int64_t count_dead_letters(Database& db, const DeadLetterFilter& filter) {
  SQLite::Statement q(db.sql(), std::string("SELECT count(*) FROM dead_letters") + k_where);
  bind_filter(q, filter);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

}  // namespace patternd::store
