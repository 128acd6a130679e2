#include "metrics/events.hpp"

#include <cstdio>

#include "core/format.hpp"
#include "core/log.hpp"

namespace patternd::metrics {

using core::with_commas;

namespace {

std::int64_t i64(std::uint64_t n) { return static_cast<std::int64_t>(n); }

}  // namespace

WorkerEvents::WorkerEvents(Metrics& metrics, Health& health)
    : m_metrics(metrics), m_health(health), m_last_summary(std::chrono::steady_clock::now()) {}

void WorkerEvents::batch_closed(const pipeline::Batch& batch) {
  core::PerKind<std::uint64_t> by_kind{};
  for (const auto& m : batch.messages) ++by_kind[core::index_of(m.source.kind)];
  for (const auto& k : core::k_stream_kinds)
    if (by_kind[core::index_of(k.kind)] > 0)
      m_metrics.consumed(k.kind, by_kind[core::index_of(k.kind)]);
  m_consumed += batch.messages.size();
  m_in_process.fetch_add(static_cast<std::int64_t>(batch.messages.size()));
}

void WorkerEvents::batch_written(const pipeline::Batch& batch,
                                 const pipeline::BatchOutcome& outcome) {
  const core::TimestampMs now = core::now_ms();
  m_metrics.written(batch, outcome, now);
  m_health.database_failing("");  // it takes writes again
  for (const auto& mark : batch.offsets)
    m_health.committed({mark.kind, mark.partition}, mark.next.value, now);
  {
    std::lock_guard lock(m_summary_mutex);
    ++m_writes;
    m_write_seconds += outcome.transaction_seconds;
    m_write_max_seconds = std::max(m_write_max_seconds, outcome.transaction_seconds);
  }
  for (const auto& t : outcome.topics) {
    m_persisted += t.persisted;
    m_duplicates += t.duplicates;
    m_dead_lettered += t.dead_lettered;
    m_expired += t.expired;
  }
  m_in_process.fetch_sub(static_cast<std::int64_t>(batch.messages.size()));
  if (log::enabled(log::Level::debug))
    log::debug("run",
               "wrote a batch of " + std::to_string(batch.messages.size()) + " messages in " +
                   std::to_string(static_cast<std::int64_t>(outcome.transaction_seconds * 1000)) +
                   " ms",
               {{"messages", static_cast<std::int64_t>(batch.messages.size())},
                {"partitions", static_cast<std::int64_t>(batch.offsets.size())},
                {"write_ms", outcome.transaction_seconds * 1000.0}});
}

bool WorkerEvents::write_retry(std::string_view kind, std::string_view error,
                               std::chrono::milliseconds delay) {
  m_metrics.db_error(kind);
  m_health.database_failing(std::string(error));
  log::warn("run",
            "database unavailable (" + std::string(error) + "); retrying in " +
                std::to_string(delay.count()) + " ms",
            {{"error", std::string(error)},
             {"error_kind", std::string(kind)},
             {"retry_in_ms", static_cast<std::int64_t>(delay.count())}});
  return true;  // the worker retries until the database recovers
}

void WorkerEvents::paused() {
  log::warn("run", "the store is not taking batches (see above): fetching paused");
}

void WorkerEvents::resumed() {
  log::info("run", "the store is taking batches again: fetching resumed");
}

void WorkerEvents::abandoned(std::size_t messages) {
  m_in_process.fetch_sub(static_cast<std::int64_t>(messages));
  log::warn("run",
            "nothing could be committed for 3 s: " + with_commas(messages) +
                " consumed messages were not written; they will be read again",
            {{"abandoned_messages", static_cast<std::int64_t>(messages)}});
}

void WorkerEvents::assigned(const std::vector<core::TopicPartition>& partitions,
                            const std::vector<std::optional<std::int64_t>>& next_offsets) {
  for (std::size_t i = 0; i < partitions.size(); ++i)
    m_health.assigned(partitions[i], next_offsets[i]);
  m_metrics.rebalanced(true);
  log::info("run", "assigned " + std::to_string(partitions.size()) + " partitions",
            {{"partitions", static_cast<std::int64_t>(partitions.size())}});
}

void WorkerEvents::revoked(const std::vector<core::TopicPartition>& partitions) {
  for (const auto& p : partitions) {
    m_health.revoked(p);
    m_metrics.forget_partition(p.kind, p.partition.value);
  }
  m_metrics.rebalanced(false);
  log::info("run", "revoked " + std::to_string(partitions.size()) + " partitions",
            {{"partitions", static_cast<std::int64_t>(partitions.size())}});
}

void WorkerEvents::kafka_error(bool fatal, const std::string& code, const std::string& text,
                               bool all_brokers_down) {
  if (all_brokers_down) m_health.brokers_up(false);
  log::write(fatal ? log::Level::error : log::Level::warn, "run", "kafka: " + code + ": " + text,
             {{"kafka_error", code}});
}

void WorkerEvents::brokers_up(bool up) { m_health.brokers_up(up); }

void WorkerEvents::rewind_failed(const std::string& error) { log::error("run", error); }

void WorkerEvents::dead_letter_not_produced(const std::string& topic, const std::string& error) {
  // The letter is in the dead_letters table either way.
  log::warn("run", "cannot produce a dead letter to " + topic + " (" + error + ")",
            {{"topic", topic}, {"error", error}});
}

void WorkerEvents::stored_offset_unreadable(const core::TopicPartition& partition,
                                            const std::string& topic, const std::string& error) {
  // Kafka's committed offset never passes the database's: resuming from it
  // may read again, never skip.
  log::warn("run",
            "cannot read the stored offset of " + topic + "[" +
                std::to_string(partition.partition.value) + "] (" + error +
                "); resuming from the group's committed offset",
            {{"topic", topic}, {"partition", std::int64_t{partition.partition.value}}});
}

void WorkerEvents::gauges(const std::vector<PartitionLag>& lags, std::int64_t db_size_bytes) {
  std::int64_t total = 0;
  bool known = false;
  for (const auto& lag : lags) {
    m_metrics.set_lag(lag.partition.kind, lag.partition.partition.value, lag.messages, lag.seconds);
    if (lag.messages) {
      total += *lag.messages;
      known = true;
    }
  }
  m_health.set_total_lag(known ? std::optional<std::int64_t>(total) : std::nullopt);
  m_metrics.set_queue_depth(std::max<std::int64_t>(0, m_in_process.load()));
  m_metrics.set_db_size(db_size_bytes);
  m_metrics.set_ready(m_health.readiness().ready);
}

void WorkerEvents::summary() {
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - m_last_summary).count();
  const std::uint64_t persisted = m_persisted;
  const auto rate = static_cast<std::int64_t>(
      static_cast<double>(persisted - m_persisted_at_summary) / std::max(seconds, 1e-3));
  const std::optional<std::int64_t> lag = m_health.total_lag();
  const std::int64_t in_process = std::max<std::int64_t>(0, m_in_process.load());
  std::uint64_t writes = 0;
  double total_seconds = 0, max_seconds = 0;
  {
    std::lock_guard lock(m_summary_mutex);
    std::swap(writes, m_writes);
    std::swap(total_seconds, m_write_seconds);
    std::swap(max_seconds, m_write_max_seconds);
  }
  const double mean_ms = writes > 0 ? total_seconds * 1000.0 / static_cast<double>(writes) : 0.0;
  const double max_ms = max_seconds * 1000.0;
  char latency[96];
  std::snprintf(latency, sizeof latency, "%llu writes (mean %.1f ms, max %.1f ms)",
                static_cast<unsigned long long>(writes), mean_ms, max_ms);
  const std::string text =
      with_commas(m_consumed) + " consumed, " + with_commas(persisted) + " persisted (" +
      with_commas(static_cast<std::uint64_t>(rate)) + "/s), " + with_commas(m_duplicates) +
      " duplicates, " + with_commas(m_dead_lettered) + " dead letters, lag " +
      (lag ? with_commas(static_cast<std::uint64_t>(*lag)) : std::string("unknown")) + ", " +
      with_commas(static_cast<std::uint64_t>(in_process)) + " in process, " + latency;
  log::Fields fields = {{"consumed", i64(m_consumed)},
                        {"persisted", i64(persisted)},
                        {"persisted_per_second", rate},
                        {"duplicates", i64(m_duplicates.load())},
                        {"dead_letters", i64(m_dead_lettered.load())},
                        {"expired", i64(m_expired.load())},
                        {"in_process", in_process},
                        {"writes", i64(writes)},
                        {"write_mean_ms", mean_ms},
                        {"write_max_ms", max_ms}};
  if (lag) fields.push_back({"lag_messages", *lag});  // unknown lag is absent
  log::info("run", text, fields);
  m_last_summary = now;
  m_persisted_at_summary = persisted;
}

void WorkerEvents::stopped() {
  log::info("run",
            "stopped after " + with_commas(m_consumed) + " messages (" + with_commas(m_persisted) +
                " persisted, " + with_commas(m_duplicates) + " duplicates, " +
                with_commas(m_dead_lettered) + " dead letters, " + with_commas(m_expired) +
                " expired)",
            {{"consumed", i64(m_consumed)},
             {"persisted", i64(m_persisted.load())},
             {"duplicates", i64(m_duplicates.load())},
             {"dead_letters", i64(m_dead_lettered.load())},
             {"expired", i64(m_expired.load())}});
}

}  // namespace patternd::metrics
