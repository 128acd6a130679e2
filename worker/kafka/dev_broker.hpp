#pragma once
// A local Kafka-protocol broker for development and tests: librdkafka's mock
// cluster (real Kafka protocol over TCP on loopback) with the topics
// pre-created.
//
// Limits of the mock cluster, inherited: messages live in memory, and each
// partition keeps only about 5 MiB (or 100,000 message sets); older data is
// dropped silently. Spread load over enough partitions: the default of 64 per
// topic holds about 320 MiB, roughly a million ~300-byte messages per topic.
//
// The mock brokers listen on ports the system picks. With a fixed `port`, a
// forwarder on 127.0.0.1:port relays bootstrap connections to the first
// broker; clients then follow the brokers' own addresses from metadata, which
// works for clients on the same host (the only ones a mock cluster serves).

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/result.hpp"

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;

namespace patternd::kafka {

struct DevBrokerOptions {
  int port = 0;  // 0: no forwarder, the bootstrap is the mock brokers' own address
  int partitions = 64;
  int brokers = 1;
  std::vector<std::string> topics;
};

class DevBroker {
 public:
  static core::Result<std::unique_ptr<DevBroker>> make(const DevBrokerOptions& options);
  ~DevBroker();
  DevBroker(const DevBroker&) = delete;
  DevBroker& operator=(const DevBroker&) = delete;

  // What clients use as bootstrap.servers: "127.0.0.1:PORT".
  const std::string& bootstrap() const { return m_bootstrap; }

  // An outage: every broker drops its connections and refuses new ones
  // (false), or serves again (true). The data stays.
  void set_brokers_up(bool up);

  // A burst of request errors, as a struggling cluster answers: the next
  // fetches fail (not leader), offset commits fail (coordinator not
  // available), heartbeats fail (not coordinator). Clients must retry.
  void inject_request_errors();

 private:
  DevBroker() = default;
  core::Status<> start_forwarder(int port, const std::string& target);
  void accept_loop(int target_port);

  int m_brokers = 1;
  rd_kafka_t* m_handle = nullptr;
  rd_kafka_mock_cluster_t* m_cluster = nullptr;
  std::string m_bootstrap;
  int m_listen_fd = -1;
  std::atomic<bool> m_stopping{false};
  std::thread m_acceptor;
};

}  // namespace patternd::kafka
