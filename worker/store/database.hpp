#pragma once
// Opening the database: the file (created with mode 0600), the pragmas that
// make batch writes fast and safe (WAL, synchronous=NORMAL, a large page
// cache), and the schema migrations. One Database per thread.

#include <SQLiteCpp/Database.h>

#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "core/result.hpp"

namespace patternd::store {

struct MigrationReport {
  int from_version = 0;
  int to_version = 0;
};

class Database {
 public:
  // Opens (creating the file and its directory if needed) and migrates.
  static core::Result<std::unique_ptr<Database>> open(const config::Storage& storage);
  // Opens an existing database read-only, without migrating (report, list).
  static core::Result<std::unique_ptr<Database>> open_read_only(const config::Storage& storage);

  SQLite::Database& sql() { return m_db; }
  const std::string& path() const { return m_path; }
  const MigrationReport& migration() const { return m_migration; }

  int schema_version();
  static int latest_schema_version();

  std::optional<std::string> meta(const std::string& key);
  void set_meta(const std::string& key, const std::string& value);

 private:
  Database(const std::string& path, int flags, int busy_timeout_ms);
  core::Status<> migrate();

  std::string m_path;
  SQLite::Database m_db;
  MigrationReport m_migration;
};

inline constexpr const char* k_meta_rules_version = "rules_version";

}  // namespace patternd::store
