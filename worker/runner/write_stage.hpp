#pragma once
// The store stage of the runner: a Store writing on a thread of its own, fed
// through a short queue of prepared batches, so that consuming and decoding
// the next batch overlaps with writing this one.
//
// Batches are written in the order submitted. After each commit `on_written`
// runs on the writer thread (the Kafka offset commit, counters). Transient
// database errors are retried with backoff until the database recovers or
// the caller abandons the queued work (abandoning is always safe: nothing of
// an unwritten batch is in the database, its offsets included, so its
// messages are read again by whoever owns the partitions next).
//
// A fatal error (or a retry given up) stops the stage; error() then holds it.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "pipeline/batch.hpp"
#include "pipeline/outcome.hpp"
#include "store/store.hpp"

namespace patternd::runner {

class WriteStage {
 public:
  using OnWritten = std::function<void(const pipeline::Batch&, const pipeline::BatchOutcome&)>;
  // Before each retry of a transient error; false gives up (the stage stops
  // with that error).
  using OnRetry = std::function<bool(const store::StoreError&, std::chrono::milliseconds delay)>;

  // `capacity`: how many batches may wait besides the one being written.
  WriteStage(store::Store& store, std::size_t capacity, OnWritten on_written, OnRetry on_retry);
  ~WriteStage();  // abandons what is queued, finishes the write in progress, joins
  WriteStage(const WriteStage&) = delete;
  WriteStage& operator=(const WriteStage&) = delete;

  // Queues the batch (moving from it) if there is room within `wait`;
  // false (batch untouched) if the queue stayed full.
  bool try_submit(pipeline::Batch& batch, std::chrono::milliseconds wait);

  // Queues the batch whatever the queue holds: for the last batches before a
  // revocation or shutdown, which are drained right after.
  void submit(pipeline::Batch batch);

  // Waits until every submitted batch is written. If nothing commits for
  // `patience` meanwhile (the database failing, or a write waiting for
  // another process's lock), the write in progress is interrupted and it and
  // the queued batches are abandoned instead, and returned (their messages
  // must be read again). So a drain never takes much longer than `patience`
  // past the last commit, whatever the busy timeout.
  std::vector<pipeline::Batch> drain(std::chrono::milliseconds patience);

  bool idle() const;                 // nothing queued, nothing being written
  std::exception_ptr error() const;  // a fatal error that stopped the stage

 private:
  void loop();
  bool wait_before_retry(std::chrono::milliseconds delay);

  store::Store& m_store;
  const std::size_t m_capacity;
  const OnWritten m_on_written;
  const OnRetry m_on_retry;

  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<pipeline::Batch> m_queue;
  pipeline::Batch m_current;  // the batch being written (only the writer touches it then)
  bool m_writing = false;
  bool m_current_abandoned = false;  // m_current was given up: drain() takes it
  std::uint64_t m_commits = 0;       // batches written so far
  bool m_abandon = false;
  bool m_stopping = false;
  std::exception_ptr m_error;
  std::thread m_thread;
};

}  // namespace patternd::runner
