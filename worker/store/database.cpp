#include "store/database.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "store/migrations.hpp"
#include "store/row_keys.hpp"

namespace patternd::store {

using core::Error;

// Creates the file with owner-only permissions before SQLite opens it: the
// database holds prompts and agent output. SQLite gives -wal and -shm the
// same mode.
//
// Only ever a file that did not exist (O_EXCL). POSIX advisory locks belong
// to the process: closing any descriptor of a database file drops every lock
// the process holds on it, those of its live SQLite connections included.
// Another process closing its connection then takes itself for the last one,
// checkpoints and deletes the WAL, and this process's commits go on into a
// deleted file. An existing file is never opened here; a new one cannot have
// a connection of this process on it.
std::optional<Error> create_private_file(const std::string& path) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Error{path + ": cannot create directory " + parent.string() + ": " + ec.message()};
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return std::nullopt;
    return Error{path + ": cannot create the database file: " + std::strerror(errno)};
  }
  ::close(fd);
  return std::nullopt;
}

Database::Database(const std::string& path, int flags, int busy_timeout_ms)
    : m_path(path), m_db(path, flags), m_busy_timeout_ms(busy_timeout_ms) {
  // SQLite's own busy timeout cannot be cut short; this one can (interrupt()).
  sqlite3_busy_handler(m_db.getHandle(), &Database::on_busy, this);
  register_key_functions(m_db.getHandle());  // migration 3 computes keys with them
}

