#include "source/file_source.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>

#include "store/batch_writer.hpp"

namespace patternd::source {
namespace {

// What an over-long line keeps: enough to stay too large for the decoder,
// and at least what the dead letter keeps.
std::size_t kept_bytes(std::size_t max_message_bytes) {
  return std::max(max_message_bytes + 1, store::k_max_dead_letter_payload);
}

}  // namespace

FileSource::FileSource(std::istream& in, core::TopicKind kind, std::size_t max_message_bytes)
    : m_reader(in, kept_bytes(max_message_bytes)),
      m_kind(kind),
      m_max_message_bytes(max_message_bytes) {}

bool FileSource::next(pipeline::Batch& batch, std::size_t max_messages,
                      core::TimestampMs read_time) {
  m_over_long.clear();
  const std::size_t before = batch.messages.size();
  std::size_t bytes = 0;
  while (batch.messages.size() - before < max_messages && bytes < k_max_batch_bytes &&
         m_reader.next(m_line)) {
    ++m_line_number;
    if (!m_line.truncated() && m_line.text.find_first_not_of(" \t") == std::string::npos) continue;
    if (m_line.truncated())
      m_over_long.push_back({static_cast<std::uint32_t>(batch.messages.size()), m_line.bytes});
    bytes += m_line.text.size();
    pipeline::RawMessage& message = batch.messages.emplace_back();
    message.source = {m_kind, core::k_file_partition,
                      core::Offset{static_cast<std::int64_t>(m_line_number)}};
    message.timestamp = read_time;
    message.payload = std::move(m_line.text);
  }
  return batch.messages.size() > before;
}

void FileSource::review_rejections(pipeline::Batch& batch) {
  for (pipeline::Rejection& rejection : batch.rejections) {
    m_rejected_payloads.insert(
        std::hash<std::string_view>{}(batch.messages[rejection.message].payload));
    const auto over_long =
        std::find_if(m_over_long.begin(), m_over_long.end(),
                     [&](const OverLong& o) { return o.message == rejection.message; });
    if (over_long == m_over_long.end()) continue;
    rejection.reject = decode::RejectClass::too_large;
    rejection.reason =
        "line " + std::to_string(batch.messages[rejection.message].source.offset.value) + " is " +
        std::to_string(over_long->bytes) + " bytes, larger than limits.max_message_bytes (" +
        std::to_string(m_max_message_bytes) + ")";
  }
}

}  // namespace patternd::source
