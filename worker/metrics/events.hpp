#pragma once
// The worker's events: one function per thing that happens, each writing its
// log line and moving its metrics and readiness together, so that they never
// disagree. The runner calls the pipeline::Observer part; the Kafka source
// the rest.
//
// Thread-safe: batch_written and write_retry come from the store's writer
// thread, everything else from the consuming thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "metrics/health.hpp"
#include "metrics/metrics.hpp"
#include "pipeline/observer.hpp"

namespace patternd::metrics {

class WorkerEvents final : public pipeline::Observer {
 public:
  WorkerEvents(Metrics& metrics, Health& health);

  // pipeline::Observer
  void batch_closed(const pipeline::Batch& batch) override;
  void batch_written(const pipeline::Batch& batch, const pipeline::BatchOutcome& outcome) override;
  bool write_retry(std::string_view kind, std::string_view error,
                   std::chrono::milliseconds delay) override;
  void paused() override;
  void resumed() override;
  void abandoned(std::size_t messages) override;

  // Kafka
  void assigned(const std::vector<core::TopicPartition>& partitions,
                const std::vector<std::optional<std::int64_t>>& next_offsets);
  void revoked(const std::vector<core::TopicPartition>& partitions);
  void kafka_error(bool fatal, const std::string& code, const std::string& text,
                   bool all_brokers_down);
  void brokers_up(bool up);
  void rewind_failed(const std::string& error);
  void dead_letter_not_produced(const std::string& topic, const std::string& error);
  void stored_offset_unreadable(const core::TopicPartition& partition, const std::string& topic,
                                const std::string& error);

  // Once a second: per-partition lag (nullopt: unknown) and age of the oldest
  // message not yet persisted, queue depth, database size, readiness.
  struct PartitionLag {
    core::TopicPartition partition;
    std::optional<std::int64_t> messages;
    std::optional<double> seconds;
  };
  void gauges(const std::vector<PartitionLag>& lags, std::int64_t db_size_bytes);
  void patterns(std::int64_t operation, std::int64_t failure) {
    m_metrics.set_patterns(operation, failure);
  }
  std::map<core::TopicPartition, std::optional<std::int64_t>> partitions() const {
    return m_health.partitions();
  }

  // One progress line per log.summary_interval_s, and the last one.
  void summary();
  void stopped();

 private:
  Metrics& m_metrics;
  Health& m_health;

  std::atomic<std::int64_t> m_in_process{0};  // consumed, not yet persisted
  std::uint64_t m_consumed = 0;               // consuming thread only
  std::atomic<std::uint64_t> m_persisted{0}, m_duplicates{0}, m_dead_lettered{0}, m_expired{0};

  std::mutex m_summary_mutex;  // the write times since the last summary line
  std::uint64_t m_writes = 0;
  double m_write_seconds = 0, m_write_max_seconds = 0;
  std::chrono::steady_clock::time_point m_last_summary;
  std::uint64_t m_persisted_at_summary = 0;
};

}  // namespace patternd::metrics
