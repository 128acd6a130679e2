#pragma once
// A Kafka producer for the synthetic fleet and file replays: keyed messages
// (so they spread over all partitions instead of piling into the sticky
// partitioner's few), delivery reports counted, back-pressure by polling
// when librdkafka's local queue is full.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace RdKafka {
class Producer;
}

namespace patternd::kafka {

class Producer {
 public:
  static core::Result<std::unique_ptr<Producer>> make(
      const std::string& brokers, const std::map<std::string, std::string>& properties);
  ~Producer();

  // Enqueues one message; blocks while the local queue is full. Throws on an
  // error that retrying cannot fix (unknown topic, message too large).
  using Headers = std::vector<std::pair<std::string, std::string>>;
  void send(const std::string& topic, std::string_view key, std::string_view payload,
            const Headers& headers = {});

  // Waits until every message is delivered or failed, up to `timeout_ms`.
  // Returns false if some are still in flight.
  bool flush(int timeout_ms);

  std::uint64_t delivered() const;
  std::uint64_t failed() const;
  const std::string& first_error() const;

 private:
  struct Impl;
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace patternd::kafka
