#pragma once
// The worker's Prometheus metrics (SPEC section 9), in one registry, updated
// per batch (never per message) by the consumer and store threads.
//
// Unknown values are absent, never -1: a partition's lag series exists only
// while this worker owns the partition and knows its high watermark.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/rejection.hpp"
#include "core/types.hpp"
#include "pipeline/batch.hpp"
#include "pipeline/outcome.hpp"

namespace patternd::metrics {

class Metrics {
 public:
  // `db_error_kinds`: every label value db_error() may be given, so that each
  // series exists (at 0) from the start and rate() and alerts work at once.
  Metrics(const config::Kafka& kafka, const std::string& version,
          const std::vector<std::string>& db_error_kinds);

  // The text exposition format, for GET /metrics.
  std::string scrape() const;

  // Consumer side.
  void consumed(core::TopicKind kind, std::uint64_t messages);
  void rebalanced(bool assigned);
  void set_queue_depth(std::int64_t messages);
  // A partition's lag; nullopt removes the series (unknown is absent).
  void set_lag(core::TopicKind kind, std::int32_t partition, std::optional<std::int64_t> messages,
               std::optional<double> seconds);
  void forget_partition(core::TopicKind kind, std::int32_t partition);
  void set_ready(bool ready);

  // Store side: one committed batch (`committed_at` in ms since the epoch).
  void written(const pipeline::Batch& batch, const pipeline::BatchOutcome& outcome,
               core::TimestampMs committed_at);
  void db_error(std::string_view kind);  // a short label: busy, full, io, ...
  void set_patterns(std::int64_t operation, std::int64_t failure);
  void set_db_size(std::int64_t bytes);

 private:
  struct LagSeries {
    prometheus::Gauge* messages = nullptr;
    prometheus::Gauge* seconds = nullptr;
  };

  const config::Kafka& m_kafka;
  std::shared_ptr<prometheus::Registry> m_registry;

  prometheus::Family<prometheus::Counter>& m_consumed;
  prometheus::Family<prometheus::Counter>& m_persisted;
  prometheus::Family<prometheus::Counter>& m_duplicate;
  prometheus::Family<prometheus::Counter>& m_dead_lettered;
  prometheus::Family<prometheus::Counter>& m_expired;
  prometheus::Family<prometheus::Counter>& m_new_occurrences;
  prometheus::Family<prometheus::Counter>& m_db_errors;
  prometheus::Family<prometheus::Counter>& m_rebalances;
  prometheus::Family<prometheus::Gauge>& m_patterns;
  prometheus::Family<prometheus::Gauge>& m_lag_messages;
  prometheus::Family<prometheus::Gauge>& m_lag_seconds;
  prometheus::Gauge& m_queue_depth;
  prometheus::Gauge& m_db_size;
  prometheus::Gauge& m_last_commit;
  prometheus::Gauge& m_ready;
  prometheus::Histogram& m_write_latency;
  prometheus::Histogram& m_batch_size;
  struct PerTopic {
    prometheus::Histogram* end_to_end = nullptr;
    prometheus::Counter *consumed = nullptr, *persisted = nullptr, *duplicate = nullptr,
                        *expired = nullptr;
    std::array<prometheus::Counter*, core::k_reject_class_names.size()> dead_lettered{};
  };
  core::PerKind<PerTopic> m_topics{};
  prometheus::Counter *m_new_operation = nullptr, *m_new_failure = nullptr;
  prometheus::Counter *m_assigns = nullptr, *m_revokes = nullptr;
  prometheus::Gauge *m_patterns_operation = nullptr, *m_patterns_failure = nullptr;

  std::mutex m_lag_mutex;
  std::map<std::pair<core::TopicKind, std::int32_t>, LagSeries> m_lag;
};

}  // namespace patternd::metrics
