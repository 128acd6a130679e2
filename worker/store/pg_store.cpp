#include "store/pg_store.hpp"

#include "config/storage_uri.hpp"
#include "core/log.hpp"
#include "store/pg_report.hpp"
#include "store/pg_schema.hpp"

namespace patternd::store::pg {
namespace {

constexpr const char* k_stored_offset =
    "SELECT next_offset FROM kafka_offsets WHERE topic = $1 AND partition = $2";
constexpr const char* k_read_meta = "SELECT value FROM patternd_meta WHERE key = $1";
constexpr const char* k_write_meta =
    "INSERT INTO patternd_meta (key, value) VALUES ($1, $2) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value";
constexpr const char* k_database_size = "SELECT pg_database_size(current_database())";

// How often the size gauge asks the server (pg_database_size walks the
// database's files).
constexpr auto k_size_interval = std::chrono::seconds(60);

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// The session's settings: a lock another session holds longer than
// storage.busy_timeout_ms fails the batch (transiently: it is retried, and
// the worker reports not-ready meanwhile) instead of waiting unseen; and
// bytea as hex, whatever the server's default, since the writer matches
// the identities RETURNING gives back against its own (bytea_text).
void configure(Connection& c, const config::Storage& storage) {
  c.query("SELECT set_config('lock_timeout', $1, false)",
          {std::to_string(storage.busy_timeout_ms)});
  c.exec("SET bytea_output = 'hex'");
}

}  // namespace

bool drops_connection(const PgError& e) {
  const std::string& state = e.sqlstate();
  return state.empty() || starts_with(state, "08") || starts_with(state, "57P") ||
         state == "58030" || state == "25P02";
}

StoreError classify(const PgError& e) {
  const std::string& state = e.sqlstate();
  const std::string what = "PostgreSQL: " + std::string(e.what());
  // 40001 serialization failure, 40P01 deadlock, 55P03 lock not available
  // (lock_timeout), 57014 canceled (statement_timeout, or interrupt()).
  if (state == "40001" || state == "40P01" || state == "55P03" || state == "57014")
    return StoreError(ErrorKind::transient, "busy", what);
  // No SQLSTATE: the connection is gone (or libpq failed on its side). Class
  // 08: connection exception; 57P01-57P03: the server shutting down,
  // crashed, or starting; 58030: an I/O error of the server's; 25P02: a
  // transaction left aborted (its ROLLBACK failed). The connection is
  // dropped for these (drops_connection) and the batch retried on a new one.
  if (drops_connection(e)) return StoreError(ErrorKind::transient, "io", what);
  if (state == "53100") return StoreError(ErrorKind::transient, "disk_full", what);
  if (starts_with(state, "53")) return StoreError(ErrorKind::transient, "busy", what);
  if (state == "25006") return StoreError(ErrorKind::transient, "readonly", what);
  if (starts_with(state, "22") || starts_with(state, "23"))
    return StoreError(ErrorKind::fatal, "constraint", what);
  return StoreError(ErrorKind::fatal, "other", what);
}

PgStore::PgStore(std::unique_ptr<Connection> connection, const config::Config& config,
                 MigrationReport migration)
    : m_config(config), m_location(connection->location()), m_migration(migration) {
  set_connection(std::move(connection));
  refresh_size();
}

PgStore::~PgStore() {
  m_writer.reset();
  set_connection(nullptr);
}

// Configured before it is installed (a failure leaves none half set up);
// the lock interrupt() takes is held only for the swap, never across a
// round trip to the server.
void PgStore::set_connection(std::unique_ptr<Connection> connection) {
  PGcancel* cancel = nullptr;
  if (connection) {
    configure(*connection, m_config.storage);
    cancel = PQgetCancel(connection->handle());
  }
  m_writer.reset();
  std::unique_ptr<Connection> old;
  {
    std::lock_guard lock(m_cancel_mutex);
    if (m_cancel != nullptr) PQfreeCancel(m_cancel);
    m_cancel = cancel;
    old = std::exchange(m_connection, std::move(connection));
  }
}

Connection& PgStore::connection() {
  if (m_connection && !m_connection->broken()) return *m_connection;
  auto connected = Connection::connect(m_config.storage.uri);
  if (!connected)
    throw StoreError(ErrorKind::transient, "io",
                     "PostgreSQL: " + connected.error().message + " (retrying)");
  log::info("store", "connected to PostgreSQL again: " + m_location, {{"uri", m_location}});
  try {
    set_connection(std::move(connected).value());
  } catch (const PgError& e) {
    throw classify(e);
  }
  return *m_connection;
}

void PgStore::refresh_size() {
  const auto now = std::chrono::steady_clock::now();
  if (now - m_size_checked < k_size_interval) return;
  m_size_checked = now;
  try {
    const PgResult size = connection().query(k_database_size);
    m_size_bytes = std::stoll(Connection::value(size.get(), 0, 0).value_or("0"));
  } catch (const std::exception& e) {
    log::debug("store", std::string("database size not read: ") + e.what());
  }
}

int PgStore::schema_version() {
  return guarded([](Connection& c) { return pg::schema_version(c); });
}

pipeline::BatchOutcome PgStore::write(const pipeline::Batch& batch) {
  if (m_interrupted)
    throw StoreError(ErrorKind::transient, "busy", "PostgreSQL: the write was interrupted");
  auto outcome = guarded([&](Connection& c) {
    if (!m_writer) m_writer = std::make_unique<BatchWriter>(c, m_config.kafka, m_interrupted);
    return m_writer->write(batch);
  });
  refresh_size();
  return outcome;
}

// PQcancel may be called from any thread: the server cancels the statement
// running (57014, transient) and write() refuses more until resume().
void PgStore::interrupt() {
  m_interrupted = true;
  std::lock_guard lock(m_cancel_mutex);
  char error[256];
  if (m_cancel != nullptr) PQcancel(m_cancel, error, sizeof error);
}

void PgStore::resume() { m_interrupted = false; }

std::optional<std::int64_t> PgStore::stored_offset(const std::string& topic,
                                                   std::int32_t partition) {
  return guarded([&](Connection& c) -> std::optional<std::int64_t> {
    const PgResult row = c.query(k_stored_offset, {topic, std::to_string(partition)});
    if (PQntuples(row.get()) == 0) return std::nullopt;
    return std::stoll(Connection::value(row.get(), 0, 0).value_or("0"));
  });
}

std::optional<std::string> PgStore::meta(const std::string& key) {
  return guarded([&](Connection& c) -> std::optional<std::string> {
    const PgResult row = c.query(k_read_meta, {key});
    if (PQntuples(row.get()) == 0) return std::nullopt;
    return Connection::value(row.get(), 0, 0);
  });
}

void PgStore::set_meta(const std::string& key, const std::string& value) {
  guarded([&](Connection& c) { c.query(k_write_meta, {key, value}); });
}

PatternCounts PgStore::count_patterns() {
  return guarded([](Connection& c) { return pg::count_patterns(c); });
}

Report PgStore::report(std::size_t top) {
  return guarded([top](Connection& c) { return pg::report(c, top); });
}

std::vector<DeadLetter> PgStore::find_dead_letters(const DeadLetterFilter& filter) {
  return guarded([&](Connection& c) { return pg::find_dead_letters(c, filter); });
}

std::int64_t PgStore::count_dead_letters(const DeadLetterFilter& filter) {
  return guarded([&](Connection& c) { return pg::count_dead_letters(c, filter); });
}

core::Result<BackupReport, BackupError> PgStore::backup(const std::string&) {
  return BackupError{
      "backup copies a SQLite file; this store is PostgreSQL (" + m_location +
      "): back it up with the server's own tools, such as\n  pg_dump --format=custom "
      "--file=patternd.dump '<storage.uri>'\nand restore with pg_restore (docs/operations.md)"};
}

core::Result<std::unique_ptr<Store>, OpenError> open_store(const config::Config& config,
                                                           Access access) {
  auto connected = Connection::connect(config.storage.uri);
  if (!connected) return OpenError{connected.error().message};
  std::unique_ptr<Connection> connection = std::move(connected).value();
  MigrationReport migration;
  if (access == Access::write) {
    auto migrated = migrate(*connection);
    if (!migrated) return migrated.error();
    migration = migrated.value();
  } else {
    try {
      const int version = pg::schema_version(*connection);
      if (version != latest_schema_version())
        return OpenError{connection->location() + ": the schema is at version " +
                         std::to_string(version) + ", this patternd reads version " +
                         std::to_string(latest_schema_version()) +
                         ": run `patternd migrate` (or start the worker) first"};
    } catch (const PgError& e) {
      return OpenError{e.what()};
    }
    migration.from_version = migration.to_version = latest_schema_version();
  }
  try {
    return std::unique_ptr<Store>(new PgStore(std::move(connection), config, migration));
  } catch (const PgError& e) {
    return OpenError{e.what()};
  }
}

}  // namespace patternd::store::pg
