#pragma once
// The one runner behind `run`, `ingest` and `dead-letters replay`: a source
// feeds batches (pipeline::Batcher) that are decoded and detected on this
// thread (pipeline::Processor) and written by the store on a thread of its
// own (WriteStage), so that reading the next batch overlaps writing this one.
// Acknowledgements flow back to the source only after a batch is durable.
//
// Memory stays bounded: one batch forming, one prepared, `queue` waiting and
// one being written. When the store refuses batches for a while (a database
// outage), the source is paused until it takes them again.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "pipeline/batcher.hpp"
#include "pipeline/observer.hpp"
#include "pipeline/processor.hpp"
#include "runner/write_stage.hpp"
#include "source/source.hpp"
#include "store/store.hpp"

namespace patternd::runner {

using source::Flow;
using source::Source;

struct Options {
  std::size_t max_messages = 2000;
  std::chrono::milliseconds max_wait{100};
  std::size_t queue = 1;  // batches waiting for the store besides the one being written
  // How long the store may refuse a batch before the source is paused.
  std::chrono::milliseconds stall_before_pause{1000};
  // How long settling waits with nothing committing before it abandons the
  // unwritten batches (a Kafka rebalance or SIGTERM must not wait for long).
  std::chrono::milliseconds patience{3000};
  // How long one poll may block while nothing is forming.
  std::chrono::milliseconds idle_poll{100};
};

class Runner final : public Flow {
 public:
  Runner(const Options& options, pipeline::Processor& processor, store::Store& store,
         pipeline::Observer& observer);
  ~Runner() override;

  // Runs until the source ends or `stop` is set, then writes what was
  // consumed. Throws what stopped the store (a fatal error, retries given
  // up) or the source.
  void run(Source& source, const std::atomic<bool>& stop);

  void settle() override;
  bool store_idle() const override;

 private:
  void close_batch();
  bool offer_ready();
  void set_paused(bool paused);
  void rethrow_failure() const;

  const Options m_options;
  pipeline::Processor& m_processor;
  store::Store& m_store;
  pipeline::Observer& m_observer;
  pipeline::Batcher m_batcher;
  Source* m_source = nullptr;  // during run()
  std::unique_ptr<WriteStage> m_stage;
  std::optional<pipeline::Batch> m_ready;  // prepared, waiting for room in the stage
  bool m_paused = false;
};

}  // namespace patternd::runner
