#include "source/file_source.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace patternd::source {
namespace {

// What an over-long line keeps: enough to stay too large for the decoder,
// and at least what the dead letter keeps.
std::size_t kept_bytes(std::size_t max_message_bytes) {
  return std::max(max_message_bytes + 1, pipeline::k_max_dead_letter_payload);
}

}  // namespace

FileSource::FileSource(std::istream& in, std::string name, core::TopicKind kind,
                       std::size_t max_message_bytes)
    : m_reader(in, kept_bytes(max_message_bytes)),
      m_name(std::move(name)),
      m_kind(kind),
      m_max_message_bytes(max_message_bytes) {}

Source::Poll FileSource::poll(Flow&, pipeline::Batch& forming, std::size_t room,
                              std::chrono::milliseconds) {
  const core::TimestampMs read_time = core::now_ms();
  std::size_t added = 0;
  bool more = true;
  while (added < room && m_forming_bytes < k_max_batch_bytes && (more = m_reader.next(m_line))) {
    ++m_line_number;
    if (!m_line.truncated() && m_line.text.find_first_not_of(" \t") == std::string::npos) continue;
    if (m_line.truncated())
      m_over_long_forming.push_back(
          {static_cast<std::uint32_t>(forming.messages.size()), m_line.bytes});
    m_forming_bytes += m_line.text.size();
    pipeline::RawMessage& message = forming.messages.emplace_back();
    message.source = {m_kind, core::k_file_partition,
                      core::Offset{static_cast<std::int64_t>(m_line_number)}};
    message.timestamp = read_time;
    message.payload = std::move(m_line.text);
    ++added;
  }
  if (added > 0) return Poll::messages;
  return more ? Poll::nothing : Poll::end;
}

void FileSource::closing(pipeline::Batch& batch) {
  batch.source_name = m_name;
  m_over_long_closed = std::move(m_over_long_forming);
  m_over_long_forming.clear();
  m_forming_bytes = 0;
}

void FileSource::decoded(pipeline::Batch& batch) {
  for (pipeline::Rejection& rejection : batch.rejections) {
    m_rejected_payloads.insert(
        std::hash<std::string_view>{}(batch.messages[rejection.message].payload));
    const auto over_long =
        std::find_if(m_over_long_closed.begin(), m_over_long_closed.end(),
                     [&](const OverLong& o) { return o.message == rejection.message; });
    if (over_long == m_over_long_closed.end()) continue;
    rejection.reject = core::RejectClass::too_large;
    rejection.reason =
        "line " + std::to_string(batch.messages[rejection.message].source.offset.value) + " is " +
        std::to_string(over_long->bytes) + " bytes, larger than limits.max_message_bytes (" +
        std::to_string(m_max_message_bytes) + ")";
  }
  m_over_long_closed.clear();
}

}  // namespace patternd::source
