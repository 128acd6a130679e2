#pragma once
// JSON lines (a file or standard input) as a source of batches, for
// `patternd ingest` and `patternd produce --file`. Blank lines are skipped;
// each message's position is (partition -1, offset = line number).

#include <cstdint>
#include <istream>

#include "pipeline/batch.hpp"

namespace patternd::pipeline {

class LineSource {
 public:
  LineSource(std::istream& in, core::TopicKind kind) : m_in(in), m_kind(kind) {}

  // Appends up to `max_messages` messages to `batch.messages`; returns false
  // once the input is exhausted and nothing was appended.
  bool next(Batch& batch, std::size_t max_messages, core::TimestampMs read_time);

 private:
  std::istream& m_in;
  core::TopicKind m_kind;
  std::uint64_t m_line = 0;
};

}  // namespace patternd::pipeline
