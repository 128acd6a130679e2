#include "runner/write_stage.hpp"

namespace patternd::runner {

using store::ErrorKind;
using store::StoreError;

using Clock = std::chrono::steady_clock;

WriteStage::WriteStage(store::Store& store, std::size_t capacity, OnWritten on_written,
                       OnRetry on_retry)
    : m_store(store),
      m_capacity(capacity),
      m_on_written(std::move(on_written)),
      m_on_retry(std::move(on_retry)),
      m_thread([this] { loop(); }) {}

WriteStage::~WriteStage() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    m_abandon = true;
  }
  m_changed.notify_all();
  m_thread.join();
}

bool WriteStage::try_submit(pipeline::Batch& batch, std::chrono::milliseconds wait) {
  std::unique_lock lock(m_mutex);
  if (!m_changed.wait_for(lock, wait, [&] { return m_queue.size() < m_capacity || m_error; }) ||
      m_error)
    return false;
  m_queue.push_back(std::move(batch));
  m_changed.notify_all();
  return true;
}

void WriteStage::submit(pipeline::Batch batch) {
  std::lock_guard lock(m_mutex);
  m_queue.push_back(std::move(batch));
  m_changed.notify_all();
}

std::vector<pipeline::Batch> WriteStage::drain(std::chrono::milliseconds patience) {
  std::unique_lock lock(m_mutex);
  auto last_progress = Clock::now();
  std::uint64_t commits = m_commits;
  while (!(m_queue.empty() && !m_writing) && !m_error) {
    if (m_commits != commits) {
      commits = m_commits;
      last_progress = Clock::now();
    } else if (Clock::now() - last_progress >= patience) {
      break;
    }
    m_changed.wait_for(lock, std::chrono::milliseconds(50));
  }
  std::vector<pipeline::Batch> abandoned;
  if (m_queue.empty() && !m_writing) return abandoned;
  // Give up on the batch being written or retried and the queued ones,
  // oldest first. A write waiting inside SQLite is cut short.
  m_abandon = true;
  m_changed.notify_all();
  m_store.interrupt();
  m_changed.wait(lock, [&] { return !m_writing; });
  m_store.resume();
  if (m_current_abandoned) abandoned.push_back(std::move(m_current));
  m_current_abandoned = false;
  for (auto& batch : m_queue) abandoned.push_back(std::move(batch));
  m_queue.clear();
  m_abandon = m_stopping;
  return abandoned;
}

bool WriteStage::idle() const {
  std::lock_guard lock(m_mutex);
  return m_queue.empty() && !m_writing;
}

std::exception_ptr WriteStage::error() const {
  std::lock_guard lock(m_mutex);
  return m_error;
}

bool WriteStage::wait_before_retry(std::chrono::milliseconds delay) {
  std::unique_lock lock(m_mutex);
  return !m_changed.wait_for(lock, delay, [&] { return m_abandon; });
}

void WriteStage::loop() {
  for (;;) {
    {
      std::unique_lock lock(m_mutex);
      // While drain() is abandoning, the queue is its to empty.
      m_changed.wait(lock, [&] { return (!m_queue.empty() && !m_abandon) || m_stopping; });
      if (m_stopping) return;
      m_current = std::move(m_queue.front());
      m_queue.pop_front();
      m_writing = true;
      m_changed.notify_all();  // room in the queue
    }
    bool abandoned = false;
    bool given_up = false;
    std::exception_ptr error;
    try {
      const pipeline::BatchOutcome outcome = m_store.write_retrying(
          m_current, [&](const StoreError& e, std::chrono::milliseconds delay) {
            if (!m_on_retry(e, delay)) {
              given_up = true;
              return false;
            }
            return wait_before_retry(delay);
          });
      m_on_written(m_current, outcome);
    } catch (const StoreError& e) {
      // A transient error that escaped the retries: the batch was abandoned
      // (drain() gave up on it), unless the retries were given up.
      abandoned = e.kind() == ErrorKind::transient && !given_up;
      if (!abandoned) error = std::current_exception();
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(m_mutex);
    if (!abandoned) m_current.clear();
    if (!abandoned && !error) ++m_commits;
    m_current_abandoned = abandoned;
    m_writing = false;
    m_error = error;
    m_changed.notify_all();
    if (m_error) return;
  }
}

}  // namespace patternd::runner
