#pragma once
// JSON lines (a file or standard input) as a source, for `patternd ingest`,
// in bounded memory whatever the input holds. Blank lines are skipped; each
// message's position is (partition -1, offset = line number), and its time
// the time it was read. A line longer than limits.max_message_bytes is not
// held whole: it enters the batch cut short, still too large for the decoder
// (so it becomes one too_large dead letter with its first 64 KiB kept), and
// decoded() gives its reason the line's real length.

#include <cstdint>
#include <istream>
#include <unordered_set>
#include <vector>

#include "source/line_reader.hpp"
#include "source/source.hpp"

namespace patternd::source {

class FileSource final : public Source {
 public:
  // `name`: the file's name, kept with its dead letters ("standard input").
  FileSource(std::istream& in, std::string name, core::TopicKind kind,
             std::size_t max_message_bytes);

  // Reads up to `room` lines (fewer once the forming batch holds
  // k_max_batch_bytes) without waiting; `end` at the end of the input.
  Poll poll(Flow& flow, pipeline::Batch& forming, std::size_t room,
            std::chrono::milliseconds timeout) override;
  void closing(pipeline::Batch& batch) override;
  // States the real length of over-long lines in their reasons, and counts
  // the rejected messages that differ (the dead_letters table keeps one row
  // per distinct file message).
  void decoded(pipeline::Batch& batch) override;

  std::uint64_t distinct_rejections() const { return m_rejected_payloads.size(); }

  // A batch closes at this many payload bytes: a file of 1 MiB lines must not
  // hold batch-size of them (20 GB) at once.
  static constexpr std::size_t k_max_batch_bytes = 64 * 1024 * 1024;

 private:
  struct OverLong {
    std::uint32_t message;
    std::uint64_t bytes;
  };

  LineReader m_reader;
  std::string m_name;
  LineReader::Line m_line;
  core::TopicKind m_kind;
  std::size_t m_max_message_bytes;
  std::uint64_t m_line_number = 0;
  std::size_t m_forming_bytes = 0;
  std::vector<OverLong> m_over_long_forming, m_over_long_closed;
  std::unordered_set<std::size_t> m_rejected_payloads;  // hashes
};

}  // namespace patternd::source
