#include "kafka/consumer.hpp"

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/time.hpp"

namespace patternd::kafka {
namespace {

// Owns the TopicPartition objects of a list handed to librdkafka.
class PartitionList {
 public:
  PartitionList() = default;
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
  ~PartitionList() { RdKafka::TopicPartition::destroy(items); }
  std::vector<RdKafka::TopicPartition*> items;
};

void check(RdKafka::ErrorCode err, const char* what) {
  if (err != RdKafka::ERR_NO_ERROR)
    throw std::runtime_error(std::string("kafka: cannot ") + what + ": " + RdKafka::err2str(err));
}

void check(RdKafka::Error* error, const char* what) {
  if (error == nullptr) return;
  const std::string text = error->str();
  delete error;
  throw std::runtime_error(std::string("kafka: cannot ") + what + ": " + text);
}

}  // namespace

struct Consumer::Callbacks : RdKafka::RebalanceCb, RdKafka::EventCb {
  explicit Callbacks(Consumer& owner) : m_owner(owner) {}

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    const bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
    try {
      if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
        std::vector<PartitionStart> starts;
        for (const auto* tp : partitions) starts.push_back({partition_of(*tp), std::nullopt});
        m_owner.m_handler.assigning(starts);
        for (std::size_t i = 0; i < partitions.size(); ++i)
          if (starts[i].offset) partitions[i]->set_offset(*starts[i].offset);
        if (cooperative)
          check(consumer->incremental_assign(partitions), "assign");
        else
          check(consumer->assign(partitions), "assign");
        if (m_owner.m_paused) consumer->pause(partitions);
        m_owner.m_handler.assigned(starts);
      } else {
        if (err != RdKafka::ERR__REVOKE_PARTITIONS)
          m_owner.m_handler.kafka_error(
              {ErrorClass::transient, RdKafka::err2str(err), "rebalance error", false});
        std::vector<core::TopicPartition> revoked;
        for (const auto* tp : partitions) revoked.push_back(partition_of(*tp));
        m_owner.m_handler.revoking(revoked);
        if (cooperative)
          check(consumer->incremental_unassign(partitions), "unassign");
        else
          check(consumer->unassign(), "unassign");
        m_owner.m_handler.revoked(revoked);
      }
    } catch (...) {
      // Never through librdkafka's C frames: consume() rethrows it. The
      // partitions are let go, so that the group is not held up.
      if (!m_failure) m_failure = std::current_exception();
      if (err != RdKafka::ERR__ASSIGN_PARTITIONS) {
        if (cooperative)
          delete consumer->incremental_unassign(partitions);
        else
          consumer->unassign();
      }
    }
  }

  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_STATS) {
      note_broker_states(event.str());
    } else if (event.type() == RdKafka::Event::EVENT_ERROR) {
      KafkaError e{event.fatal() ? ErrorClass::fatal : classify_kafka_error(event.err()),
                   RdKafka::err2str(event.err()), event.str(),
                   event.err() == RdKafka::ERR__ALL_BROKERS_DOWN};
      m_owner.m_handler.kafka_error(e);
    }
  }

  // librdkafka's statistics: is any real broker (not a bootstrap address)
  // connected?
  void note_broker_states(const std::string& json) {
    const auto stats = nlohmann::json::parse(json, nullptr, false);
    if (stats.is_discarded() || !stats.contains("brokers")) return;
    bool up = false;
    for (const auto& [name, broker] : stats["brokers"].items())
      if (broker.value("nodeid", -1) >= 0 && broker.value("state", "") == "UP") up = true;
    m_owner.m_handler.brokers_up(up);
  }

  core::TopicPartition partition_of(const RdKafka::TopicPartition& tp) const {
    // Subscribed to exactly the configured topics: every one has a kind.
    return {m_owner.m_kafka.kind_of(tp.topic()).value_or(core::TopicKind::workflows),
            core::Partition{tp.partition()}};
  }

  Consumer& m_owner;
  std::exception_ptr m_failure;
};

Consumer::Consumer(const config::Kafka& kafka, Handler& handler)
    : m_kafka(kafka), m_handler(handler), m_callbacks(std::make_unique<Callbacks>(*this)) {}

