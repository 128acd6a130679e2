// libFuzzer target: arbitrary bytes through source::LineReader, read in
// short chunks of a size the input chooses (so that lines straddle reads),
// with a line limit the input chooses. Every line must equal the reference
// split of the input at '\n' (a trailing '\r' dropped), cut to the limit,
// and never hold more than the limit: the bound that keeps `patternd ingest`
// of /dev/zero in bounded memory. Built with clang and AddressSanitizer +
// UndefinedBehaviorSanitizer by fuzz/run.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <istream>
#include <streambuf>
#include <string>
#include <string_view>

#include "source/line_reader.hpp"

namespace {

// A broken invariant: say which, then abort (libFuzzer keeps the input).
#define require(condition)                                                            \
  do {                                                                                \
    if (!(condition)) {                                                               \
      std::fprintf(stderr, "invariant broken: %s (line %d)\n", #condition, __LINE__); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (false)

// The bytes of a pipe: at most `chunk` of them per read.
class ShortReads : public std::streambuf {
 public:
  ShortReads(std::string_view data, std::size_t chunk) : m_data(data), m_chunk(chunk) {}

 protected:
  std::streamsize xsgetn(char* out, std::streamsize n) override {
    const std::size_t given =
        std::min({static_cast<std::size_t>(n), m_chunk, m_data.size() - m_at});
    std::copy_n(m_data.data() + m_at, given, out);
    m_at += given;
    return static_cast<std::streamsize>(given);
  }
  int_type underflow() override { return traits_type::eof(); }

 private:
  std::string_view m_data;
  std::size_t m_chunk;
  std::size_t m_at = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using patternd::source::LineReader;
  if (size < 2) return 0;
  const std::size_t keep = 1 + data[0] % 64;
  const std::size_t chunk = 1 + data[1] % 32;
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  ShortReads bytes(input, chunk);
  std::istream in(&bytes);
  LineReader reader(in, keep);
  LineReader::Line line;
  std::size_t at = 0;  // where the reference split's next line starts
  while (reader.next(line)) {
    require(at < input.size());
    const std::size_t newline = input.find('\n', at);
    std::string_view expected =
        input.substr(at, newline == std::string_view::npos ? std::string_view::npos : newline - at);
    at = newline == std::string_view::npos ? input.size() : newline + 1;
    if (!expected.empty() && expected.back() == '\r') expected.remove_suffix(1);
    require(line.bytes == expected.size());
    require(line.text == expected.substr(0, keep));
    require(line.text.size() <= keep);
    require(line.truncated() == (expected.size() > keep));
  }
  require(at == input.size());  // every byte was part of a line
  return 0;
}
