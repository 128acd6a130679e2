#include "runner/kafka_source.hpp"

#include <algorithm>

#include "core/time.hpp"

namespace patternd::runner {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto k_gauge_interval = std::chrono::seconds(1);

// The next offset of each partition present in `batch`.
std::vector<pipeline::OffsetMark> next_offsets(const pipeline::Batch& batch) {
  std::map<core::TopicPartition, std::int64_t> next;
  for (const auto& m : batch.messages) {
    auto& n = next[{m.source.kind, m.source.partition}];
    n = std::max(n, m.source.offset.value + 1);
  }
  std::vector<pipeline::OffsetMark> marks;
  marks.reserve(next.size());
  for (const auto& [tp, offset] : next)
    marks.push_back({tp.kind, tp.partition, core::Offset{offset}});
  return marks;
}

}  // namespace

KafkaSource::KafkaSource(const config::Config& config, store::Store& store,
                         metrics::WorkerEvents& events)
    : m_config(config),
      m_store(store),
      m_events(events),
      m_last_gauges(Clock::now()),
      m_last_summary(Clock::now()) {
  auto consumer = kafka::Consumer::make(config.kafka, *this);
  if (!consumer) {
    const std::string& message = consumer.error().message;
    if (message.rfind("kafka.properties.", 0) == 0) throw core::UsageError(message);
    throw std::runtime_error(message);
  }
  m_consumer = std::move(consumer).value();
  if (!config.kafka.dead_letter_topic_suffix.empty()) {
    auto producer = kafka::Producer::make(config.kafka.brokers, config.kafka.properties);
    if (!producer) throw core::UsageError(producer.error().message);
    m_dead_letters = std::move(producer).value();
  }
}

KafkaSource::~KafkaSource() = default;

void KafkaSource::close() {
  m_flow = nullptr;  // the runner is done: nothing is in flight any more
  m_consumer->close();
}

Source::Poll KafkaSource::poll(Flow& flow, pipeline::Batch& forming, std::size_t /*room*/,
                               std::chrono::milliseconds timeout) {
  if (m_pattern_count_stale && flow.store_idle()) count_patterns();
  return consume(flow, forming, static_cast<int>(timeout.count())) ? Poll::messages : Poll::nothing;
}

void KafkaSource::keep_alive(Flow& flow, pipeline::Batch& forming,
                             std::chrono::milliseconds timeout) {
  consume(flow, forming, static_cast<int>(timeout.count()));  // keeps serving the group
}

bool KafkaSource::consume(Flow& flow, pipeline::Batch& forming, int timeout_ms) {
  m_flow = &flow;
  const bool got = m_consumer->consume(forming, timeout_ms);
  m_flow = nullptr;
  if (got) {
    const auto& m = forming.messages.back();
    m_forming_first.try_emplace({m.source.kind, m.source.partition}, m.timestamp);
  }
  return got;
}

void KafkaSource::pause(bool paused) {
  if (paused)
    m_consumer->pause_all();
  else
    m_consumer->resume_all();
}

void KafkaSource::closing(pipeline::Batch& batch) {
  batch.offsets = next_offsets(batch);
  std::lock_guard lock(m_inflight_mutex);
  m_inflight.push_back({{m_forming_first.begin(), m_forming_first.end()}});
  m_forming_first.clear();
}

// On the store's writer thread.
void KafkaSource::written(const pipeline::Batch& batch, const pipeline::BatchOutcome& outcome) {
  if (m_dead_letters) {
    produce_dead_letters(batch, batch.rejections);
    produce_dead_letters(batch, outcome.store_rejections);
  }
  {
    std::lock_guard lock(m_inflight_mutex);
    if (!m_inflight.empty()) m_inflight.pop_front();  // batches are written in order
  }
  {
    std::lock_guard lock(m_patterns_mutex);
    m_pattern_count_stale = true;
  }
  if (Clock::now() - m_last_pattern_count >= k_gauge_interval) count_patterns();
  // Only now, with the batch durable, tell Kafka (for lag tools).
  m_consumer->commit(batch.offsets);
}

void KafkaSource::produce_dead_letters(const pipeline::Batch& batch,
                                       const std::vector<pipeline::Rejection>& rejections) {
  for (const auto& r : rejections) {
    const pipeline::RawMessage& m = batch.messages[r.message];
    const std::string& topic = m_config.kafka.topic(m.source.kind);
    const std::string where = topic + "[" + std::to_string(m.source.partition.value) + "]@" +
                              std::to_string(m.source.offset.value);
    const std::string to = topic + m_config.kafka.dead_letter_topic_suffix;
    try {
      m_dead_letters->send(to, where, m.payload,
                           {{"patternd.reason_class", std::string(core::to_string(r.reject))},
                            {"patternd.reason", r.reason},
                            {"patternd.source", where}});
    } catch (const std::exception& e) {
      m_events.dead_letter_not_produced(to, e.what());
    }
  }
}

