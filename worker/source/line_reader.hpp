#pragma once
// Lines from a stream with bounded memory: a line longer than the limit keeps
// only its first `keep_bytes` bytes (the rest is read and dropped) and says
// how long it was, so that a file without newlines (/dev/zero, a binary file,
// a pipe that never ends a line) costs at most keep_bytes plus one read
// buffer, and reading goes on at the next newline.

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace patternd::source {

class LineReader {
 public:
  struct Line {
    std::string text;         // without its '\n' (and a '\r' before it); at most keep_bytes
    std::uint64_t bytes = 0;  // the whole line's length, '\n' and '\r' not counted
    bool truncated() const { return bytes > text.size(); }
  };

  // Reads `in` (which must outlive the reader) from its stream buffer, in
  // chunks of k_chunk_bytes; keep_bytes >= 1.
  LineReader(std::istream& in, std::size_t keep_bytes);
  // Reads file descriptor `fd` (not closed by the reader): each read takes
  // what is there, so that a line is seen as soon as it arrives on a pipe
  // (a stream buffer waits for a whole chunk).
  LineReader(int fd, std::size_t keep_bytes);

  // The next line into `line` (its text reused). False once the input is
  // exhausted; a last line without a newline is still a line. Blocks while
  // the stream does.
  bool next(Line& line);

  static constexpr std::size_t k_chunk_bytes = 64 * 1024;

 private:
  bool fill();

  std::streambuf* m_in = nullptr;
  int m_fd = -1;
  std::size_t m_keep;
  std::vector<char> m_chunk;
  std::size_t m_begin = 0;
  std::size_t m_end = 0;
  bool m_eof = false;
};

}  // namespace patternd::source
