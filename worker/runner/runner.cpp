#include "runner/runner.hpp"

#include "core/time.hpp"

namespace patternd::runner {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Runner::Runner(const Options& options, pipeline::Processor& processor, store::Store& store,
               pipeline::Observer& observer)
    : m_options(options),
      m_processor(processor),
      m_store(store),
      m_observer(observer),
      m_batcher(options.max_messages, options.max_wait) {}

Runner::~Runner() = default;

void Runner::run(Source& source, const std::atomic<bool>& stop) {
  m_source = &source;
  m_stage = std::make_unique<WriteStage>(
      m_store, m_options.queue,
      [this](const pipeline::Batch& batch, const pipeline::BatchOutcome& outcome) {
        m_source->written(batch, outcome);
        m_observer.batch_written(batch, outcome);
      },
      [this](const store::StoreError& e, milliseconds delay) {
        return m_observer.write_retry(e.label(), e.what(), delay);
      });
  try {
    bool ended = false;
    while (!ended && !stop.load(std::memory_order_relaxed)) {
      rethrow_failure();
      source.tick();
      if (m_ready && !offer_ready()) {
        source.keep_alive(*this, m_batcher.forming(), m_options.idle_poll);
        m_batcher.added(Clock::now());
        continue;
      }
      const milliseconds timeout =
          m_batcher.poll_timeout(m_stage->idle(), Clock::now(), m_options.idle_poll);
      const Source::Poll got = source.poll(*this, m_batcher.forming(), m_batcher.room(), timeout);
      const auto now = Clock::now();
      if (got == Source::Poll::messages) m_batcher.added(now);
      ended = got == Source::Poll::end;
      if (ended ? !m_batcher.empty()
                : m_batcher.should_close(got == Source::Poll::messages, m_stage->idle(), now))
        close_batch();
    }
    settle();
    rethrow_failure();
  } catch (...) {
    // Nothing more is written; what was not is read again by the next owner
    // (or the next run of the same command).
    m_stage.reset();
    m_source = nullptr;
    throw;
  }
  m_stage.reset();
  m_source = nullptr;
}

bool Runner::store_idle() const { return !m_stage || m_stage->idle(); }

// decode -> detect on this thread; the batch then waits in m_ready.
void Runner::close_batch() {
  pipeline::Batch batch = m_batcher.take();
  m_source->closing(batch);
  m_processor.prepare(batch, core::now_ms());
  m_source->decoded(batch);
  m_observer.batch_closed(batch);
  m_ready.emplace(std::move(batch));
}

// Hands m_ready to the store; true when it took it. While the store keeps
// refusing, the source is paused (and resumed once it takes one).
bool Runner::offer_ready() {
  if (m_stage->try_submit(*m_ready, m_paused ? milliseconds(0) : m_options.stall_before_pause)) {
    m_ready.reset();
    if (m_paused) set_paused(false);
    return true;
  }
  if (!m_paused) set_paused(true);
  return false;
}

void Runner::set_paused(bool paused) {
  m_source->pause(paused);
  m_paused = paused;
  if (paused)
    m_observer.paused();
  else
    m_observer.resumed();
}

void Runner::settle() {
  if (!m_stage) return;  // not running (a revocation while closing)
  if (m_ready) {
    m_stage->submit(std::move(*m_ready));
    m_ready.reset();
  }
  if (!m_batcher.empty()) {
    close_batch();
    m_stage->submit(std::move(*m_ready));
    m_ready.reset();
  }
  const std::vector<pipeline::Batch> abandoned = m_stage->drain(m_options.patience);
  if (m_paused) set_paused(false);
  if (!abandoned.empty()) {
    std::size_t messages = 0;
    for (const auto& batch : abandoned) messages += batch.messages.size();
    m_source->abandoned(abandoned);
    m_observer.abandoned(messages);
  }
}

void Runner::rethrow_failure() const {
  if (auto error = m_stage->error()) std::rethrow_exception(error);
}

}  // namespace patternd::runner
