#include "kafka/worker.hpp"

#include <librdkafka/rdkafkacpp.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <deque>
#include <mutex>
#include <optional>
#include <set>

#include "core/format.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "pipeline/processor.hpp"
#include "store/batch_writer.hpp"
#include "store/checkpointer.hpp"
#include "store/offsets.hpp"
#include "store/write_stage.hpp"

namespace patternd::kafka {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using core::with_commas;

// How long the store may refuse a batch before fetching is paused. A healthy
// write of a full batch takes well under this; only an outage lasts longer.
constexpr milliseconds k_stall_before_pause{1000};
// How long a rebalance or a shutdown waits with nothing committing (the
// database failing, or locked by another writer) before it abandons the
// unwritten batches (SIGTERM must exit within 10 s).
constexpr milliseconds k_failing_patience{3000};
// How long one poll may block while there is nothing to do.
constexpr int k_idle_poll_ms = 100;
constexpr auto k_gauge_interval = std::chrono::seconds(1);
// Behind, with nothing committed for this long: stalled (not ready).
constexpr std::int64_t k_stalled_after_ms = 60'000;

using PartitionKey = std::pair<core::TopicKind, std::int32_t>;

std::int64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
}

// The first (oldest) message time of each partition in a batch not yet
// persisted: what patternd_consumer_lag_seconds measures from.
struct InFlight {
  std::vector<std::pair<PartitionKey, core::TimestampMs>> first;
  std::size_t messages = 0;
};

// The next offset of each partition present in `batch`.
std::vector<pipeline::OffsetMark> next_offsets(const pipeline::Batch& batch) {
  std::map<PartitionKey, std::int64_t> next;
  for (const auto& m : batch.messages) {
    auto& n = next[{m.source.kind, m.source.partition.value}];
    n = std::max(n, m.source.offset.value + 1);
  }
  std::vector<pipeline::OffsetMark> marks;
  marks.reserve(next.size());
  for (const auto& [key, offset] : next)
    marks.push_back({key.first, core::Partition{key.second}, core::Offset{offset}});
  return marks;
}

// Batch transactions between two summary lines.
struct WriteTimes {
  std::uint64_t count = 0;
  double total_seconds = 0, max_seconds = 0;
};

class PartitionList {
 public:
  PartitionList() = default;
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
  ~PartitionList() { RdKafka::TopicPartition::destroy(items); }
  std::vector<RdKafka::TopicPartition*> items;
};

}  // namespace

struct Worker::Impl : RdKafka::RebalanceCb, RdKafka::EventCb {
  Impl(const config::Config& config, const detect::Rules& rules, store::Database& db,
       metrics::Metrics& metrics, const std::atomic<bool>& stop, bool rules_match)
      : m_config(config),
        m_db(db),
        m_metrics(metrics),
        m_stop(stop),
        m_rules_match(rules_match),
        m_processor(config, rules),
        m_writer(db, config.kafka),
        m_checkpointer(db),
        m_max_messages(static_cast<std::size_t>(config.batch.max_messages)),
        m_max_wait(config.batch.max_wait_ms),
        m_report_interval(config.log.summary_interval_s) {
    m_forming.messages.reserve(m_max_messages);
  }

