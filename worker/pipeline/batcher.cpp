#include "pipeline/batcher.hpp"

#include <algorithm>

namespace patternd::pipeline {

using std::chrono::milliseconds;

Batcher::Batcher(std::size_t max_messages, milliseconds max_wait)
    : m_max_messages(std::max<std::size_t>(1, max_messages)), m_max_wait(max_wait) {
  m_forming.messages.reserve(m_max_messages);
}

void Batcher::added(Clock::time_point now) {
  if (m_since == Clock::time_point{} && !empty()) m_since = now;
}

milliseconds Batcher::poll_timeout(bool store_idle, Clock::time_point now,
                                   milliseconds idle_poll) const {
  if (empty()) return idle_poll;
  if (store_idle) return milliseconds(0);  // take what is already here, then write
  const auto left = std::chrono::duration_cast<milliseconds>(m_max_wait - (now - m_since));
  return std::clamp(left, milliseconds(0), idle_poll);
}

bool Batcher::should_close(bool got_message, bool store_idle, Clock::time_point now) const {
  if (empty()) return false;
  return size() >= m_max_messages || now - m_since >= m_max_wait || (!got_message && store_idle);
}

Batch Batcher::take() {
  Batch batch = std::move(m_forming);
  m_forming = Batch{};
  m_forming.messages.reserve(m_max_messages);
  m_since = Clock::time_point{};
  return batch;
}

}  // namespace patternd::pipeline