int Database::on_busy(void* self, int attempts) {
  auto& db = *static_cast<Database*>(self);
  // SQLite's schedule: short sleeps first, then 100 ms at a time.
  static constexpr int k_delays_ms[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
  static constexpr int k_steps = sizeof k_delays_ms / sizeof k_delays_ms[0];
  int waited = 0;
  for (int i = 0; i < attempts && i < k_steps; ++i) waited += k_delays_ms[i];
  if (attempts >= k_steps) waited += (attempts - k_steps) * 100;
  const int delay = k_delays_ms[attempts < k_steps ? attempts : k_steps - 1];
  if (db.m_interrupted.load() || waited + delay > db.m_busy_timeout_ms) return 0;  // SQLITE_BUSY
  std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  return db.m_interrupted.load() ? 0 : 1;
}

void Database::interrupt() {
  m_interrupted = true;
  sqlite3_interrupt(m_db.getHandle());
}

void Database::resume_waits() { m_interrupted = false; }

core::Result<std::unique_ptr<Database>, OpenError> Database::open(const config::Storage& storage) {
  if (auto e = create_private_file(storage.path)) return OpenError{e->message};
  std::unique_ptr<Database> db;
  try {
    db.reset(new Database(storage.path, SQLite::OPEN_READWRITE,
                          static_cast<int>(storage.busy_timeout_ms)));
    // Version 0 with tables is another application's file (migration 1
    // creates patternd's first tables and its version in one transaction):
    // refused before any pragma below changes it.
    if (auto foreign = db->foreign_table()) return OpenError{db->foreign_message(*foreign), true};
    db->m_db.exec("PRAGMA journal_mode = WAL");
    // With WAL, NORMAL loses no committed transaction on a process crash,
    // only (possibly) the last ones on power loss; it never corrupts.
    db->m_db.exec("PRAGMA synchronous = NORMAL");
    db->m_db.exec("PRAGMA cache_size = -49152");  // 48 MiB: fewer page re-reads and writes
    db->m_db.exec("PRAGMA temp_store = MEMORY");
    sqlite3_wal_autocheckpoint(db->m_db.getHandle(), k_autocheckpoint_frames);
    // After a busy spell the WAL file is cut back to 64 MiB when it restarts.
    db->m_db.exec("PRAGMA journal_size_limit = 67108864");
  } catch (const SQLite::Exception& e) {
    return OpenError{storage.path + ": cannot open the database: " + e.what()};
  }
  if (auto status = db->migrate(); !status) return status.error();
  return db;
}

core::Result<std::unique_ptr<Database>> Database::open_read_only(const config::Storage& storage) {
  if (!std::filesystem::exists(storage.path))
    return Error{storage.path + ": no database here yet (run `patternd migrate` or ingest first)"};
  std::unique_ptr<Database> db;
  try {
    db.reset(new Database(storage.path, SQLite::OPEN_READONLY,
                          static_cast<int>(storage.busy_timeout_ms)));
  } catch (const SQLite::Exception& e) {
    return Error{storage.path + ": cannot open the database: " + e.what()};
  }
  try {
    const int version = db->schema_version();
    if (version > latest_schema_version()) return Error{db->newer_schema_message(version)};
    if (auto foreign = db->foreign_table()) return Error{db->foreign_message(*foreign)};
    if (version != latest_schema_version())
      return Error{storage.path + ": schema version " + std::to_string(version) + ", expected " +
                   std::to_string(latest_schema_version()) + " (run `patternd migrate`)"};
  } catch (const SQLite::Exception& e) {
    return Error{storage.path + ": cannot read the database: " + e.what()};
  }
  return db;
}

std::string Database::newer_schema_message(int version) const {
  return m_path + ": schema version " + std::to_string(version) +
         " is newer than this patternd knows (" + std::to_string(latest_schema_version()) +
         "): upgrade patternd";
}

std::optional<std::string> Database::foreign_table() {
  // One statement, so one snapshot: a worker migrating a new database at the
  // same moment is seen either before (no tables) or after (a version).
  SQLite::Statement q(m_db,
                      "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') "
                      "AND name NOT LIKE 'sqlite_%' "
                      "AND (SELECT user_version FROM pragma_user_version) = 0 "
                      "ORDER BY name LIMIT 1");
  if (!q.executeStep()) return std::nullopt;
  return q.getColumn(0).getString();
}

std::string Database::foreign_message(const std::string& table) const {
  return m_path + ": not a patternd database (it holds other tables, such as \"" + table +
         "\", and no patternd schema version); patternd adds nothing to it: check storage.path";
}

int Database::schema_version() { return m_db.execAndGet("PRAGMA user_version").getInt(); }

int Database::latest_schema_version() {
  return k_migrations.empty() ? 0 : k_migrations.back().version;
}

core::Status<OpenError> Database::migrate() {
  try {
    m_migration.from_version = schema_version();
    m_migration.to_version = m_migration.from_version;
    if (m_migration.from_version > latest_schema_version())
      return OpenError{newer_schema_message(m_migration.from_version)};
    // A migration that rebuilds an index sorts every row of its table:
    // spill the sort to a temporary file rather than hold it in memory
    // (1.2 GB for 10 million rows), then back to memory for the worker.
    struct TempStoreFile {
      SQLite::Database& db;
      explicit TempStoreFile(SQLite::Database& d) : db(d) { db.exec("PRAGMA temp_store = FILE"); }
      ~TempStoreFile() {
        try {
          db.exec("PRAGMA temp_store = MEMORY");
        } catch (const SQLite::Exception&) {  // only slower sorts
        }
      }
    } temp_store_file(m_db);
    for (const Migration& migration : k_migrations) {
      if (migration.version <= m_migration.to_version) continue;
      // IMMEDIATE: two workers starting together must not both apply it.
      SQLite::Transaction txn(m_db, SQLite::TransactionBehavior::IMMEDIATE);
      if (schema_version() >= migration.version) continue;  // the other one did
      m_db.exec(migration.sql);
      // A migration that edits sqlite_schema in place (002) does not change
      // the schema cookie itself; without a new cookie, other connections
      // (other workers) would keep the schema they parsed before.
      const int cookie = m_db.execAndGet("PRAGMA schema_version").getInt();
      m_db.exec("PRAGMA schema_version = " + std::to_string(cookie + 1));
      m_db.exec("PRAGMA user_version = " + std::to_string(migration.version));
      txn.commit();
      m_migration.to_version = migration.version;
    }
  } catch (const SQLite::Exception& e) {
    return OpenError{m_path + ": schema migration failed: " + e.what()};
  }
  return {};
}

std::optional<std::string> Database::meta(const std::string& key) {
  SQLite::Statement query(m_db, "SELECT value FROM patternd_meta WHERE key = ?");
  query.bind(1, key);
  if (!query.executeStep()) return std::nullopt;
  return query.getColumn(0).getString();
}

void Database::set_meta(const std::string& key, const std::string& value) {
  SQLite::Statement upsert(m_db,
                           "INSERT INTO patternd_meta (key, value) VALUES (?, ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  upsert.bind(1, key);
  upsert.bind(2, value);
  upsert.exec();
}

}  // namespace patternd::store
