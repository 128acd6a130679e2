#pragma once
// The worker behind `patternd run`: both topics in one consumer group, the
// same pipeline as `ingest`, exactly-once effect through offsets stored in
// each batch's own transaction.
//
// Two threads. This one polls librdkafka, forms batches and decodes them
// (decode -> detect); the store stage writes them on its own thread, so the
// two overlap. Between them, a queue of one prepared batch.
//
// Batches close at batch.max_messages, at batch.max_wait_ms, or as soon as
// the store is idle and nothing more is waiting in librdkafka: small batches
// (low latency) when caught up, full ones while a backlog is drained.
//
// Memory stays bounded however large the backlog: at most one batch being
// written, one queued, one prepared and one forming, plus librdkafka's own
// pre-fetch queue (left at its size, which sustains the throughput; shrinking
// it stalls fetching, see PERF-NOTES). When the store cannot take a batch for
// a second (a database outage), all partitions are paused, which empties
// librdkafka's queue and stops fetching, while polling goes on so the worker
// stays in the group; they resume when the store takes batches again.
//
// Rebalances: before partitions are revoked (and before new ones are
// assigned), everything consumed so far is written, so the next owner
// resumes from stored offsets with nothing in flight. If the database keeps
// failing meanwhile, the unwritten batches are abandoned instead: nothing of
// them is stored, so their messages are read again.

#include <atomic>
#include <cstdint>
#include <memory>

#include "config/config.hpp"
#include "detect/rules.hpp"
#include "metrics/http_server.hpp"
#include "metrics/metrics.hpp"
#include "store/database.hpp"

namespace patternd::kafka {

class Worker {
 public:
  // `stop` is watched by run() and by readiness() (503 from the moment
  // shutdown begins); `rules_match`: the stored rules version is ours.
  Worker(const config::Config& config, const detect::Rules& rules, store::Database& db,
         metrics::Metrics& metrics, const std::atomic<bool>& stop, bool rules_match);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Consumes until `stop` is set, then writes what was consumed and leaves
  // the group. Throws on a fatal database error or a bad Kafka setting.
  void run();

  // For GET /readyz, from any thread: ready when it holds an assignment or
  // waits for one with a broker up, the database takes writes, it is making
  // progress (not behind with nothing committed for 60 s) and not stopping.
  metrics::Readiness readiness() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace patternd::kafka
