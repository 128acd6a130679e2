#include "pipeline/line_source.hpp"

#include <string>

namespace patternd::pipeline {

bool LineSource::next(Batch& batch, std::size_t max_messages, core::TimestampMs read_time) {
  const std::size_t before = batch.messages.size();
  std::string line;
  while (batch.messages.size() - before < max_messages && std::getline(m_in, line)) {
    ++m_line;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    RawMessage& message = batch.messages.emplace_back();
    message.source = {m_kind, core::k_file_partition, core::Offset{static_cast<std::int64_t>(m_line)}};
    message.timestamp = read_time;
    message.payload = std::move(line);
  }
  return batch.messages.size() > before;
}

}  // namespace patternd::pipeline
