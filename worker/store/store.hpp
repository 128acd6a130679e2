#pragma once
// The store: everything above store/ asks the database through this
// interface — the runner writes batches with their offsets, the commands
// report, prune, back up and rebuild, the read side queries. SqliteStore
// implements it (store/sqlite_store.hpp), PgStore too (store/pg_store.hpp). No
// database type appears here.
//
// A Store is one connection: one thread at a time. The worker gives its
// writer thread one and opens others for other threads (retention, reads).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "core/result.hpp"
#include "detect/rules.hpp"
#include "pipeline/batch.hpp"
#include "pipeline/outcome.hpp"
#include "store/errors.hpp"
#include "store/records.hpp"

namespace patternd::store {

class Store {
 public:
  virtual ~Store() = default;

  // Where the data lives, for logs and messages ("data/patternd.db").
  virtual const std::string& location() const = 0;
  virtual int schema_version() = 0;
  virtual MigrationReport migration() const = 0;

  // --- the write side --------------------------------------------------------

  // One batch in one transaction: raw rows (new ones only), the aggregates
  // they grow, dead letters, the next offsets. All of it or none of it.
  // Throws StoreError: transient (nothing was written; retry the same batch)
  // or fatal.
  virtual pipeline::BatchOutcome write(const pipeline::Batch& batch) = 0;

  // Before each retry of a transient error: told the error and the delay
  // chosen, waits (or not) and returns whether to try again.
  using RetryWait = std::function<bool(const StoreError&, std::chrono::milliseconds delay)>;
  // write(), retrying transient errors with capped exponential backoff and
  // jitter (100 ms doubling to 5 s, each delay drawn from its upper half).
  // When `wait` returns false the last error is thrown.
  pipeline::BatchOutcome write_retrying(const pipeline::Batch& batch, const RetryWait& wait);

  // From another thread: cut a write short (it fails soon, transiently), and
  // every wait for a lock too, until resume().
  virtual void interrupt() = 0;
  virtual void resume() = 0;

  // The next offset to consume of a partition, as last committed with a batch.
  virtual std::optional<std::int64_t> stored_offset(const std::string& topic,
                                                    std::int32_t partition) = 0;

  // --- bookkeeping -------------------------------------------------------------

  virtual std::optional<std::string> meta(const std::string& key) = 0;
  virtual void set_meta(const std::string& key, const std::string& value) = 0;
  virtual PatternCounts count_patterns() = 0;
  virtual std::int64_t size_bytes() const = 0;

  // --- maintenance and reads ----------------------------------------------------

  virtual Report report(std::size_t top) = 0;
  virtual std::vector<DeadLetter> find_dead_letters(const DeadLetterFilter& filter) = 0;
  virtual std::int64_t count_dead_letters(const DeadLetterFilter& filter) = 0;
  virtual PruneReport prune(core::TimestampMs horizon, const PruneOptions& options) = 0;
  // Never replaces a file at `out`, even one that appears while it copies.
  virtual core::Result<BackupReport, BackupError> backup(const std::string& out) = 0;
  virtual RedetectSummary redetect(const detect::Rules& rules,
                                   const std::function<void(std::uint64_t)>& progress) = 0;
};

enum class Access {
  write,      // creates and migrates the database if needed
  read_only,  // an existing database at the current schema; never writes
};

// Opens the store `config` names: the SQLite file at storage.path, or the
// PostgreSQL database at storage.uri (storage.type). Errors name the
// location (a URI with its password masked) and what to do.
core::Result<std::unique_ptr<Store>, OpenError> open_store(const config::Config& config,
                                                           Access access);

// Where `config` stores, for messages and logs: storage.path, or
// storage.uri with its password masked.
std::string location_of(const config::Config& config);

// `patternd migrate`, on either backend: brings the schema to the latest
// version and says where (the URI with its password masked) and from what.
struct Migrated {
  std::string location;
  MigrationReport report;
};
core::Result<Migrated, OpenError> migrate(const config::Config& config);

}  // namespace patternd::store
