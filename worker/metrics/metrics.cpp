#include "metrics/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <sstream>

#include "store/errors.hpp"

namespace patternd::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// Chosen for the ranges that occur: a batch transaction takes ~1 ms (a few
// messages, caught up) to 10-50 ms (a full batch in a backlog), where the
// buckets are finest (SPEC 11's p99 target is 50 ms); seconds mean trouble.
const prometheus::Histogram::BucketBoundaries k_write_latency = {
    0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.25,
    0.5,   1,      2.5,   5,    10};
const prometheus::Histogram::BucketBoundaries k_batch_size = {
    1, 10, 50, 100, 250, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 50000};
// Caught up: tens of ms to a second. Draining a backlog: minutes to hours.
const prometheus::Histogram::BucketBoundaries k_end_to_end = {
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14400};

}  // namespace

Metrics::Metrics(const config::Kafka& kafka, const std::string& version)
    : m_kafka(kafka),
      m_registry(std::make_shared<prometheus::Registry>()),
      m_consumed(BuildCounter()
                     .Name("patternd_messages_consumed_total")
                     .Help("Messages consumed from Kafka")
                     .Register(*m_registry)),
      m_persisted(BuildCounter()
                      .Name("patternd_messages_persisted_total")
                      .Help("Messages persisted as new rows")
                      .Register(*m_registry)),
      m_duplicate(BuildCounter()
                      .Name("patternd_messages_duplicate_total")
                      .Help("Messages already present, ignored")
                      .Register(*m_registry)),
      m_dead_lettered(BuildCounter()
                          .Name("patternd_messages_dead_lettered_total")
                          .Help("Messages rejected into dead_letters, by reason class")
                          .Register(*m_registry)),
      m_expired(BuildCounter()
                    .Name("patternd_messages_expired_total")
                    .Help("Messages older than retention.days, not ingested")
                    .Register(*m_registry)),
      m_new_occurrences(BuildCounter()
                            .Name("patternd_pattern_occurrences_new_total")
                            .Help("New pattern occurrences recorded")
                            .Register(*m_registry)),
      m_db_errors(BuildCounter()
                      .Name("patternd_db_errors_total")
                      .Help("Failed batch writes, by SQLite error kind")
                      .Register(*m_registry)),
      m_rebalances(BuildCounter()
                       .Name("patternd_rebalances_total")
                       .Help("Partition assignments and revocations")
                       .Register(*m_registry)),
      m_patterns(BuildGauge()
                     .Name("patternd_patterns")
                     .Help("Distinct patterns stored")
                     .Register(*m_registry)),
      m_lag_messages(BuildGauge()
                         .Name("patternd_consumer_lag_messages")
                         .Help("High watermark minus the next offset to persist")
                         .Register(*m_registry)),
      m_lag_seconds(BuildGauge()
                        .Name("patternd_consumer_lag_seconds")
                        .Help("Age of the oldest message not yet persisted (0 when caught up)")
                        .Register(*m_registry)),
      m_queue_depth(BuildGauge()
                        .Name("patternd_queue_depth_messages")
                        .Help("Messages fetched, not yet persisted")
                        .Register(*m_registry)
                        .Add({})),
      m_db_size(BuildGauge()
                    .Name("patternd_db_size_bytes")
                    .Help("Database file plus its write-ahead log")
                    .Register(*m_registry)
                    .Add({})),
      m_last_commit(BuildGauge()
                        .Name("patternd_last_commit_timestamp_seconds")
                        .Help("Time of the last database commit")
                        .Register(*m_registry)
                        .Add({})),
      m_ready(BuildGauge()
                  .Name("patternd_ready")
                  .Help("1 when /readyz answers 200")
                  .Register(*m_registry)
                  .Add({})),
      m_write_latency(BuildHistogram()
                          .Name("patternd_db_write_latency_seconds")
                          .Help("One batch transaction, begin to commit")
                          .Register(*m_registry)
                          .Add({}, k_write_latency)),
      m_batch_size(BuildHistogram()
                       .Name("patternd_batch_size_messages")
                       .Help("Messages per batch transaction")
                       .Register(*m_registry)
                       .Add({}, k_batch_size)) {
  auto& end_to_end = BuildHistogram()
                         .Name("patternd_end_to_end_latency_seconds")
                         .Help("Message timestamp to durable commit")
                         .Register(*m_registry);
  for (auto kind : {core::TopicKind::workflows, core::TopicKind::extractions}) {
    const auto i = static_cast<std::size_t>(kind);
    const std::string topic = m_kafka.topic(kind);
    m_end_to_end[i] = &end_to_end.Add({{"topic", topic}}, k_end_to_end);
    m_consumed_by_kind[i] = &m_consumed.Add({{"topic", topic}});
    // Present from the start, so that rates are defined before the first batch.
    m_persisted.Add({{"topic", topic}});
    m_duplicate.Add({{"topic", topic}});
    m_expired.Add({{"topic", topic}});
  }
  for (const char* kind : {"operation", "failure"}) {
    m_new_occurrences.Add({{"kind", kind}});
    m_patterns.Add({{"kind", kind}});
  }
  for (const char* type : {"assign", "revoke"}) m_rebalances.Add({{"type", type}});
  BuildGauge()
      .Name("patternd_build_info")
      .Help("Build information")
      .Register(*m_registry)
      .Add({{"version", version}})
      .Set(1);
}

