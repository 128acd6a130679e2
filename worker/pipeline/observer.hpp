#pragma once
// What the runner tells whoever watches it (the worker's metrics and logs,
// a backfill's progress lines): one call per thing that happens. Default
// implementations do nothing.
//
// Thread: batch_closed, paused, resumed and abandoned on the runner's
// thread; batch_written and write_retry on the store's writer thread.

#include <chrono>
#include <cstddef>
#include <string_view>

#include "pipeline/batch.hpp"
#include "pipeline/outcome.hpp"

namespace patternd::pipeline {

class Observer {
 public:
  virtual ~Observer() = default;

  // A batch was decoded and detected and goes to the store.
  virtual void batch_closed(const Batch&) {}
  // A batch is durable (its transaction committed).
  virtual void batch_written(const Batch&, const BatchOutcome&) {}
  // The store failed transiently (`kind`: a short label such as `busy`); the
  // same batch is tried again after `delay` unless this returns false, which
  // gives up (the run fails).
  virtual bool write_retry(std::string_view /*kind*/, std::string_view /*error*/,
                           std::chrono::milliseconds /*delay*/) {
    return true;
  }
  // The store stopped taking batches for a while; fetching paused / resumed.
  virtual void paused() {}
  virtual void resumed() {}
  // Nothing could be written for a while: `messages` consumed messages were
  // given up, to be read again.
  virtual void abandoned(std::size_t /*messages*/) {}
};

}  // namespace patternd::pipeline
