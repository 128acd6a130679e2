#pragma once
// The Store on a PostgreSQL database (SPEC section 16): one connection, with
// a BatchWriter (store/pg_batch_writer.hpp) once it writes batches. Errors
// of the server become StoreErrors by classify(): a deadlock, a
// serialization failure, a lock or statement timeout, a lost connection or
// a server restarting are transient (the batch is retried with backoff, on a
// new connection if the old one broke); anything else is fatal.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "store/pg_batch_writer.hpp"
#include "store/pg_connection.hpp"
#include "store/store.hpp"

namespace patternd::store::pg {

// What to do about an error of the server (or of a connection gone).
StoreError classify(const PgError& e);
// Whether the connection that gave `e` is to be replaced (lost, or left in
// a state a new one does not have).
bool drops_connection(const PgError& e);

class PgStore final : public Store {
 public:
  PgStore(std::unique_ptr<Connection> connection, const config::Config& config,
          MigrationReport migration);
  ~PgStore() override;

  const std::string& location() const override { return m_location; }
  int schema_version() override;
  MigrationReport migration() const override { return m_migration; }

  pipeline::BatchOutcome write(const pipeline::Batch& batch) override;
  void interrupt() override;
  void resume() override;
  std::optional<std::int64_t> stored_offset(const std::string& topic,
                                            std::int32_t partition) override;

  std::optional<std::string> meta(const std::string& key) override;
  void set_meta(const std::string& key, const std::string& value) override;
  PatternCounts count_patterns() override;
  // The database's size, as of the last write (at most a minute old): asked
  // from other threads, it never touches the connection.
  std::int64_t size_bytes() const override { return m_size_bytes.load(); }

  Report report(std::size_t top) override;
  std::vector<DeadLetter> find_dead_letters(const DeadLetterFilter& filter) override;
  std::int64_t count_dead_letters(const DeadLetterFilter& filter) override;
  PruneReport prune(core::TimestampMs horizon, const PruneOptions& options) override;
  core::Result<BackupReport, BackupError> backup(const std::string& out) override;
  RedetectSummary redetect(const detect::Rules& rules,
                           const std::function<void(std::uint64_t)>& progress) override;

 private:
  // The connection, connected again first if it broke. Throws a transient
  // StoreError while the server cannot be reached.
  Connection& connection();
  // Runs `work` on the connection; its PgErrors become StoreErrors.
  template <class Work>
  auto guarded(Work work) -> decltype(work(std::declval<Connection&>())) {
    try {
      return work(connection());
    } catch (const PgError& e) {
      if (drops_connection(e)) set_connection(nullptr);
      throw classify(e);
    }
  }
  void set_connection(std::unique_ptr<Connection> connection);
  void refresh_size();

  config::Config m_config;
  std::string m_location;  // the URI, password masked
  MigrationReport m_migration;
  std::unique_ptr<Connection> m_connection;
  std::unique_ptr<BatchWriter> m_writer;
  std::mutex m_cancel_mutex;  // m_cancel is replaced on reconnect, used by interrupt()
  PGcancel* m_cancel = nullptr;
  std::atomic<bool> m_interrupted{false};
  std::atomic<std::int64_t> m_size_bytes{0};
  std::chrono::steady_clock::time_point m_size_checked{};
};

// Opens the store at storage.uri: migrated first (under the advisory lock)
// for writing; for reading, only a database at the latest schema.
core::Result<std::unique_ptr<Store>, OpenError> open_store(const config::Config& config,
                                                           Access access);

}  // namespace patternd::store::pg
