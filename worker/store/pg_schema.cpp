#include "store/pg_schema.hpp"

#include <algorithm>
#include <string>

#include "store/migrations.hpp"

namespace patternd::store::pg {
namespace {

// The advisory lock every patternd process takes to migrate ("patternd" in
// ASCII): one fixed key per database, held until the migration's
// transaction ends, so it can never be left behind by a crash.
constexpr const char* k_migration_lock_key = "8097868397418950244";  // 0x7061747465726e64

constexpr const char* k_take_lock = "SELECT pg_advisory_xact_lock($1::bigint)";
constexpr const char* k_meta_exists = "SELECT to_regclass('patternd_meta') IS NOT NULL";
constexpr const char* k_read_version =
    "SELECT value FROM patternd_meta WHERE key = 'schema_version'";
constexpr const char* k_write_version =
    "INSERT INTO patternd_meta (key, value) VALUES ('schema_version', $1) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value";
constexpr const char* k_record_migration =
    "INSERT INTO patternd_migrations (version, name) VALUES ($1::integer, $2)";
// Another application's table: a plain or partitioned table in the schema
// patternd would use, not one an extension brought (an operator may have
// created pg_stat_statements there first).
constexpr const char* k_first_table = R"sql(
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY c.relname LIMIT 1)sql";

// Rolls back unless committed, and never throws from its destructor (a
// broken connection rolls back by itself).
class Transaction {
 public:
  explicit Transaction(Connection& connection) : m_connection(connection) {
    // READ COMMITTED whatever the server's default: each statement after the
    // lock must see what the process that held it before committed.
    m_connection.exec("BEGIN ISOLATION LEVEL READ COMMITTED");
  }
  void commit() {
    m_connection.exec("COMMIT");
    m_open = false;
  }
  ~Transaction() {
    if (!m_open) return;
    try {
      m_connection.exec("ROLLBACK");
    } catch (const PgError&) {
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

 private:
  Connection& m_connection;
  bool m_open = true;
};

std::string newer_message(const Connection& connection, int version) {
  return connection.location() + ": schema version " + std::to_string(version) +
         " is newer than this patternd knows (" + std::to_string(latest_schema_version()) +
         "): upgrade patternd";
}

}  // namespace

int latest_schema_version() {
  return k_postgresql_migrations.empty() ? 0 : k_postgresql_migrations.back().version;
}

int schema_version(Connection& connection) {
  const PgResult exists = connection.query(k_meta_exists);
  if (Connection::value(exists.get(), 0, 0) != "t") return 0;
  const PgResult version = connection.query(k_read_version);
  if (PQntuples(version.get()) == 0) return 0;
  return std::stoi(Connection::value(version.get(), 0, 0).value_or("0"));
}

core::Result<MigrationReport, OpenError> migrate(Connection& connection) {
  MigrationReport report;
  try {
    // Without the lock: a database at the latest version (every start but
    // the first) takes no lock at all.
    report.from_version = report.to_version = schema_version(connection);
    if (report.from_version > latest_schema_version())
      return OpenError{newer_message(connection, report.from_version)};
    if (report.from_version == latest_schema_version()) return report;
    // Every pending version in one transaction (PostgreSQL's DDL is
    // transactional) under one lock: a process that waited for it finds the
    // work done, all of it, and reports the database up to date.
    Transaction txn(connection);
    connection.query(k_take_lock, {k_migration_lock_key});
    // Again under the lock: another process may have migrated meanwhile.
    const int version = schema_version(connection);
    report.from_version = report.to_version = version;
    if (version > latest_schema_version()) return OpenError{newer_message(connection, version)};
    if (version == 0) {
      // Under the lock, so tables half-way through another patternd's first
      // migration are not visible here: any table is someone else's.
      const PgResult table = connection.query(k_first_table);
      if (PQntuples(table.get()) > 0)
        return OpenError{connection.location() +
                             ": not a patternd database (it holds other tables, such as \"" +
                             Connection::value(table.get(), 0, 0).value_or("") +
                             "\", and no patternd schema version); patternd adds nothing to "
                             "it: check storage.uri",
                         true};
    }
    for (const Migration& migration : k_postgresql_migrations) {
      if (migration.version <= version) continue;
      connection.exec(migration.sql);
      connection.query(k_write_version, {std::to_string(migration.version)});
      connection.query(k_record_migration,
                       {std::to_string(migration.version), std::string(migration.name)});
      report.to_version = migration.version;
    }
    txn.commit();
  } catch (const PgError& e) {
    return OpenError{connection.location() + ": schema migration failed: " + e.reason()};
  }
  return report;
}

}  // namespace patternd::store::pg