  void run() {
    connect();
    m_stage = std::make_unique<store::WriteStage>(
        m_writer, 1,
        [this](const pipeline::Batch& batch, const pipeline::BatchOutcome& outcome) {
          on_written(batch, outcome);
        },
        [this](const store::StoreError& e, milliseconds delay) {
          m_metrics.db_error(e.label());
          {
            std::lock_guard lock(m_health_mutex);
            m_db_error = e.what();
          }
          log::warn("run", std::string("database unavailable (") + e.what() + "); retrying in " +
                               std::to_string(delay.count()) + " ms",
                    {{"error", e.what()},
                     {"error_kind", e.label()},
                     {"retry_in_ms", static_cast<std::int64_t>(delay.count())}});
        });
    m_last_report = m_last_gauges = Clock::now();
    m_last_commit_ms = core::now_ms();
    try {
      while (!m_stop.load(std::memory_order_relaxed)) {
        rethrow_failure();
        if (m_ready && !offer_ready()) {
          consume_one(k_idle_poll_ms);  // paused: keep serving the group
          continue;
        }
        const bool got = consume_one(poll_timeout());
        if (should_close(got)) close_batch();
        if (Clock::now() - m_last_gauges >= k_gauge_interval) update_gauges();
        if (Clock::now() - m_last_report >= m_report_interval) report();
      }
      settle();
      m_consumer->close();  // leaves the group; its revocation finds nothing in flight
      rethrow_failure();
    } catch (...) {
      // Nothing more is written; what was not is read again by the next owner.
      m_stage.reset();
      m_consumer->close();
      throw;
    }
    m_stage.reset();
    log::info("run",
              "stopped after " + with_commas(m_consumed) + " messages (" +
                  with_commas(m_persisted) + " persisted, " + with_commas(m_duplicates) +
                  " duplicates, " + with_commas(m_dead_lettered) + " dead letters, " +
                  with_commas(m_expired) + " expired)",
              {{"consumed", static_cast<std::int64_t>(m_consumed)},
               {"persisted", static_cast<std::int64_t>(m_persisted.load())},
               {"duplicates", static_cast<std::int64_t>(m_duplicates.load())},
               {"dead_letters", static_cast<std::int64_t>(m_dead_lettered.load())},
               {"expired", static_cast<std::int64_t>(m_expired.load())}});
  }

