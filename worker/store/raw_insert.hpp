#pragma once
// Storing a raw row exactly once under its packed key (row_keys.hpp,
// key_space.hpp), and the binding helpers the writers of every stream kind
// share. Used inside the batch transaction by one writer thread.

#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/sha256.hpp"
#include "pipeline/batch.hpp"
#include "pipeline/outcome.hpp"
#include "store/errors.hpp"
#include "store/key_space.hpp"

namespace patternd::store {

using pipeline::Rejection;
using pipeline::TopicOutcome;

// Runs a bound insert: 1 if it added the row, 0 if a unique key already held
// it, nullopt if a constraint rejected the record (recorded in `rejected`;
// the statement rolled back, the transaction did not).
inline std::optional<int> run_insert(SQLite::Statement& statement, std::uint32_t message,
                                     std::vector<Rejection>& rejected) {
  try {
    const int changes = statement.exec();
    statement.reset();
    return changes > 0 ? 1 : 0;
  } catch (const SQLite::Exception& e) {
    statement.tryReset();  // reset() would throw the same error again
    if (classify_sqlite_error(e.getExtendedErrorCode()) != ErrorKind::record) throw;
    rejected.push_back({message, core::RejectClass::db_constraint,
                        std::string("rejected by the database: ") + e.what()});
    return std::nullopt;
  }
}

// Whether a one-value query (SELECT EXISTS ...) answers 1.
inline bool ask(SQLite::Statement& query) {
  const bool yes = query.executeStep() && query.getColumn(0).getInt() == 1;
  query.reset();
  return yes;
}

// The statements that store one kind of raw row exactly once under its
// packed key (see Statements), and where its keys are (KeySpace).
struct RawInserts {
  SQLite::Statement& insert;
  SQLite::Statement& holder;
  SQLite::Statement* stored_unkeyed;  // null while no row is stored unkeyed
  KeySpace& keys;
};

// Whether the row stored under `key` holds the value bind_value(q, 2) binds:
// nullopt when no row has that key.
template <class BindValue>
inline std::optional<bool> holder_is(SQLite::Statement& holder, std::int64_t key,
                                     const BindValue& bind_value) {
  holder.bind(1, key);
  bind_value(holder, 2);
  std::optional<bool> same;
  if (holder.executeStep()) same = holder.getColumn(0).getInt() == 1;
  holder.reset();
  return same;
}

// Stores a raw row exactly once; true when the row is new. `hash` is the
// 44-bit hash of its unique value; `bind(statement, key)` binds the row's
// values and its key (NULL for nullopt); `bind_value(statement, index)`
// binds the full unique value.
//
// A copy is looked for where it can be: among the rows stored unkeyed after
// a collision, then in each older generation the directory names. Then the
// row is inserted under its key in the current generation; when that adds
// nothing, the key is held either by this very row (a duplicate) or by
// another row sharing 44 bits of hash (a collision): only then is the row
// stored, unkeyed, where the partial unique index on the full value makes a
// second copy a duplicate again.
template <class Bind, class BindValue>
inline bool insert_raw(RawInserts& q, std::uint64_t hash, const Bind& bind,
                       const BindValue& bind_value, std::uint32_t message, TopicOutcome& topic,
                       std::vector<Rejection>& rejected) {
  bool stored = false;
  if (q.stored_unkeyed) {
    bind_value(*q.stored_unkeyed, 1);
    stored = q.stored_unkeyed->executeStep();
    q.stored_unkeyed->reset();
  }
  q.keys.elsewhere(hash, [&](std::int64_t key) {
    stored = stored || holder_is(q.holder, key, bind_value).value_or(false);
  });
  if (stored) {
    ++topic.duplicates;
    return false;
  }
  const std::int64_t key = q.keys.key(hash);
  bind(q.insert, std::optional<std::int64_t>(key));
  const auto added = run_insert(q.insert, message, rejected);
  if (!added) return false;
  if (*added == 0) {
    if (holder_is(q.holder, key, bind_value).value_or(true)) {
      ++topic.duplicates;
      return false;
    }
    bind(q.insert, std::nullopt);
    const auto unkeyed = run_insert(q.insert, message, rejected);
    if (!unkeyed) return false;
    ++(*unkeyed > 0 ? topic.persisted : topic.duplicates);
    return *unkeyed > 0;
  }
  q.keys.stored(hash);
  ++topic.persisted;
  return true;
}

inline void bind_optional(SQLite::Statement& s, int index,
                          const std::optional<std::int64_t>& value) {
  if (value) {
    s.bind(index, *value);
  } else {
    s.bind(index);
  }
}

inline void bind_optional(SQLite::Statement& s, int index, const std::optional<bool>& value) {
  if (value) {
    s.bind(index, *value ? 1 : 0);
  } else {
    s.bind(index);
  }
}

inline void bind_text_or_null(SQLite::Statement& s, int index, const std::string& text) {
  if (text.empty()) {
    s.bind(index);
  } else {
    s.bindNoCopy(index, text);
  }
}

inline void bind_digest(SQLite::Statement& s, int index, const core::Digest& digest) {
  s.bindNoCopy(index, digest.data(), static_cast<int>(digest.size()));
}

}  // namespace patternd::store
