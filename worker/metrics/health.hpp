#pragma once
// The worker's readiness (GET /readyz): ready when it holds an assignment or
// waits for one with a broker up, the database takes writes, it is making
// progress (not behind with nothing committed for 60 s) and not stopping.
// Fed by WorkerEvents; read from any thread.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "core/types.hpp"
#include "metrics/http_server.hpp"

namespace patternd::metrics {

class Health {
 public:
  // `stop` is set when shutdown begins (503 from then on); `rules_match`:
  // the stored rules version is this worker's.
  Health(const std::atomic<bool>& stop, bool rules_match);

  void assigned(const core::TopicPartition& partition, std::optional<std::int64_t> next);
  void revoked(const core::TopicPartition& partition);
  void committed(const core::TopicPartition& partition, std::int64_t next, core::TimestampMs now);
  void database_failing(std::string error);  // "" once it takes writes again
  void brokers_up(bool up);
  void set_total_lag(std::optional<std::int64_t> lag);

  // The assigned partitions with the next offset persisted, if known.
  std::map<core::TopicPartition, std::optional<std::int64_t>> partitions() const;
  std::optional<std::int64_t> total_lag() const;
  Readiness readiness() const;

 private:
  static constexpr std::int64_t k_stalled_after_ms = 60'000;

  const std::atomic<bool>& m_stop;
  const bool m_rules_match;
  mutable std::mutex m_mutex;
  std::map<core::TopicPartition, std::optional<std::int64_t>> m_assigned;  // next persisted
  std::string m_db_error;
  std::atomic<int> m_broker_up{-1};  // -1 unknown yet, 0 down, 1 up
  std::atomic<std::int64_t> m_total_lag{-1};
  std::atomic<core::TimestampMs> m_last_commit_ms;
};

}  // namespace patternd::metrics
