#include "metrics/health.hpp"

#include <nlohmann/json.hpp>

namespace patternd::metrics {

Health::Health(const std::atomic<bool>& stop, bool rules_match)
    : m_stop(stop), m_rules_match(rules_match), m_last_commit_ms(core::now_ms()) {}

void Health::assigned(const core::TopicPartition& partition, std::optional<std::int64_t> next) {
  std::lock_guard lock(m_mutex);
  m_assigned[partition] = next;
}

void Health::revoked(const core::TopicPartition& partition) {
  std::lock_guard lock(m_mutex);
  m_assigned.erase(partition);
}

void Health::committed(const core::TopicPartition& partition, std::int64_t next,
                       core::TimestampMs now) {
  m_last_commit_ms = now;
  std::lock_guard lock(m_mutex);
  // A partition revoked meanwhile is not brought back.
  if (auto it = m_assigned.find(partition); it != m_assigned.end())
    it->second = std::max(it->second.value_or(next), next);
}

void Health::database_failing(std::string error) {
  std::lock_guard lock(m_mutex);
  m_db_error = std::move(error);
}

void Health::brokers_up(bool up) { m_broker_up = up ? 1 : 0; }

void Health::set_total_lag(std::optional<std::int64_t> lag) { m_total_lag = lag.value_or(-1); }

std::map<core::TopicPartition, std::optional<std::int64_t>> Health::partitions() const {
  std::lock_guard lock(m_mutex);
  return m_assigned;
}

std::optional<std::int64_t> Health::total_lag() const {
  const std::int64_t lag = m_total_lag.load();
  if (lag < 0) return std::nullopt;
  return lag;
}

Readiness Health::readiness() const {
  nlohmann::json reasons = nlohmann::json::array();
  if (m_stop.load(std::memory_order_relaxed)) reasons.push_back("shutting down");
  const int broker = m_broker_up.load();
  if (broker == 0) reasons.push_back("broker: no connection to any broker");
  if (broker < 0) reasons.push_back("broker: not connected yet");
  std::string db_error;
  std::size_t assigned = 0;
  {
    std::lock_guard lock(m_mutex);
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

}  // namespace patternd::metrics
