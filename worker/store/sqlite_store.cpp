#include "store/sqlite_store.hpp"

#include <sys/stat.h>

#include <random>

#include "store/backup.hpp"
#include "store/dead_letters.hpp"
#include "store/offsets.hpp"
#include "store/prune.hpp"
#include "store/redetect.hpp"
#include "store/report.hpp"

namespace patternd::store {
namespace {

std::int64_t file_size(const std::string& path) {
  struct stat st {};
  // stat only: opening and closing the file would drop this process's locks.
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
}

}  // namespace

pipeline::BatchOutcome Store::write_retrying(const pipeline::Batch& batch, const RetryWait& wait) {
  thread_local std::minstd_rand jitter(std::random_device{}());
  auto ceiling = std::chrono::milliseconds(100);
  for (;;) {
    try {
      return write(batch);
    } catch (const StoreError& e) {
      if (e.kind() != ErrorKind::transient) throw;
      // Several workers retrying one database should not retry in step.
      const auto delay =
          ceiling / 2 + std::chrono::milliseconds(jitter() % (ceiling.count() / 2 + 1));
      if (!wait(e, delay)) throw;
      ceiling = std::min(ceiling * 2, std::chrono::milliseconds(5000));
    }
  }
}

core::Result<std::unique_ptr<Store>, OpenError> open_sqlite_store(const config::Config& config,
                                                                  Access access) {
  std::unique_ptr<Database> db;
  if (access == Access::write) {
    auto opened = Database::open(config.storage);
    if (!opened) return opened.error();
    db = std::move(opened).value();
  } else {
    auto opened = Database::open_read_only(config.storage);
    if (!opened) return OpenError{opened.error().message};
    db = std::move(opened).value();
  }
  return std::unique_ptr<Store>(new SqliteStore(std::move(db), config.kafka));
}

SqliteStore::SqliteStore(std::unique_ptr<Database> db, const config::Kafka& kafka)
    : m_db(std::move(db)), m_kafka(kafka) {}

SqliteStore::~SqliteStore() {
  m_checkpointer.reset();  // before the connection it watches
  m_writer.reset();
}

pipeline::BatchOutcome SqliteStore::write(const pipeline::Batch& batch) {
  if (!m_writer) {
    m_writer = std::make_unique<BatchWriter>(*m_db, m_kafka);
    m_checkpointer = std::make_unique<Checkpointer>(*m_db);
  }
  return m_writer->write(batch);
}

std::optional<std::int64_t> SqliteStore::stored_offset(const std::string& topic,
                                                       std::int32_t partition) {
  return store::stored_offset(*m_db, topic, partition);
}

PatternCounts SqliteStore::count_patterns() {
  return {m_db->sql().execAndGet("SELECT count(*) FROM operation_patterns").getInt64(),
          m_db->sql().execAndGet("SELECT count(*) FROM failure_patterns").getInt64()};
}

std::int64_t SqliteStore::size_bytes() const {
  return file_size(m_db->path()) + file_size(m_db->path() + "-wal");
}

Report SqliteStore::report(std::size_t top) { return load_report(*m_db, top); }

std::vector<DeadLetter> SqliteStore::find_dead_letters(const DeadLetterFilter& filter) {
  return store::find_dead_letters(*m_db, filter);
}

std::int64_t SqliteStore::count_dead_letters(const DeadLetterFilter& filter) {
  return store::count_dead_letters(*m_db, filter);
}

PruneReport SqliteStore::prune(core::TimestampMs horizon, const PruneOptions& options) {
  return store::prune(*m_db, horizon, options);
}

core::Result<BackupReport, BackupError> SqliteStore::backup(const std::string& out) {
  return store::backup(*m_db, out);
}

RedetectSummary SqliteStore::redetect(const detect::Rules& rules,
                                      const std::function<void(std::uint64_t)>& progress) {
  return store::redetect(*m_db, rules, progress);
}

}  // namespace patternd::store
