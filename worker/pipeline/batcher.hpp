#pragma once
// When a forming batch closes: at batch.max_messages, at batch.max_wait_ms
// after its first message, or as soon as the store is idle and nothing more
// is waiting — small batches (low latency) when caught up, full ones while a
// backlog drains. Pure: the caller passes the time, so tests never sleep.

#include <chrono>
#include <cstddef>

#include "pipeline/batch.hpp"

namespace patternd::pipeline {

class Batcher {
 public:
  using Clock = std::chrono::steady_clock;

  Batcher(std::size_t max_messages, std::chrono::milliseconds max_wait);

  // The batch being formed: sources append messages to its `messages`, then
  // call added().
  Batch& forming() { return m_forming; }
  std::size_t size() const { return m_forming.messages.size(); }
  bool empty() const { return m_forming.messages.empty(); }
  // How many more messages fit before the batch is full.
  std::size_t room() const { return m_max_messages > size() ? m_max_messages - size() : 0; }

  // Messages were appended at `now` (the first one starts the wait).
  void added(Clock::time_point now);

  // How long a source may block for the next message: not past the batch's
  // deadline, not at all when the store is idle and a batch is forming, and
  // at most `idle_poll` when nothing is forming.
  std::chrono::milliseconds poll_timeout(bool store_idle, Clock::time_point now,
                                         std::chrono::milliseconds idle_poll) const;

  // Full, old enough, or the store is idle and the last poll brought nothing.
  bool should_close(bool got_message, bool store_idle, Clock::time_point now) const;

  // The formed batch; a new, empty one starts forming.
  Batch take();

 private:
  const std::size_t m_max_messages;
  const std::chrono::milliseconds m_max_wait;
  Batch m_forming;
  Clock::time_point m_since{};
};

}  // namespace patternd::pipeline