std::string Metrics::scrape() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, m_registry->Collect());
  return out.str();
}

void Metrics::consumed(core::TopicKind kind, std::uint64_t messages) {
  m_consumed_by_kind[static_cast<std::size_t>(kind)]->Increment(static_cast<double>(messages));
}

void Metrics::rebalanced(bool assigned) {
  m_rebalances.Add({{"type", assigned ? "assign" : "revoke"}}).Increment();
}

void Metrics::set_queue_depth(std::int64_t messages) {
  m_queue_depth.Set(static_cast<double>(messages));
}

void Metrics::set_lag(core::TopicKind kind, std::int32_t partition,
                      std::optional<std::int64_t> messages, std::optional<double> seconds) {
  std::lock_guard lock(m_lag_mutex);
  LagSeries& series = m_lag[{kind, partition}];
  const prometheus::Labels labels = {{"topic", m_kafka.topic(kind)},
                                     {"partition", std::to_string(partition)}};
  auto update = [&](prometheus::Family<prometheus::Gauge>& family, prometheus::Gauge*& gauge,
                    std::optional<double> value) {
    if (value) {
      if (gauge == nullptr) gauge = &family.Add(labels);
      gauge->Set(*value);
    } else if (gauge != nullptr) {
      family.Remove(gauge);
      gauge = nullptr;
    }
  };
  update(m_lag_messages, series.messages,
         messages ? std::optional<double>(static_cast<double>(*messages)) : std::nullopt);
  update(m_lag_seconds, series.seconds, seconds);
}

void Metrics::forget_partition(core::TopicKind kind, std::int32_t partition) {
  set_lag(kind, partition, std::nullopt, std::nullopt);
  std::lock_guard lock(m_lag_mutex);
  m_lag.erase({kind, partition});
}

void Metrics::set_ready(bool ready) { m_ready.Set(ready ? 1 : 0); }

void Metrics::written(const pipeline::Batch& batch, const pipeline::BatchOutcome& outcome,
                      core::TimestampMs committed_at) {
  for (auto kind : {core::TopicKind::workflows, core::TopicKind::extractions}) {
    const pipeline::TopicOutcome& t = outcome.topic(kind);
    const prometheus::Labels topic = {{"topic", m_kafka.topic(kind)}};
    if (t.persisted > 0) m_persisted.Add(topic).Increment(static_cast<double>(t.persisted));
    if (t.duplicates > 0) m_duplicate.Add(topic).Increment(static_cast<double>(t.duplicates));
    if (t.expired > 0) m_expired.Add(topic).Increment(static_cast<double>(t.expired));
  }
  for (const auto& [key, count] : outcome.dead_letter_classes)
    m_dead_lettered
        .Add({{"topic", m_kafka.topic(key.first)}, {"reason", std::string(to_string(key.second))}})
        .Increment(static_cast<double>(count));
  if (outcome.new_occurrences.operation_occurrences > 0)
    m_new_occurrences.Add({{"kind", "operation"}})
        .Increment(static_cast<double>(outcome.new_occurrences.operation_occurrences));
  if (outcome.new_occurrences.failure_occurrences > 0)
    m_new_occurrences.Add({{"kind", "failure"}})
        .Increment(static_cast<double>(outcome.new_occurrences.failure_occurrences));

  m_write_latency.Observe(outcome.transaction_seconds);
  m_batch_size.Observe(static_cast<double>(batch.messages.size()));

  // End-to-end latency of every message, one histogram update per topic.
  std::array<std::vector<double>, 2> buckets;
  std::array<double, 2> sums{0, 0};
  std::array<std::size_t, 2> counts{0, 0};
  for (auto& b : buckets) b.assign(k_end_to_end.size() + 1, 0);
  for (const auto& m : batch.messages) {
    const double seconds =
        static_cast<double>(std::max<core::TimestampMs>(0, committed_at - m.timestamp)) / 1000.0;
    const auto i = static_cast<std::size_t>(m.source.kind);
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(k_end_to_end.begin(), k_end_to_end.end(), seconds) - k_end_to_end.begin());
    buckets[i][bucket] += 1;
    sums[i] += seconds;
    ++counts[i];
  }
  for (std::size_t i = 0; i < 2; ++i)
    if (counts[i] > 0) m_end_to_end[i]->ObserveMultiple(buckets[i], sums[i]);

  m_last_commit.Set(static_cast<double>(committed_at) / 1000.0);
}

void Metrics::db_error(std::string_view kind) {
  m_db_errors.Add({{"kind", std::string(kind)}}).Increment();
}

void Metrics::set_patterns(std::int64_t operation, std::int64_t failure) {
  m_patterns.Add({{"kind", "operation"}}).Set(static_cast<double>(operation));
  m_patterns.Add({{"kind", "failure"}}).Set(static_cast<double>(failure));
}

void Metrics::set_db_size(std::int64_t bytes) { m_db_size.Set(static_cast<double>(bytes)); }

}  // namespace patternd::metrics