core::Result<std::unique_ptr<Consumer>> Consumer::make(const config::Kafka& kafka,
                                                       Handler& handler) {
  std::unique_ptr<Consumer> consumer(new Consumer(kafka, handler));
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  std::map<std::string, std::string> settings = {
      {"bootstrap.servers", kafka.brokers},
      {"group.id", kafka.group_id},
      {"client.id", "patternd"},
      // Offsets live in the database; Kafka's copy is committed by hand
      // after each database commit, never automatically.
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      // Broker states for readiness, once a second (stats events).
      {"statistics.interval.ms", "1000"},
  };
  for (const auto& [name, value] : kafka.properties) settings[name] = value;
  for (const auto& [name, value] : settings)
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK)
      return core::Error{"kafka.properties." + name + ": " + error};
  conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(consumer->m_callbacks.get()), error);
  conf->set("event_cb", static_cast<RdKafka::EventCb*>(consumer->m_callbacks.get()), error);
  consumer->m_consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer->m_consumer) return core::Error{"cannot create the Kafka consumer: " + error};
  const RdKafka::ErrorCode err = consumer->m_consumer->subscribe(
      std::vector<std::string>(kafka.topics.begin(), kafka.topics.end()));
  if (err != RdKafka::ERR_NO_ERROR)
    return core::Error{"cannot subscribe: " + RdKafka::err2str(err)};
  return consumer;
}

Consumer::~Consumer() {
  try {
    close();
  } catch (...) {  // a failing handler at close: nothing more is written anyway
  }
}

bool Consumer::consume(pipeline::Batch& batch, int timeout_ms) {
  std::unique_ptr<RdKafka::Message> message(m_consumer->consume(timeout_ms));
  if (m_callbacks->m_failure)
    std::rethrow_exception(std::exchange(m_callbacks->m_failure, nullptr));
  if (message->err() != RdKafka::ERR_NO_ERROR) {
    const ErrorClass error_class = classify_kafka_error(message->err());
    if (error_class != ErrorClass::none)
      m_handler.kafka_error({error_class, RdKafka::err2str(message->err()), message->errstr(),
                             message->err() == RdKafka::ERR__ALL_BROKERS_DOWN});
    return false;
  }
  pipeline::RawMessage& raw = batch.messages.emplace_back();
  raw.source.kind = m_kafka.kind_of(message->topic_name()).value_or(core::TopicKind::workflows);
  raw.source.partition = core::Partition{message->partition()};
  raw.source.offset = core::Offset{message->offset()};
  const auto ts = message->timestamp();
  raw.timestamp = ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE ? core::now_ms()
                                                                                    : ts.timestamp;
  raw.payload.assign(static_cast<const char*>(message->payload()), message->len());
  return true;
}

void Consumer::pause_all() {
  PartitionList assigned;
  m_consumer->assignment(assigned.items);
  m_consumer->pause(assigned.items);
  m_paused = true;
}

void Consumer::resume_all() {
  PartitionList assigned;
  m_consumer->assignment(assigned.items);
  m_consumer->resume(assigned.items);
  m_paused = false;
}

void Consumer::seek(const core::TopicPartition& partition, std::int64_t offset) {
  std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(
      m_kafka.topic(partition.kind), partition.partition.value, offset));
  const RdKafka::ErrorCode err = m_consumer->seek(*tp, 1000);
  // Not assigned any more: its next owner starts from the stored offset.
  if (err != RdKafka::ERR_NO_ERROR && err != RdKafka::ERR__UNKNOWN_PARTITION &&
      err != RdKafka::ERR__STATE)
    throw std::runtime_error("kafka: cannot rewind " + tp->topic() + "[" +
                             std::to_string(partition.partition.value) +
                             "]: " + RdKafka::err2str(err));
}

void Consumer::commit(const std::vector<pipeline::OffsetMark>& offsets) {
  PartitionList commit;
  for (const auto& mark : offsets)
    commit.items.push_back(RdKafka::TopicPartition::create(m_kafka.topic(mark.kind),
                                                           mark.partition.value, mark.next.value));
  m_consumer->commitAsync(commit.items);
}

std::optional<Consumer::Watermarks> Consumer::watermarks(const core::TopicPartition& partition) {
  Watermarks w;
  m_consumer->get_watermark_offsets(m_kafka.topic(partition.kind), partition.partition.value,
                                    &w.low, &w.high);
  if (w.high < 0) return std::nullopt;
  return w;
}

void Consumer::close() {
  if (m_closed || !m_consumer) return;
  m_closed = true;
  m_consumer->close();
  if (m_callbacks->m_failure)
    std::rethrow_exception(std::exchange(m_callbacks->m_failure, nullptr));
}

}  // namespace patternd::kafka