  void connect() {
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
        // Broker states for readiness, once a second (stats events).
        {"statistics.interval.ms", "1000"},
    };
    for (const auto& [name, value] : m_config.kafka.properties) settings[name] = value;
    for (const auto& [name, value] : settings)
      if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK)
        throw core::UsageError("kafka.properties." + name + ": " + error);
    conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), error);
    conf->set("event_cb", static_cast<RdKafka::EventCb*>(this), error);
    m_consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
    if (!m_consumer) throw std::runtime_error("cannot create the Kafka consumer: " + error);
    const RdKafka::ErrorCode err = m_consumer->subscribe(
        std::vector<std::string>(m_config.kafka.topics.begin(), m_config.kafka.topics.end()));
    if (err != RdKafka::ERR_NO_ERROR)
      throw std::runtime_error("cannot subscribe: " + RdKafka::err2str(err));
  }

  // --- the consuming side ---------------------------------------------------

  bool consume_one(int timeout_ms) {
    std::unique_ptr<RdKafka::Message> message(m_consumer->consume(timeout_ms));
    switch (message->err()) {
      case RdKafka::ERR_NO_ERROR:
        add(*message);
        return true;
      case RdKafka::ERR__TIMED_OUT:
        return false;
      default:
        log::error("run", "consumer: " + message->errstr(),
                   {{"kafka_error", RdKafka::err2str(message->err())}});
        return false;
    }
  }

  void add(const RdKafka::Message& message) {
    if (m_forming.messages.empty()) m_forming_since = Clock::now();
    pipeline::RawMessage& raw = m_forming.messages.emplace_back();
    raw.source.kind = kind_of(message.topic_name());
    raw.source.partition = core::Partition{message.partition()};
    raw.source.offset = core::Offset{message.offset()};
    const auto ts = message.timestamp();
    raw.timestamp = ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE
                        ? core::now_ms()
                        : ts.timestamp;
    raw.payload.assign(static_cast<const char*>(message.payload()), message.len());
    m_forming_first.try_emplace({raw.source.kind, raw.source.partition.value}, raw.timestamp);
    ++m_consumed;
    m_in_process.fetch_add(1, std::memory_order_relaxed);
  }

  int poll_timeout() const {
    if (m_forming.messages.empty()) return k_idle_poll_ms;
    if (m_stage->idle()) return 0;  // take what is already here, then write
    const auto left = m_max_wait - (Clock::now() - m_forming_since);
    return static_cast<int>(
        std::clamp<std::int64_t>(std::chrono::duration_cast<milliseconds>(left).count(), 0,
                                 k_idle_poll_ms));
  }

  // Full, old enough, or the store is idle and nothing more has arrived.
  bool should_close(bool got_message) const {
    if (m_forming.messages.empty()) return false;
    return m_forming.messages.size() >= m_max_messages ||
           Clock::now() - m_forming_since >= m_max_wait || (!got_message && m_stage->idle());
  }

  // decode -> detect on this thread; the batch then waits in m_ready.
  void close_batch() {
    m_forming.offsets = next_offsets(m_forming);
    std::uint64_t by_kind[2] = {0, 0};
    for (const auto& m : m_forming.messages) ++by_kind[static_cast<std::size_t>(m.source.kind)];
    for (auto kind : {core::TopicKind::workflows, core::TopicKind::extractions})
      if (by_kind[static_cast<std::size_t>(kind)] > 0)
        m_metrics.consumed(kind, by_kind[static_cast<std::size_t>(kind)]);
    {
      std::lock_guard lock(m_inflight_mutex);
      InFlight& entry = m_inflight.emplace_back();
      entry.first.assign(m_forming_first.begin(), m_forming_first.end());
      entry.messages = m_forming.messages.size();
    }
    m_forming_first.clear();
    m_processor.prepare(m_forming, core::now_ms());
    m_ready.emplace(std::move(m_forming));
    m_forming = pipeline::Batch{};
    m_forming.messages.reserve(m_max_messages);
  }

  // Hands m_ready to the store; true when it took it. While the store keeps
  // refusing, fetching is paused (and resumed once it takes one).
  bool offer_ready() {
    if (m_stage->try_submit(*m_ready, m_paused ? milliseconds(0) : k_stall_before_pause)) {
      m_ready.reset();
      if (m_paused) set_paused(false);
      return true;
    }
    if (!m_paused) set_paused(true);
    return false;
  }

  void set_paused(bool paused) {
    PartitionList assigned;
    m_consumer->assignment(assigned.items);
    if (paused)
      m_consumer->pause(assigned.items);
    else
      m_consumer->resume(assigned.items);
    m_paused = paused;
    if (paused)
      log::warn("run", "the store is not taking batches (see above): fetching paused");
    else
      log::info("run", "the store is taking batches again: fetching resumed");
  }

  // Writes everything consumed so far (or, if the database keeps failing,
  // abandons it and rewinds the partitions to read it again).
  void settle() {
    if (m_ready) {
      m_stage->submit(std::move(*m_ready));
      m_ready.reset();
    }
    if (!m_forming.messages.empty()) {
      close_batch();
      m_stage->submit(std::move(*m_ready));
      m_ready.reset();
    }
    const std::vector<pipeline::Batch> abandoned = m_stage->drain(k_failing_patience);
    if (m_paused) set_paused(false);
    if (!abandoned.empty()) {
      {
        std::lock_guard lock(m_inflight_mutex);
        m_inflight.clear();  // all of it was abandoned: nothing else was in flight
      }
      m_in_process = 0;
      rewind(abandoned);
    }
  }

  // Abandoned batches were not written: seek their partitions back to their
  // first message, so that nothing is skipped.
  void rewind(const std::vector<pipeline::Batch>& abandoned) {
    std::map<PartitionKey, std::int64_t> first;
    std::size_t messages = 0;
    for (const auto& batch : abandoned) {
      messages += batch.messages.size();
      for (const auto& m : batch.messages) {
        auto [it, fresh] = first.try_emplace({m.source.kind, m.source.partition.value},
                                             m.source.offset.value);
        if (!fresh) it->second = std::min(it->second, m.source.offset.value);
      }
    }
    log::warn("run",
              "nothing could be committed for 3 s: " + with_commas(messages) +
                  " consumed messages were not written; they will be read again",
              {{"abandoned_messages", static_cast<std::int64_t>(messages)}});
    for (const auto& [key, offset] : first) {
      std::unique_ptr<RdKafka::TopicPartition> tp(
          RdKafka::TopicPartition::create(m_config.kafka.topic(key.first), key.second, offset));
      const RdKafka::ErrorCode err = m_consumer->seek(*tp, 1000);
      // Not assigned any more: its next owner starts from the stored offset.
      if (err != RdKafka::ERR_NO_ERROR && err != RdKafka::ERR__UNKNOWN_PARTITION &&
          err != RdKafka::ERR__STATE)
        log::error("run", "cannot rewind " + tp->topic() + "[" + std::to_string(key.second) +
                              "]: " + RdKafka::err2str(err),
                   {{"topic", tp->topic()}, {"partition", std::int64_t{key.second}}});
    }
  }

  void report() {
    const auto now = Clock::now();
    const double seconds = std::chrono::duration<double>(now - m_last_report).count();
    const std::uint64_t persisted = m_persisted;
    const auto rate = static_cast<std::int64_t>(
        static_cast<double>(persisted - m_persisted_at_report) / seconds);
    const std::int64_t lag = m_total_lag.load();
    const std::int64_t in_process = std::max<std::int64_t>(0, m_in_process.load());
    WriteTimes writes;
    {
      std::lock_guard lock(m_write_times_mutex);
      std::swap(writes, m_write_times);
    }
    const double mean_ms = writes.count > 0 ? writes.total_seconds * 1000.0 / writes.count : 0.0;
    const double max_ms = writes.max_seconds * 1000.0;
    char latency[96];
    std::snprintf(latency, sizeof latency, "%llu writes (mean %.1f ms, max %.1f ms)",
                  static_cast<unsigned long long>(writes.count), mean_ms, max_ms);
    const std::string text =
        with_commas(m_consumed) + " consumed, " + with_commas(persisted) + " persisted (" +
        with_commas(static_cast<std::uint64_t>(rate)) + "/s), " + with_commas(m_duplicates) +
        " duplicates, " + with_commas(m_dead_lettered) + " dead letters, lag " +
        (lag >= 0 ? with_commas(static_cast<std::uint64_t>(lag)) : std::string("unknown")) +
        ", " + with_commas(static_cast<std::uint64_t>(in_process)) + " in process, " + latency;
    log::Fields fields = {{"consumed", static_cast<std::int64_t>(m_consumed)},
                          {"persisted", static_cast<std::int64_t>(persisted)},
                          {"persisted_per_second", rate},
                          {"duplicates", static_cast<std::int64_t>(m_duplicates.load())},
                          {"dead_letters", static_cast<std::int64_t>(m_dead_lettered.load())},
                          {"expired", static_cast<std::int64_t>(m_expired.load())},
                          {"in_process", in_process},
                          {"writes", static_cast<std::int64_t>(writes.count)},
                          {"write_mean_ms", mean_ms},
                          {"write_max_ms", max_ms}};
    if (lag >= 0) fields.push_back({"lag_messages", lag});  // unknown lag is absent
    log::info("run", text, fields);
    m_last_report = now;
    m_persisted_at_report = persisted;
  }

  void rethrow_failure() {
    if (m_failure) std::rethrow_exception(m_failure);
    if (auto error = m_stage->error()) std::rethrow_exception(error);
  }

  // --- the store side (writer thread) ---------------------------------------

  void on_written(const pipeline::Batch& batch, const pipeline::BatchOutcome& outcome) {
    const core::TimestampMs now = core::now_ms();
    m_metrics.written(batch, outcome, now);
    m_last_commit_ms = now;
    {
      std::lock_guard lock(m_write_times_mutex);
      m_write_times.count += 1;
      m_write_times.total_seconds += outcome.transaction_seconds;
      m_write_times.max_seconds = std::max(m_write_times.max_seconds, outcome.transaction_seconds);
    }
    if (log::enabled(log::Level::debug))
      log::debug("run",
                 "wrote a batch of " + std::to_string(batch.messages.size()) + " messages in " +
                     std::to_string(static_cast<std::int64_t>(outcome.transaction_seconds * 1000)) +
                     " ms",
                 {{"messages", static_cast<std::int64_t>(batch.messages.size())},
                  {"partitions", static_cast<std::int64_t>(batch.offsets.size())},
                  {"write_ms", outcome.transaction_seconds * 1000.0}});
    {
      std::lock_guard lock(m_inflight_mutex);
      if (!m_inflight.empty()) m_inflight.pop_front();  // batches are written in order
    }
    {
      std::lock_guard lock(m_health_mutex);
      m_db_error.clear();
      for (const auto& mark : batch.offsets) {
        auto& next = m_persisted_next[{mark.kind, mark.partition.value}];
        next = std::max(next, mark.next.value);
      }
    }
    m_in_process.fetch_sub(batch.messages.size(), std::memory_order_relaxed);
    m_pattern_counts_stale = true;
    if (Clock::now() - m_last_pattern_counts.load() >= k_gauge_interval) count_patterns();
    for (const auto& t : outcome.topics) {
      m_persisted += t.persisted;
      m_duplicates += t.duplicates;
      m_dead_lettered += t.dead_lettered;
      m_expired += t.expired;
    }
    // Only now, with the batch durable, tell Kafka (for lag tools).
    PartitionList commit;
    for (const auto& mark : batch.offsets)
      commit.items.push_back(RdKafka::TopicPartition::create(
          m_config.kafka.topic(mark.kind), mark.partition.value, mark.next.value));
    m_consumer->commitAsync(commit.items);
  }

  // --- librdkafka callbacks (on this thread, from consume()) ----------------

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    const bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
    if (!m_stage) {  // closing after a failure: nothing more is written
      if (cooperative)
        delete consumer->incremental_unassign(partitions);
      else
        consumer->unassign();
      return;
    }
    try {
      if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
        // With a cooperative protocol other partitions may still be in
        // flight; the offsets below must be read with nothing half-written.
        if (!m_stage->idle()) settle();
        resume_from_stored_offsets(partitions);
        if (cooperative)
          check(consumer->incremental_assign(partitions), "assign");
        else
          check(consumer->assign(partitions), "assign");
        if (m_paused) consumer->pause(partitions);
        m_metrics.rebalanced(true);
        {
          std::lock_guard lock(m_health_mutex);
          for (const auto* tp : partitions) {
            const PartitionKey key{kind_of(tp->topic()), tp->partition()};
            m_assigned.insert(key);
            if (tp->offset() >= 0) m_persisted_next[key] = tp->offset();
          }
        }
        log::info("run", "assigned " + std::to_string(partitions.size()) + " partitions",
                  {{"partitions", static_cast<std::int64_t>(partitions.size())}});
      } else {
        if (err != RdKafka::ERR__REVOKE_PARTITIONS)
          log::error("run", "rebalance error: " + RdKafka::err2str(err));
        // Everything consumed is written before the partitions go.
        settle();
        if (cooperative)
          check(consumer->incremental_unassign(partitions), "unassign");
        else
          check(consumer->unassign(), "unassign");
        m_metrics.rebalanced(false);
        {
          std::lock_guard lock(m_health_mutex);
          for (const auto* tp : partitions) {
            const PartitionKey key{kind_of(tp->topic()), tp->partition()};
            m_assigned.erase(key);
            m_persisted_next.erase(key);
            m_metrics.forget_partition(key.first, key.second);
          }
        }
        log::info("run", "revoked " + std::to_string(partitions.size()) + " partitions",
                  {{"partitions", static_cast<std::int64_t>(partitions.size())}});
      }
    } catch (...) {
      // Never through librdkafka's C frames: the loop rethrows it.
      if (!m_failure) m_failure = std::current_exception();
    }
  }

  void resume_from_stored_offsets(std::vector<RdKafka::TopicPartition*>& partitions) {
    for (auto* tp : partitions) {
      try {
        if (auto next = store::stored_offset(m_db, tp->topic(), tp->partition()))
          tp->set_offset(*next);
      } catch (const std::exception& e) {
        // Kafka's committed offset never passes the database's: resuming
        // from it may read again, never skip.
        log::warn("run",
                  "cannot read the stored offset of " + tp->topic() + "[" +
                      std::to_string(tp->partition()) + "] (" + e.what() +
                      "); resuming from the group's committed offset",
                  {{"topic", tp->topic()}, {"partition", std::int64_t{tp->partition()}}});
      }
    }
  }

  static void check(RdKafka::ErrorCode err, const char* what) {
    if (err != RdKafka::ERR_NO_ERROR)
      throw std::runtime_error(std::string("kafka: cannot ") + what + ": " +
                               RdKafka::err2str(err));
  }

  static void check(RdKafka::Error* error, const char* what) {
    if (error == nullptr) return;
    const std::string text = error->str();
    delete error;
    throw std::runtime_error(std::string("kafka: cannot ") + what + ": " + text);
  }

  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_STATS) {
      note_broker_states(event.str());
    } else if (event.type() == RdKafka::Event::EVENT_ERROR) {
      if (event.err() == RdKafka::ERR__ALL_BROKERS_DOWN) m_broker_up = 0;
      log::write(event.fatal() ? log::Level::error : log::Level::warn, "run",
                 "kafka: " + RdKafka::err2str(event.err()) + ": " + event.str(),
                 {{"kafka_error", RdKafka::err2str(event.err())}});
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
    m_broker_up = up ? 1 : 0;
  }

  // Distinct patterns stored, for patternd_patterns: on the writer thread
  // while it writes (once a second), on this thread once it is idle.
  void count_patterns() {
    m_last_pattern_counts = Clock::now();
    m_pattern_counts_stale = false;
    try {
      m_metrics.set_patterns(
          m_db.sql().execAndGet("SELECT count(*) FROM operation_patterns").getInt64(),
          m_db.sql().execAndGet("SELECT count(*) FROM failure_patterns").getInt64());
    } catch (const std::exception&) {
      m_pattern_counts_stale = true;  // a gauge: tried again later
    }
  }

  core::TopicKind kind_of(const std::string& topic) const {
    // Subscribed to exactly the configured topics: every message has a kind.
    return m_config.kafka.kind_of(topic).value_or(core::TopicKind::workflows);
  }

  // --- gauges and readiness ---------------------------------------------------

  // Once a second on this thread: lag per partition, queue depth, database
  // size, readiness.
  void update_gauges() {
    m_last_gauges = Clock::now();
    const core::TimestampMs now = core::now_ms();
    std::map<PartitionKey, core::TimestampMs> oldest(m_forming_first.begin(),
                                                     m_forming_first.end());
    {
      std::lock_guard lock(m_inflight_mutex);
      for (const auto& batch : m_inflight)
        for (const auto& [key, ts] : batch.first) {
          auto [it, fresh] = oldest.try_emplace(key, ts);
          if (!fresh) it->second = std::min(it->second, ts);
        }
    }
    std::int64_t total_lag = 0;
    bool lag_known = false;
    {
      std::lock_guard lock(m_health_mutex);
      for (const auto& key : m_assigned) {
        std::int64_t low = -1, high = -1;
        m_consumer->get_watermark_offsets(m_config.kafka.topic(key.first), key.second, &low,
                                          &high);
        const auto persisted = m_persisted_next.find(key);
        const std::int64_t next = persisted != m_persisted_next.end() ? persisted->second : low;
        std::optional<std::int64_t> lag;
        if (high >= 0 && next >= 0) lag = std::max<std::int64_t>(0, high - next);
        std::optional<double> age;
        if (auto it = oldest.find(key); it != oldest.end())
          age = static_cast<double>(std::max<core::TimestampMs>(0, now - it->second)) / 1000.0;
        else if (lag && *lag == 0)
          age = 0.0;
        m_metrics.set_lag(key.first, key.second, lag, age);
        if (lag) {
          total_lag += *lag;
          lag_known = true;
        }
      }
    }
    m_total_lag = lag_known ? total_lag : -1;
    m_metrics.set_queue_depth(m_in_process.load(std::memory_order_relaxed));
    // The store's connection is free while it is idle (only this thread
    // gives it work).
    if (m_pattern_counts_stale && m_stage->idle()) count_patterns();
    m_metrics.set_db_size(file_size(m_db.path()) + file_size(m_db.path() + "-wal"));
    m_metrics.set_ready(readiness().ready);
  }

 public:
  metrics::Readiness readiness() const {
    nlohmann::json reasons = nlohmann::json::array();
    const bool stopping = m_stop.load(std::memory_order_relaxed);
    if (stopping) reasons.push_back("shutting down");
    const int broker = m_broker_up.load();
    if (broker == 0) reasons.push_back("broker: no connection to any broker");
    if (broker < 0) reasons.push_back("broker: not connected yet");
    std::string db_error;
    std::size_t assigned = 0;
    {
      std::lock_guard lock(m_health_mutex);
      db_error = m_db_error;
      assigned = m_assigned.size();
    }
    if (!db_error.empty()) reasons.push_back("database: not taking writes (" + db_error + ")");
    const std::int64_t lag = m_total_lag.load();
    const std::int64_t since_commit = core::now_ms() - m_last_commit_ms.load();
    if (lag > 0 && since_commit > k_stalled_after_ms)
      reasons.push_back("stalled: " + std::to_string(lag) + " messages behind and nothing " +
                        "committed for " + std::to_string(since_commit / 1000) + " s");
    nlohmann::json body = {
        {"ready", reasons.empty()},
        {"reasons", reasons},
        {"assigned_partitions", assigned},
        {"seconds_since_last_commit", since_commit / 1000.0},
        {"rules_version_matches_database", m_rules_match},
    };
    if (lag >= 0) body["lag_messages"] = lag;
    return {reasons.empty(), body.dump()};
  }

 private:

  const config::Config& m_config;
  store::Database& m_db;
  metrics::Metrics& m_metrics;
  const std::atomic<bool>& m_stop;
  const bool m_rules_match;
  pipeline::Processor m_processor;
  store::BatchWriter m_writer;
  store::Checkpointer m_checkpointer;  // outlives m_stage, whose commits wake it
  const std::size_t m_max_messages;
  const milliseconds m_max_wait;
  const std::chrono::seconds m_report_interval;

  std::unique_ptr<RdKafka::KafkaConsumer> m_consumer;
  std::unique_ptr<store::WriteStage> m_stage;
  pipeline::Batch m_forming;
  Clock::time_point m_forming_since;
  std::optional<pipeline::Batch> m_ready;
  bool m_paused = false;
  std::exception_ptr m_failure;

  Clock::time_point m_last_report, m_last_gauges;
  std::atomic<Clock::time_point> m_last_pattern_counts{Clock::time_point{}};
  std::atomic<bool> m_pattern_counts_stale{true};
  std::map<PartitionKey, core::TimestampMs> m_forming_first;  // consumer thread only
  std::mutex m_inflight_mutex;
  std::deque<InFlight> m_inflight;  // closed batches not yet written, oldest first
  std::atomic<std::int64_t> m_in_process{0};  // fetched, not yet persisted
  mutable std::mutex m_health_mutex;
  std::set<PartitionKey> m_assigned;
  std::map<PartitionKey, std::int64_t> m_persisted_next;
  std::string m_db_error;  // the last transient error while the store is failing
  std::atomic<int> m_broker_up{-1};  // -1 unknown yet, 0 down, 1 up
  std::atomic<std::int64_t> m_total_lag{-1};
  std::atomic<core::TimestampMs> m_last_commit_ms{0};
  std::mutex m_write_times_mutex;
  WriteTimes m_write_times;  // since the last summary line
  std::uint64_t m_consumed = 0;
  std::uint64_t m_persisted_at_report = 0;
  std::atomic<std::uint64_t> m_persisted{0}, m_duplicates{0}, m_dead_lettered{0}, m_expired{0};
};

Worker::Worker(const config::Config& config, const detect::Rules& rules, store::Database& db,
               metrics::Metrics& metrics, const std::atomic<bool>& stop, bool rules_match)
    : m_impl(std::make_unique<Impl>(config, rules, db, metrics, stop, rules_match)) {}

Worker::~Worker() = default;

void Worker::run() { m_impl->run(); }

metrics::Readiness Worker::readiness() const { return m_impl->readiness(); }

}  // namespace patternd::kafka
