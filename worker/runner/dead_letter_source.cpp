#include "runner/dead_letter_source.hpp"

namespace patternd::runner {

DeadLetterSource::DeadLetterSource(store::Store& letters, const config::Kafka& kafka,
                                   store::DeadLetterFilter filter)
    : m_letters(letters), m_kafka(kafka), m_filter(std::move(filter)) {}

source::Source::Poll DeadLetterSource::poll(source::Flow&, pipeline::Batch& forming,
                                            std::size_t room, std::chrono::milliseconds) {
  if (room == 0) return Poll::nothing;
  m_filter.limit = static_cast<std::int64_t>(room);
  const auto letters = m_letters.find_dead_letters(m_filter);
  if (letters.empty()) return Poll::end;
  m_filter.after_id = letters.back().id;  // keyset paging: never the same letter twice
  std::size_t added = 0;
  for (const auto& d : letters) {
    const auto kind = m_kafka.kind_of(d.topic);
    if (!kind) {
      ++m_other_topic;  // a topic this configuration does not consume
      continue;
    }
    if (d.truncated()) {  // only the first 64 KiB were kept: it cannot pass as it was
      ++m_truncated;
      continue;
    }
    forming.messages.push_back({{*kind, core::Partition{d.partition}, core::Offset{d.offset}},
                                d.message_time.value_or(d.received_at),
                                d.payload});
    ++added;
  }
  return added > 0 ? Poll::messages : Poll::nothing;
}

}  // namespace patternd::runner