// Abandoned batches were not written: seek their partitions back to their
// first message, so that nothing is skipped.
void KafkaSource::abandoned(const std::vector<pipeline::Batch>& batches) {
  {
    std::lock_guard lock(m_inflight_mutex);
    m_inflight.clear();  // all of it was abandoned: nothing else was in flight
  }
  std::map<core::TopicPartition, std::int64_t> first;
  for (const auto& batch : batches)
    for (const auto& m : batch.messages) {
      auto [it, fresh] =
          first.try_emplace({m.source.kind, m.source.partition}, m.source.offset.value);
      if (!fresh) it->second = std::min(it->second, m.source.offset.value);
    }
  for (const auto& [tp, offset] : first) {
    try {
      m_consumer->seek(tp, offset);
    } catch (const std::exception& e) {
      m_events.rewind_failed(e.what());
    }
  }
}

void KafkaSource::tick() {
  const auto now = Clock::now();
  if (now - m_last_gauges >= k_gauge_interval) update_gauges();
  if (now - m_last_summary >= std::chrono::seconds(m_config.log.summary_interval_s)) {
    m_last_summary = now;
    m_events.summary();
  }
}

// Once a second: lag per partition, queue depth, database size, readiness.
void KafkaSource::update_gauges() {
  m_last_gauges = Clock::now();
  const core::TimestampMs now = core::now_ms();
  std::map<core::TopicPartition, core::TimestampMs> oldest(m_forming_first.begin(),
                                                           m_forming_first.end());
  {
    std::lock_guard lock(m_inflight_mutex);
    for (const auto& batch : m_inflight)
      for (const auto& [tp, ts] : batch.first) {
        auto [it, fresh] = oldest.try_emplace(tp, ts);
        if (!fresh) it->second = std::min(it->second, ts);
      }
  }
  std::vector<metrics::WorkerEvents::PartitionLag> lags;
  for (const auto& [tp, persisted] : m_events.partitions()) {
    metrics::WorkerEvents::PartitionLag& lag = lags.emplace_back();
    lag.partition = tp;
    if (const auto w = m_consumer->watermarks(tp)) {
      const std::int64_t next = persisted.value_or(w->low);
      if (next >= 0) lag.messages = std::max<std::int64_t>(0, w->high - next);
    }
    if (auto it = oldest.find(tp); it != oldest.end())
      lag.seconds = static_cast<double>(std::max<core::TimestampMs>(0, now - it->second)) / 1000.0;
    else if (lag.messages && *lag.messages == 0)
      lag.seconds = 0.0;
  }
  m_events.gauges(lags, m_store.size_bytes());
}

// Distinct patterns stored, for patternd_patterns: on the writer thread
// while it writes (once a second), on the runner's thread once it is idle.
void KafkaSource::count_patterns() {
  std::lock_guard lock(m_patterns_mutex);
  m_last_pattern_count = Clock::now();
  m_pattern_count_stale = false;
  try {
    const store::PatternCounts counts = m_store.count_patterns();
    m_events.patterns(counts.operation, counts.failure);
  } catch (const std::exception&) {
    m_pattern_count_stale = true;  // a gauge: tried again later
  }
}

void KafkaSource::assigning(std::vector<kafka::PartitionStart>& partitions) {
  // With a cooperative protocol other partitions may still be in flight;
  // the offsets below must be read with nothing half-written.
  if (m_flow != nullptr && !m_flow->store_idle()) m_flow->settle();
  for (auto& start : partitions) {
    const std::string& topic = m_config.kafka.topic(start.partition.kind);
    try {
      start.offset = m_store.stored_offset(topic, start.partition.partition.value);
    } catch (const std::exception& e) {
      m_events.stored_offset_unreadable(start.partition, topic, e.what());
    }
  }
}

void KafkaSource::assigned(const std::vector<kafka::PartitionStart>& partitions) {
  std::vector<core::TopicPartition> tps;
  std::vector<std::optional<std::int64_t>> next;
  for (const auto& p : partitions) {
    tps.push_back(p.partition);
    next.push_back(p.offset);
  }
  m_events.assigned(tps, next);
}

void KafkaSource::revoking(const std::vector<core::TopicPartition>&) {
  // Everything consumed is written before the partitions go.
  if (m_flow != nullptr) m_flow->settle();
}

void KafkaSource::revoked(const std::vector<core::TopicPartition>& partitions) {
  m_events.revoked(partitions);
}

void KafkaSource::kafka_error(const kafka::KafkaError& error) {
  m_events.kafka_error(error.error_class == kafka::ErrorClass::fatal, error.code, error.text,
                       error.all_brokers_down);
}

void KafkaSource::brokers_up(bool up) { m_events.brokers_up(up); }

}  // namespace patternd::runner
