#include "source/file_source.hpp"

#include <string>

#include "core/time.hpp"

namespace patternd::source {

Source::Poll FileSource::poll(Flow&, pipeline::Batch& forming, std::size_t room,
                              std::chrono::milliseconds) {
  const core::TimestampMs read_time = core::now_ms();
  std::size_t added = 0;
  std::string line;
  while (added < room && std::getline(m_in, line)) {
    ++m_line;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    pipeline::RawMessage& message = forming.messages.emplace_back();
    message.source = {m_kind, core::k_file_partition,
                      core::Offset{static_cast<std::int64_t>(m_line)}};
    message.timestamp = read_time;
    message.payload = std::move(line);
    ++added;
  }
  if (added > 0) return Poll::messages;
  return m_in ? Poll::nothing : Poll::end;
}

}  // namespace patternd::source
