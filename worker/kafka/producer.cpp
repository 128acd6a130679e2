#include "kafka/producer.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <mutex>
#include <stdexcept>

namespace patternd::kafka {

using core::Error;

struct Producer::Impl : public RdKafka::DeliveryReportCb {
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      delivered.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (failed.fetch_add(1, std::memory_order_relaxed) == 0) {
      std::lock_guard lock(error_mutex);
      error = message.errstr();
    }
  }

  std::unique_ptr<RdKafka::Producer> producer;
  std::atomic<std::uint64_t> delivered{0}, failed{0};
  std::mutex error_mutex;
  std::string error;
};

Producer::Producer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Producer::~Producer() {
  if (m_impl->producer) m_impl->producer->flush(5000);
}

core::Result<std::unique_ptr<Producer>> Producer::make(
    const std::string& brokers, const std::map<std::string, std::string>& properties) {
  auto impl = std::make_unique<Impl>();
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  std::map<std::string, std::string> settings = {
      {"bootstrap.servers", brokers},
      {"client.id", "patternd-produce"},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"queue.buffering.max.messages", "500000"},
      {"queue.buffering.max.kbytes", "262144"},
      {"enable.idempotence", "true"},
  };
  for (const auto& [name, value] : properties) settings[name] = value;
  for (const auto& [name, value] : settings)
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK)
      return Error{"kafka property " + name + ": " + error};
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(impl.get()), error) !=
      RdKafka::Conf::CONF_OK)
    return Error{error};
  impl->producer.reset(RdKafka::Producer::create(conf.get(), error));
  if (!impl->producer) return Error{"cannot create the Kafka producer: " + error};
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

void Producer::send(const std::string& topic, std::string_view key, std::string_view payload,
                    const Headers& headers) {
  for (;;) {
    RdKafka::ErrorCode err;
    if (headers.empty()) {
      err = m_impl->producer->produce(
          topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
          const_cast<char*>(payload.data()), payload.size(), key.data(), key.size(), 0, nullptr);
    } else {
      RdKafka::Headers* h = RdKafka::Headers::create();
      for (const auto& [name, value] : headers) h->add(name, value);
      err = m_impl->producer->produce(
          topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
          const_cast<char*>(payload.data()), payload.size(), key.data(), key.size(), 0, h, nullptr);
      if (err != RdKafka::ERR_NO_ERROR) delete h;  // owned by librdkafka only on success
    }
    if (err == RdKafka::ERR_NO_ERROR) break;
    if (err != RdKafka::ERR__QUEUE_FULL)
      throw std::runtime_error("cannot produce to " + topic + ": " + RdKafka::err2str(err));
    m_impl->producer->poll(50);  // let deliveries drain the local queue
  }
  m_impl->producer->poll(0);
}

bool Producer::flush(int timeout_ms) {
  return m_impl->producer->flush(timeout_ms) == RdKafka::ERR_NO_ERROR;
}

std::uint64_t Producer::delivered() const { return m_impl->delivered.load(); }
std::uint64_t Producer::failed() const { return m_impl->failed.load(); }
const std::string& Producer::first_error() const { return m_impl->error; }

}  // namespace patternd::kafka
