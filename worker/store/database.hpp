#pragma once
// Opening the database: the file (created with mode 0600), the pragmas that
// make batch writes fast and safe (WAL, synchronous=NORMAL, a large page
// cache), and the schema migrations. One Database per thread.

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "core/result.hpp"
#include "store/records.hpp"

namespace patternd::store {

class Database {
 public:
  // Opens (creating the file and its directory if needed) and migrates.
  static core::Result<std::unique_ptr<Database>, OpenError> open(const config::Storage& storage);
  // Opens an existing database read-only, without migrating (report, list).
  static core::Result<std::unique_ptr<Database>> open_read_only(const config::Storage& storage);

  SQLite::Database& sql() { return m_db; }
  const std::string& path() const { return m_path; }
  const MigrationReport& migration() const { return m_migration; }

  int schema_version();
  static int latest_schema_version();

  std::optional<std::string> meta(const std::string& key);
  void set_meta(const std::string& key, const std::string& value);

  // From any thread: the statement running on this connection fails soon
  // (SQLITE_INTERRUPT, or SQLITE_BUSY if it is waiting for another writer's
  // lock), and so does every wait for the lock until resume_waits(). For a
  // shutdown that must not sit out the whole busy timeout.
  void interrupt();
  void resume_waits();

  // Run by a writer before each write transaction, on its thread and holding
  // no lock: where a Checkpointer makes the writer wait for the WAL to start
  // over, between transactions rather than inside one.
  void set_before_write(std::function<void()> gate) { m_before_write = std::move(gate); }
  void before_write() {
    if (m_before_write) m_before_write();
  }

 private:
  Database(const std::string& path, int flags, int busy_timeout_ms);
  core::Status<OpenError> migrate();
  std::string newer_schema_message(int version) const;
  // The first table or view of a database that has no schema version (so
  // it is not patternd's), or nothing.
  std::optional<std::string> foreign_table();
  std::string foreign_message(const std::string& table) const;
  static int on_busy(void* self, int attempts);

  std::string m_path;
  SQLite::Database m_db;
  const int m_busy_timeout_ms;
  std::atomic<bool> m_interrupted{false};
  std::function<void()> m_before_write;
  MigrationReport m_migration;
};

// Creates `path` (and its directory) with mode 0600 if it does not exist;
// never opens an existing file (see database.cpp: that would drop the
// process's SQLite locks on it).
std::optional<core::Error> create_private_file(const std::string& path);

// Connections checkpoint the WAL once it holds this many pages (32 MiB at
// 4 KiB pages), fewer times than SQLite's default of 1000: a page rewritten
// by several batches is copied once. The worker's writer hands the job to a
// Checkpointer instead.
inline constexpr int k_autocheckpoint_frames = 8000;

}  // namespace patternd::store
