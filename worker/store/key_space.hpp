#pragma once
// The packed keys of one raw-row table (row_keys.hpp), as one writer
// connection sees them: which generation new rows go to, and a KeyDirectory
// of every keyed row, so that a duplicate stored in an older generation is
// found with one probe of the key index.
//
// A generation holds about k_generation_size keys: the keys of the newest
// one span a few dozen index pages, which stay in the cache and take a
// whole batch's inserts. With the hash first, as in schema version 3, each
// insert dirtied a page of its own anywhere in an index that outgrows the
// cache: 9 KB written and 2 page reads per message with 10 million rows
// stored, against under 1 KB here.
//
// The directory is loaded when the KeySpace is built (about 1 s per 5
// million rows), then kept up to date by this writer and, at the start of
// each transaction, with the rows other connections committed meanwhile
// (rows are found by id, which only grows). Exactness does not depend on it
// being minimal: an entry too many costs a probe.
//
// Used inside the writer's transactions, in this order: catch_up(), then
// per row elsewhere() / key() / stored(), then before_commit() and, once
// the commit succeeded, committed().

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>

#include "store/key_directory.hpp"
#include "store/row_keys.hpp"

namespace patternd::store {

// The queries one table's keys need; only the raw-row tables have them.
struct KeyTable {
  const char* all_keys;       // every non-NULL key
  const char* keys_after;     // ?1 row id: the non-NULL keys of rows after it
  const char* last_id;        // the highest row id (NULL when empty)
  const char* newest_key;     // the highest key (NULL when none)
  const char* in_generation;  // ?1 packed key: how many keys are at least that
};
extern const KeyTable k_workflow_keys;
extern const KeyTable k_event_keys;
extern const KeyTable k_outcome_keys;

class KeySpace {
 public:
  static constexpr std::uint32_t k_generation_size = 4096;

  KeySpace(SQLite::Database& db, const KeyTable& table);

  // The rows other connections stored since this one last looked.
  void catch_up();

  // The stored key a new row of this hash gets: in the current generation.
  std::int64_t key(std::uint64_t hash) const { return pack_key(m_generation, hash); }

  // Calls visit(packed key) for each older generation that may hold `hash`
  // (the current one is checked by the key index itself, on insert).
  template <class Visit>
  void elsewhere(std::uint64_t hash, Visit&& visit) const {
    m_directory.candidates(hash, [&](std::uint32_t generation) {
      if (generation != m_generation) visit(pack_key(generation, hash));
    });
  }

  // A row was inserted under key(hash).
  void stored(std::uint64_t hash);

  // Inside the transaction, just before COMMIT; then committed() after it.
  void before_commit();
  void committed() { m_seen_id = m_pending_id; }

  const KeyDirectory& directory() const { return m_directory; }
  std::uint32_t generation() const { return m_generation; }

 private:
  void load(std::size_t expected);
  void track(std::int64_t packed);

  SQLite::Database& m_db;
  SQLite::Statement m_keys_after;
  SQLite::Statement m_last_id;
  const KeyTable& m_table;
  KeyDirectory m_directory;
  std::uint32_t m_generation = 1;
  std::uint32_t m_in_generation = 0;  // keys this writer put in m_generation
  std::int64_t m_seen_id = 0;         // rows up to this id are in the directory
  std::int64_t m_pending_id = 0;
};

}  // namespace patternd::store
