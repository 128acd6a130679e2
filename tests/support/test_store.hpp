#pragma once
// Where a test's workers store, on either backend: a SQLite file, or a fresh
// database on the suite's throwaway PostgreSQL server. The same test then
// runs on both (TEST_P over backend_names()), asserting the same things:
// what is covered, the stored offsets, and the whole content as
// canonical_database() renders it (a PostgreSQL database is copied into a
// SQLite file first, so both backends are compared by one function, and a
// PostgreSQL run can be compared with a SQLite one).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/helpers.hpp"
#include "support/postgres.hpp"

namespace patternd::testing {

class TestStore {
 public:
  virtual ~TestStore() = default;
  virtual std::string backend() const = 0;  // "sqlite" or "postgresql"
  // YAML to append to write_config()'s: this store as storage.
  virtual std::string config_yaml() const = 0;
  // What patternd's messages name the database by: the SQLite file, or the
  // PostgreSQL URI (the tests' have no password to mask).
  virtual std::string location() const = 0;
  // The sum of the stored next offsets (0 before the first commit).
  virtual std::int64_t covered() const = 0;
  virtual std::map<std::pair<std::string, int>, std::int64_t> stored_offsets() const = 0;
  virtual std::int64_t count(const std::string& table) const = 0;
  // A SQLite file with the content: the database itself, or a fresh copy
  // of the PostgreSQL one (for dump_table and canonical_database).
  virtual std::string sqlite_copy() const = 0;
  // canonical_database() of the content.
  std::string canonical() const { return canonical_database(sqlite_copy()); }

  // Until the object returned is destroyed, another session holds a lock
  // that makes the workers' writes wait (SQLite: BEGIN IMMEDIATE;
  // PostgreSQL: LOCK TABLE kafka_offsets IN EXCLUSIVE MODE, which readers
  // pass), as an operator's long transaction would.
  struct Lock {
    virtual ~Lock() = default;
  };
  virtual std::unique_ptr<Lock> hold_write_lock() const = 0;

  // Polls covered() until it reaches `at_least`; false after `timeout_s`.
  bool wait_for_coverage(std::int64_t at_least, int timeout_s, int poll_ms = 100) const;
};

// A SQLite file at `path`: the patternd.db of a write_config() directory.
std::unique_ptr<TestStore> sqlite_store(const std::string& path);
// A new database `name` on `server`; `scratch` holds the copies canonical() makes.
std::unique_ptr<TestStore> postgres_store(PostgresServer& server, const std::string& name,
                                          const TempDir& scratch);

// The backends every parameterized suite runs on.
std::vector<std::string> backend_names();

// A store of `backend` (one of backend_names()) for a test working in `dir`:
// its patternd.db, or a new database on shared_postgres() named `prefix`
// and a number unique in this process.
std::unique_ptr<TestStore> store_for(const std::string& backend, const TempDir& dir,
                                     const std::string& prefix);

// Copies every row of the PostgreSQL database at `uri` into the SQLite
// database at `sqlite_path` (created at the latest schema by `patternd
// migrate`): the columns both have, bytea as BLOBs, ids kept.
void copy_postgres_to_sqlite(const std::string& uri, const std::string& sqlite_path);

// One throwaway server for a whole test binary's suites, started at first
// use (initdb takes a second or two) and stopped at exit.
PostgresServer& shared_postgres();

}  // namespace patternd::testing
