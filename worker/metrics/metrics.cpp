#include "metrics/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <sstream>

namespace patternd::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// Chosen for the ranges that occur: a batch transaction takes ~1 ms (a few
// messages, caught up) to 10-50 ms (a full batch in a backlog), where the
// buckets are finest (SPEC 11's p99 target is 50 ms); seconds mean trouble.
const prometheus::Histogram::BucketBoundaries k_write_latency = {
    0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05,
    0.075, 0.1,    0.15,  0.25, 0.5,   1,    2.5,   5,    10};
const prometheus::Histogram::BucketBoundaries k_batch_size = {
    1, 10, 50, 100, 250, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 50000};
// Caught up: tens of ms to a second. Draining a backlog: minutes to hours.
const prometheus::Histogram::BucketBoundaries k_end_to_end = {
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14400};

}  // namespace

Metrics::Metrics(const config::Kafka& kafka, const std::string& version,
                 const std::vector<std::string>& db_error_kinds)
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
  // Every series with a known label set is present from the start (at 0), so
  // that rate() and alerts work before the first batch; the children are
  // kept, not looked up per update.
  for (const auto& k : core::k_stream_kinds) {
    const auto i = core::index_of(k.kind);
    const std::string topic = m_kafka.topic(k.kind);
    PerTopic& t = m_topics[i];
    t.end_to_end = &end_to_end.Add({{"topic", topic}}, k_end_to_end);
    t.consumed = &m_consumed.Add({{"topic", topic}});
    t.persisted = &m_persisted.Add({{"topic", topic}});
    t.duplicate = &m_duplicate.Add({{"topic", topic}});
    t.expired = &m_expired.Add({{"topic", topic}});
    for (std::size_t r = 0; r < core::k_reject_class_names.size(); ++r)
      t.dead_lettered[r] = &m_dead_lettered.Add(
          {{"topic", topic}, {"reason", std::string(core::k_reject_class_names[r])}});
  }
  m_new_operation = &m_new_occurrences.Add({{"kind", "operation"}});
  m_new_failure = &m_new_occurrences.Add({{"kind", "failure"}});
  m_patterns_operation = &m_patterns.Add({{"kind", "operation"}});
  m_patterns_failure = &m_patterns.Add({{"kind", "failure"}});
  for (const auto& kind : db_error_kinds) m_db_errors.Add({{"kind", kind}});
  m_assigns = &m_rebalances.Add({{"type", "assign"}});
  m_revokes = &m_rebalances.Add({{"type", "revoke"}});
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
  m_topics[core::index_of(kind)].consumed->Increment(static_cast<double>(messages));
}

void Metrics::rebalanced(bool assigned) { (assigned ? m_assigns : m_revokes)->Increment(); }

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
  for (const auto& k : core::k_stream_kinds) {
    const pipeline::TopicOutcome& o = outcome.topic(k.kind);
    PerTopic& t = m_topics[core::index_of(k.kind)];
    if (o.persisted > 0) t.persisted->Increment(static_cast<double>(o.persisted));
    if (o.duplicates > 0) t.duplicate->Increment(static_cast<double>(o.duplicates));
    if (o.expired > 0) t.expired->Increment(static_cast<double>(o.expired));
  }
  for (const auto& [key, count] : outcome.dead_letter_classes)
    m_topics[core::index_of(key.first)]
        .dead_lettered[static_cast<std::size_t>(key.second)]
        ->Increment(static_cast<double>(count));
  if (outcome.new_occurrences.operation_occurrences > 0)
    m_new_operation->Increment(static_cast<double>(outcome.new_occurrences.operation_occurrences));
  if (outcome.new_occurrences.failure_occurrences > 0)
    m_new_failure->Increment(static_cast<double>(outcome.new_occurrences.failure_occurrences));

  m_write_latency.Observe(outcome.transaction_seconds);
  m_batch_size.Observe(static_cast<double>(batch.messages.size()));

  // End-to-end latency of every message, one histogram update per topic.
  core::PerKind<std::vector<double>> buckets;
  core::PerKind<double> sums{};
  core::PerKind<std::size_t> counts{};
  for (auto& b : buckets) b.assign(k_end_to_end.size() + 1, 0);
  for (const auto& m : batch.messages) {
    const double seconds =
        static_cast<double>(std::max<core::TimestampMs>(0, committed_at - m.timestamp)) / 1000.0;
    const auto i = core::index_of(m.source.kind);
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(k_end_to_end.begin(), k_end_to_end.end(), seconds) - k_end_to_end.begin());
    buckets[i][bucket] += 1;
    sums[i] += seconds;
    ++counts[i];
  }
  for (std::size_t i = 0; i < core::k_stream_kind_count; ++i)
    if (counts[i] > 0) m_topics[i].end_to_end->ObserveMultiple(buckets[i], sums[i]);

  m_last_commit.Set(static_cast<double>(committed_at) / 1000.0);
}

void Metrics::db_error(std::string_view kind) {
  m_db_errors.Add({{"kind", std::string(kind)}}).Increment();
}

void Metrics::set_patterns(std::int64_t operation, std::int64_t failure) {
  m_patterns_operation->Set(static_cast<double>(operation));
  m_patterns_failure->Set(static_cast<double>(failure));
}

void Metrics::set_db_size(std::int64_t bytes) { m_db_size.Set(static_cast<double>(bytes)); }

}  // namespace patternd::metrics
