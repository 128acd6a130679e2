#include "source/line_reader.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace patternd::source {

LineReader::LineReader(std::istream& in, std::size_t keep_bytes)
    : m_in(in.rdbuf()), m_keep(std::max<std::size_t>(keep_bytes, 1)), m_chunk(k_chunk_bytes) {}

LineReader::LineReader(int fd, std::size_t keep_bytes)
    : m_fd(fd), m_keep(std::max<std::size_t>(keep_bytes, 1)), m_chunk(k_chunk_bytes) {}

bool LineReader::fill() {
  if (m_eof) return false;
  std::streamsize n = 0;
  if (m_in) {
    n = m_in->sgetn(m_chunk.data(), static_cast<std::streamsize>(m_chunk.size()));
  } else {
    do n = ::read(m_fd, m_chunk.data(), m_chunk.size());
    while (n < 0 && errno == EINTR);
  }
  m_begin = 0;
  m_end = n > 0 ? static_cast<std::size_t>(n) : 0;
  if (m_end == 0) m_eof = true;
  return m_end > 0;
}

bool LineReader::next(Line& line) {
  line.text.clear();
  line.bytes = 0;
  bool started = false;
  char last = '\0';
  for (;;) {
    if (m_begin == m_end && !fill()) break;
    started = true;
    const char* begin = m_chunk.data() + m_begin;
    const std::size_t available = m_end - m_begin;
    const auto* newline = static_cast<const char*>(std::memchr(begin, '\n', available));
    const std::size_t length = newline ? static_cast<std::size_t>(newline - begin) : available;
    const std::size_t room = m_keep - std::min(m_keep, line.text.size());
    line.text.append(begin, std::min(length, room));
    line.bytes += length;
    if (length > 0) last = begin[length - 1];
    m_begin += length;
    if (newline) {
      ++m_begin;
      break;
    }
  }
  if (!started) return false;
  if (last == '\r') {
    if (line.text.size() == line.bytes) line.text.pop_back();
    --line.bytes;
  }
  return true;
}

}  // namespace patternd::source
