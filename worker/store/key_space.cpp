#include "store/key_space.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace patternd::store {

const KeyTable k_workflow_keys = {
    "SELECT workflow_key FROM workflow_history WHERE workflow_key IS NOT NULL",
    "SELECT workflow_key FROM workflow_history WHERE id > ?1 AND workflow_key IS NOT NULL",
    "SELECT max(id) FROM workflow_history",
    "SELECT max(workflow_key) FROM workflow_history",
    "SELECT count(*) FROM workflow_history WHERE workflow_key >= ?1",
};

const KeyTable k_event_keys = {
    "SELECT identity_key FROM extraction_events WHERE identity_key IS NOT NULL",
    "SELECT identity_key FROM extraction_events WHERE id > ?1 AND identity_key IS NOT NULL",
    "SELECT max(id) FROM extraction_events",
    "SELECT max(identity_key) FROM extraction_events",
    "SELECT count(*) FROM extraction_events WHERE identity_key >= ?1",
};

const KeyTable k_outcome_keys = {
    "SELECT identity_key FROM outcomes WHERE identity_key IS NOT NULL",
    "SELECT identity_key FROM outcomes WHERE id > ?1 AND identity_key IS NOT NULL",
    "SELECT max(id) FROM outcomes",
    "SELECT max(identity_key) FROM outcomes",
    "SELECT count(*) FROM outcomes WHERE identity_key >= ?1",
};

namespace {

// A one-value query's answer, 0 for NULL; the statement is left ready to run again.
std::int64_t int_or_zero(SQLite::Statement& q) {
  const std::int64_t value =
      q.executeStep() && !q.getColumn(0).isNull() ? q.getColumn(0).getInt64() : 0;
  q.reset();
  return value;
}

}  // namespace

KeySpace::KeySpace(SQLite::Database& db, const KeyTable& table)
    : m_db(db), m_keys_after(db, table.keys_after), m_last_id(db, table.last_id), m_table(table) {
  // One read transaction, so that the directory and the id it covers agree.
  m_db.exec("BEGIN");
  try {
    m_seen_id = int_or_zero(m_last_id);
    load(static_cast<std::size_t>(m_seen_id));  // ids >= rows
    // Carry on in the newest generation where it was left.
    SQLite::Statement newest_key(m_db, m_table.newest_key);
    if (const std::int64_t newest = int_or_zero(newest_key); newest > 0) {
      m_generation = key_generation(newest);
      SQLite::Statement count(m_db, m_table.in_generation);
      count.bind(1, pack_key(m_generation, 0));
      m_in_generation = static_cast<std::uint32_t>(int_or_zero(count));
    }
    m_db.exec("COMMIT");
  } catch (...) {
    m_db.exec("ROLLBACK");
    throw;
  }
  m_pending_id = m_seen_id;
}

void KeySpace::load(std::size_t expected) {
  SQLite::Statement all(m_db, m_table.all_keys);
  for (;;) {
    KeyDirectory directory(expected);
    while (!directory.full() && all.executeStep()) {
      const std::int64_t packed = all.getColumn(0).getInt64();
      directory.add(packed_hash(packed), key_generation(packed));
    }
    if (!directory.full()) {
      m_directory = std::move(directory);
      return;
    }
    all.reset();  // more keys than expected: start over with room for twice as many
    expected = directory.size() * 2;
  }
}

void KeySpace::track(std::int64_t packed) {
  if (m_directory.full()) load(m_directory.size() * 2);  // sees this transaction's rows too
  m_directory.add(packed_hash(packed), key_generation(packed));
}

void KeySpace::catch_up() {
  m_keys_after.bind(1, m_seen_id);
  while (m_keys_after.executeStep()) {
    const std::int64_t packed = m_keys_after.getColumn(0).getInt64();
    track(packed);
    // Another writer moved on to a newer generation: follow it.
    if (key_generation(packed) > m_generation) {
      m_generation = key_generation(packed);
      m_in_generation = 0;
    }
  }
  m_keys_after.reset();
}

void KeySpace::stored(std::uint64_t hash) {
  track(key(hash));
  if (++m_in_generation < k_generation_size) return;
  if (m_generation == k_max_key_generation)
    throw std::length_error("the key generations of a raw-row table are used up (" +
                            std::to_string(k_max_key_generation) + " of " +
                            std::to_string(k_generation_size) + " rows)");
  ++m_generation;
  m_in_generation = 0;
}

void KeySpace::before_commit() { m_pending_id = int_or_zero(m_last_id); }

}  // namespace patternd::store
