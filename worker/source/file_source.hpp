#pragma once
// JSON lines (a file or standard input) as a source, for `patternd ingest`.
// Blank lines are skipped; each message's position is (partition -1, offset
// = line number), and its time the time it was read.

#include <cstdint>
#include <istream>

#include "source/source.hpp"

namespace patternd::source {

class FileSource final : public Source {
 public:
  FileSource(std::istream& in, core::TopicKind kind) : m_in(in), m_kind(kind) {}

  // Reads up to `room` lines without waiting; `end` at the end of the input.
  Poll poll(Flow& flow, pipeline::Batch& forming, std::size_t room,
            std::chrono::milliseconds timeout) override;

  std::uint64_t lines() const { return m_line; }

 private:
  std::istream& m_in;
  core::TopicKind m_kind;
  std::uint64_t m_line = 0;
};

}  // namespace patternd::source
