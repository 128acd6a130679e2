// `patternd run --config FILE`: the worker. Consumes both topics in one
// consumer group and runs the same pipeline as `ingest` on batches of Kafka
// messages (up to batch.max_messages or batch.max_wait_ms). Each batch is one
// SQLite transaction holding its rows, dead letters and the partitions' next
// offsets; only after it commits are the offsets committed to Kafka (for lag
// tools). On assignment each partition resumes from the offset stored in the
// database (else the group's committed offset, else the earliest); on
// revocation the in-flight batch is committed before the partitions go.

#include <librdkafka/rdkafkacpp.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <thread>

#include "app/commands.hpp"
#include "app/common.hpp"
#include "app/signals.hpp"
#include "pipeline/processor.hpp"
#include "store/batch_writer.hpp"
#include "store/offsets.hpp"

namespace patternd::app {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

class Worker : public RdKafka::RebalanceCb, public RdKafka::EventCb {
 public:
  Worker(const config::Config& config, const detect::Rules& rules, store::Database& db)
      : m_config(config),
        m_db(db),
        m_processor(config, rules),
        m_writer(db, config.kafka) {}

  void start() {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string error;
    std::map<std::string, std::string> settings = {
        {"bootstrap.servers", m_config.kafka.brokers},
        {"group.id", m_config.kafka.group_id},
        {"client.id", "patternd"},
        // Offsets live in the database; Kafka's copy is committed by hand
        // after each database commit, never automatically.
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", "false"},
    };
    for (const auto& [name, value] : m_config.kafka.properties) settings[name] = value;
    for (const auto& [name, value] : settings)
      if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK)
        throw core::UsageError("kafka property " + name + ": " + error);
    conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), error);
    conf->set("event_cb", static_cast<RdKafka::EventCb*>(this), error);
    m_consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
    if (!m_consumer) throw std::runtime_error("cannot create the Kafka consumer: " + error);
    const RdKafka::ErrorCode err = m_consumer->subscribe(
        {m_config.kafka.topic_workflows, m_config.kafka.topic_extractions});
    if (err != RdKafka::ERR_NO_ERROR)
      throw std::runtime_error("cannot subscribe: " + RdKafka::err2str(err));
  }

  void run() {
    const auto max_wait = std::chrono::milliseconds(m_config.batch.max_wait_ms);
    const auto max_messages = static_cast<std::size_t>(m_config.batch.max_messages);
    Clock::time_point batch_started{};
    auto last_report = Clock::now();
    while (!g_stop) {
      const int timeout =
          m_batch.messages.empty()
              ? 100
              : static_cast<int>(std::max<std::int64_t>(
                    0, std::chrono::duration_cast<std::chrono::milliseconds>(
                           batch_started + max_wait - Clock::now())
                           .count()));
      std::unique_ptr<RdKafka::Message> message(m_consumer->consume(timeout));
      if (message->err() == RdKafka::ERR_NO_ERROR) {
        if (m_batch.messages.empty()) batch_started = Clock::now();
        add(*message);
      } else if (message->err() != RdKafka::ERR__TIMED_OUT) {
        std::cerr << "run: consumer: " << message->errstr() << "\n";
      }
      if (!m_batch.messages.empty() &&
          (m_batch.messages.size() >= max_messages || Clock::now() - batch_started >= max_wait))
        flush();
      if (Clock::now() - last_report > std::chrono::seconds(10)) {
        last_report = Clock::now();
        std::cerr << "run: " << with_commas(m_consumed) << " consumed, " << with_commas(m_persisted)
                  << " persisted, " << with_commas(m_duplicates) << " duplicates, "
                  << with_commas(m_dead_lettered) << " dead letters\n";
      }
    }
    flush();
    m_consumer->close();  // leaves the group; revocation flushes nothing more
    std::cerr << "run: stopped after " << with_commas(m_consumed) << " messages ("
              << with_commas(m_persisted) << " persisted, " << with_commas(m_duplicates)
              << " duplicates, " << with_commas(m_dead_lettered) << " dead letters)\n";
  }

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      // Resume each partition where the database says it stopped.
      for (auto* tp : partitions) {
        if (auto next = store::stored_offset(m_db, tp->topic(), tp->partition()))
          tp->set_offset(*next);
      }
      consumer->assign(partitions);
      std::cerr << "run: assigned " << partitions.size() << " partitions\n";
    } else {
      // Commit the in-flight batch before the partitions go to another worker.
      flush();
      consumer->unassign();
      std::cerr << "run: revoked " << partitions.size() << " partitions\n";
    }
  }

  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_ERROR)
      std::cerr << "run: kafka: " << RdKafka::err2str(event.err()) << ": " << event.str() << "\n";
  }

 private:
  void add(const RdKafka::Message& message) {
    pipeline::RawMessage& raw = m_batch.messages.emplace_back();
    raw.source.kind = message.topic_name() == m_config.kafka.topic_workflows
                          ? core::TopicKind::workflows
                          : core::TopicKind::extractions;
    raw.source.partition = core::Partition{message.partition()};
    raw.source.offset = core::Offset{message.offset()};
    const auto ts = message.timestamp();
    raw.timestamp = ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE
                        ? core::now_ms()
                        : ts.timestamp;
    raw.payload.assign(static_cast<const char*>(message.payload()), message.len());
    ++m_consumed;
  }

  void flush() {
    if (m_batch.messages.empty()) return;
    // The next offset of each partition in this batch.
    std::map<std::pair<int, std::int32_t>, std::int64_t> next;
    for (const auto& m : m_batch.messages) {
      auto& n = next[{static_cast<int>(m.source.kind), m.source.partition.value}];
      n = std::max(n, m.source.offset.value + 1);
    }
    m_batch.offsets.clear();
    for (const auto& [key, offset] : next)
      m_batch.offsets.push_back({static_cast<core::TopicKind>(key.first),
                                 core::Partition{key.second}, core::Offset{offset}});
    m_processor.prepare(m_batch, core::now_ms());
    // Transient database errors are retried until they pass (issue 5 adds
    // pausing, readiness and metrics around this).
    const store::BatchOutcome outcome = m_writer.write_retrying(
        m_batch, std::chrono::steady_clock::duration::max() / 2,
        [](const store::StoreError& e, std::chrono::milliseconds delay) {
          std::cerr << "run: database unavailable (" << e.what() << "); retrying in "
                    << delay.count() << " ms\n";
        });
    for (const auto& t : outcome.topics) {
      m_persisted += t.persisted;
      m_duplicates += t.duplicates;
      m_dead_lettered += t.dead_lettered;
    }
    // Only now, with the batch durable, tell Kafka (for lag tools).
    std::vector<RdKafka::TopicPartition*> commit;
    for (const auto& mark : m_batch.offsets)
      commit.push_back(RdKafka::TopicPartition::create(m_config.kafka.topic(mark.kind),
                                                       mark.partition.value, mark.next.value));
    m_consumer->commitAsync(commit);
    RdKafka::TopicPartition::destroy(commit);
    m_batch.clear();
  }

  const config::Config& m_config;
  store::Database& m_db;
  pipeline::Processor m_processor;
  store::BatchWriter m_writer;
  std::unique_ptr<RdKafka::KafkaConsumer> m_consumer;
  pipeline::Batch m_batch;
  std::uint64_t m_consumed = 0, m_persisted = 0, m_duplicates = 0, m_dead_lettered = 0;
};

int run_worker(const std::string& config_path) {
  const config::Config config = load_config(config_path);
  const detect::Rules rules = load_rules(config);
  auto db = open_database(config);
  reconcile_rules_version(*db, rules);

  // SIGTERM/SIGINT are taken by a thread of their own and only set a flag:
  // the loop finishes its batch, commits, and leaves the group.
  const sigset_t signals = block_termination_signals();
  std::thread([signals] {
    int signal = 0;
    sigwait(&signals, &signal);
    g_stop = true;
  }).detach();

  Worker worker(config, rules, *db);
  worker.start();
  std::cerr << "run: consuming " << config.kafka.topic_workflows << " and "
            << config.kafka.topic_extractions << " from " << config.kafka.brokers << " as group "
            << config.kafka.group_id << " into " << config.storage.path << "\n";
  worker.run();
  return 0;
}

}  // namespace

void add_run(CLI::App& app, Action& run) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "run", "Run the worker: consume both topics in the consumer group until SIGTERM/SIGINT");
  cmd->add_option("--config", *file, "the YAML config file")->required();
  cmd->callback([&run, file] { run = [file] { return run_worker(*file); }; });
}

}  // namespace patternd::app
