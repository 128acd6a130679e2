#pragma once
// The Store on one SQLite file: a connection (store/database.hpp) with, once
// it writes batches, a BatchWriter and a Checkpointer (the WAL copied back on
// its own thread, off the writer's commits).

#include <memory>
#include <string>

#include "store/batch_writer.hpp"
#include "store/checkpointer.hpp"
#include "store/database.hpp"
#include "store/reader.hpp"
#include "store/store.hpp"

namespace patternd::store {

class SqliteStore final : public Store {
 public:
  SqliteStore(std::unique_ptr<Database> db, const config::Kafka& kafka);
  ~SqliteStore() override;

  const std::string& location() const override { return m_db->path(); }
  int schema_version() override { return m_db->schema_version(); }
  MigrationReport migration() const override { return m_db->migration(); }

  pipeline::BatchOutcome write(const pipeline::Batch& batch) override;
  void interrupt() override { m_db->interrupt(); }
  void resume() override { m_db->resume_waits(); }
  std::optional<std::int64_t> stored_offset(const std::string& topic,
                                            std::int32_t partition) override;

  std::optional<std::string> meta(const std::string& key) override { return m_db->meta(key); }
  void set_meta(const std::string& key, const std::string& value) override {
    m_db->set_meta(key, value);
  }
  PatternCounts count_patterns() override;
  std::int64_t size_bytes() const override;

  Report report(std::size_t top) override;
  std::vector<DeadLetter> find_dead_letters(const DeadLetterFilter& filter) override;
  std::int64_t count_dead_letters(const DeadLetterFilter& filter) override;
  PruneReport prune(core::TimestampMs horizon, const PruneOptions& options) override;
  core::Result<BackupReport, BackupError> backup(const std::string& out) override;
  RedetectSummary redetect(const detect::Rules& rules,
                           const std::function<void(std::uint64_t)>& progress) override;

  Database& database() { return *m_db; }  // for store/ and its tests

 private:
  std::unique_ptr<Database> m_db;
  config::Kafka m_kafka;
  // Made at the first write: readers never need them.
  std::unique_ptr<BatchWriter> m_writer;
  std::unique_ptr<Checkpointer> m_checkpointer;
};

// The SQLite backend's entry points (store/backends.cpp chooses by
// storage.type): the store and a reader at storage.path.
core::Result<std::unique_ptr<Store>, OpenError> open_sqlite_store(const config::Config& config,
                                                                  Access access);
core::Result<std::unique_ptr<Reader>, OpenError> open_sqlite_reader(const config::Config& config);

}  // namespace patternd::store
