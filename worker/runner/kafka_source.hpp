#pragma once
// Kafka as the runner's source (`patternd run`): every configured topic in
// one consumer group, resuming each assigned partition from the offset stored
// with its last batch, telling Kafka the offsets of a batch only once the
// batch is durable, rewinding partitions whose batches were abandoned.
//
// Rebalances: before partitions are revoked (and before new ones are
// assigned), everything consumed so far is written (Flow::settle), so the
// next owner resumes from stored offsets with nothing in flight.
//
// Dead letters: with kafka.dead_letter_topic_suffix set, each rejected
// message is also produced to <its topic><suffix> once its batch is durable
// (payload as received; headers: patternd.reason_class, patternd.reason,
// patternd.source). The dead_letters table stays the record: a crash between
// the commit and the produce loses the copy, never the letter.
//
// Memory: librdkafka's pre-fetch queue is left at its size, which sustains
// the throughput (shrinking it stalls fetching, PERF-NOTES); when the store
// stops taking batches, every partition is paused instead.

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "config/config.hpp"
#include "kafka/consumer.hpp"
#include "kafka/producer.hpp"
#include "metrics/events.hpp"
#include "source/source.hpp"
#include "store/store.hpp"

namespace patternd::runner {

using source::Flow;
using source::Source;

class KafkaSource final : public Source, private kafka::Consumer::Handler {
 public:
  // Throws core::UsageError for a bad kafka.properties value, and
  // std::runtime_error when librdkafka cannot start.
  KafkaSource(const config::Config& config, store::Store& store, metrics::WorkerEvents& events);
  ~KafkaSource() override;

  Poll poll(Flow& flow, pipeline::Batch& forming, std::size_t room,
            std::chrono::milliseconds timeout) override;
  void pause(bool paused) override;
  void keep_alive(Flow& flow, pipeline::Batch& forming, std::chrono::milliseconds timeout) override;
  void closing(pipeline::Batch& batch) override;
  void written(const pipeline::Batch& batch, const pipeline::BatchOutcome& outcome) override;
  void abandoned(const std::vector<pipeline::Batch>& batches) override;
  void tick() override;

  // Leaves the group; call after the runner is done.
  void close();

 private:
  // kafka::Consumer::Handler
  void assigning(std::vector<kafka::PartitionStart>& partitions) override;
  void assigned(const std::vector<kafka::PartitionStart>& partitions) override;
  void revoking(const std::vector<core::TopicPartition>& partitions) override;
  void revoked(const std::vector<core::TopicPartition>& partitions) override;
  void kafka_error(const kafka::KafkaError& error) override;
  void brokers_up(bool up) override;

  bool consume(Flow& flow, pipeline::Batch& forming, int timeout_ms);
  void update_gauges();
  void count_patterns();
  void produce_dead_letters(const pipeline::Batch& batch,
                            const std::vector<pipeline::Rejection>& rejections);

  // The oldest message time of each partition in a batch not yet persisted:
  // what patternd_consumer_lag_seconds measures from.
  struct InFlight {
    std::vector<std::pair<core::TopicPartition, core::TimestampMs>> first;
  };

  const config::Config& m_config;
  store::Store& m_store;
  metrics::WorkerEvents& m_events;
  std::unique_ptr<kafka::Consumer> m_consumer;
  // kafka.dead_letter_topic_suffix: dead letters also go to <topic><suffix>.
  std::unique_ptr<kafka::Producer> m_dead_letters;
  Flow* m_flow = nullptr;  // while poll() or keep_alive() runs

  std::map<core::TopicPartition, core::TimestampMs> m_forming_first;  // runner thread only
  std::mutex m_inflight_mutex;
  std::deque<InFlight> m_inflight;  // closed batches not yet written, oldest first

  std::chrono::steady_clock::time_point m_last_gauges, m_last_summary;
  std::mutex m_patterns_mutex;
  std::chrono::steady_clock::time_point m_last_pattern_count{};
  bool m_pattern_count_stale = true;
};

}  // namespace patternd::runner
