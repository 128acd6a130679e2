#pragma once
// The group consumer of every configured topic, in RAII: made by a factory
// that returns a result, closed (leaving the group) in its destructor.
// librdkafka's callbacks arrive, on the thread that calls consume(), as calls
// to a Handler, already in patternd's own types.
//
// Offsets are never committed automatically: they live in the database, and
// commit() tells Kafka (for lag tools) only after a batch is durable.
//
// Not thread-safe, except commit(), which the store's thread calls.

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "core/types.hpp"
#include "kafka/errors.hpp"
#include "pipeline/batch.hpp"

namespace RdKafka {
class KafkaConsumer;
}

namespace patternd::kafka {

struct PartitionStart {
  core::TopicPartition partition;
  std::optional<std::int64_t> offset;  // where to start; nullopt: the group's committed offset
};

struct KafkaError {
  ErrorClass error_class = ErrorClass::transient;
  std::string code;  // librdkafka's name, e.g. Local: All broker connections are down
  std::string text;
  bool all_brokers_down = false;
};

class Consumer {
 public:
  // Called from consume(). An exception thrown by assigning() or revoking()
  // never crosses librdkafka: consume() rethrows it after librdkafka returns.
  class Handler {
   public:
    virtual ~Handler() = default;
    // Before partitions are assigned: choose each one's start offset.
    virtual void assigning(std::vector<PartitionStart>& partitions) = 0;
    virtual void assigned(const std::vector<PartitionStart>& partitions) = 0;
    // Before partitions are revoked (or lost): their in-flight work must be
    // written or abandoned now.
    virtual void revoking(const std::vector<core::TopicPartition>& partitions) = 0;
    virtual void revoked(const std::vector<core::TopicPartition>& partitions) = 0;
    virtual void kafka_error(const KafkaError& error) = 0;
    // From librdkafka's statistics, once a second: is any broker connected?
    virtual void brokers_up(bool up) = 0;
  };

  // Subscribes to every topic of `kafka`. Errors: a bad kafka.properties
  // value (names the property), or librdkafka refusing to start.
  static core::Result<std::unique_ptr<Consumer>> make(const config::Kafka& kafka, Handler& handler);
  ~Consumer();  // close(), if not done yet
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Waits up to `timeout_ms` for one message and appends it to `batch`;
  // false when none came. Errors go to the handler.
  bool consume(pipeline::Batch& batch, int timeout_ms);

  void pause_all();
  void resume_all();
  // Partitions not assigned any more are skipped: their next owner starts
  // from the stored offset.
  void seek(const core::TopicPartition& partition, std::int64_t offset);
  // Asynchronous; from any thread.
  void commit(const std::vector<pipeline::OffsetMark>& offsets);
  // Low and high watermarks of a partition as last fetched, if known.
  struct Watermarks {
    std::int64_t low = -1, high = -1;
  };
  std::optional<Watermarks> watermarks(const core::TopicPartition& partition);
  // Leaves the group (its revocation runs through the handler first).
  void close();

 private:
  struct Callbacks;
  Consumer(const config::Kafka& kafka, Handler& handler);

  const config::Kafka m_kafka;
  Handler& m_handler;
  std::unique_ptr<Callbacks> m_callbacks;
  std::unique_ptr<RdKafka::KafkaConsumer> m_consumer;
  bool m_paused = false;  // newly assigned partitions start paused too
  bool m_closed = false;
};

}  // namespace patternd::kafka
