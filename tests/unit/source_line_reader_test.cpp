#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "source/line_reader.hpp"

namespace patternd::source {
namespace {

std::vector<LineReader::Line> read_all(const std::string& input, std::size_t keep) {
  std::istringstream in(input);
  LineReader reader(in, keep);
  std::vector<LineReader::Line> lines;
  for (LineReader::Line line; reader.next(line);) lines.push_back(line);
  return lines;
}

// `size` bytes of `fill` without ever holding them: /dev/zero, in a test.
class EndlessBytes : public std::streambuf {
 public:
  EndlessBytes(std::uint64_t size, char fill, std::string tail)
      : m_left(size), m_fill(fill), m_tail(std::move(tail)) {}

 protected:
  std::streamsize xsgetn(char* out, std::streamsize n) override {
    std::streamsize given = static_cast<std::streamsize>(std::min<std::uint64_t>(m_left, n));
    std::fill_n(out, given, m_fill);
    m_left -= static_cast<std::uint64_t>(given);
    while (given < n && m_tail_at < m_tail.size()) out[given++] = m_tail[m_tail_at++];
    return given;
  }
  int_type underflow() override { return traits_type::eof(); }

 private:
  std::uint64_t m_left;
  char m_fill;
  std::string m_tail;
  std::size_t m_tail_at = 0;
};

TEST(SourceLineReader, SplitsAtNewlinesAndKeepsALastLineWithoutOne) {
  const auto lines = read_all("a\nbb\n\nccc", 100);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].text, "a");
  EXPECT_EQ(lines[1].text, "bb");
  EXPECT_EQ(lines[2].text, "");
  EXPECT_EQ(lines[3].text, "ccc");
  for (const auto& line : lines) EXPECT_FALSE(line.truncated());
}

TEST(SourceLineReader, EndsAfterTheLastNewlineWithoutAnEmptyLine) {
  EXPECT_EQ(read_all("a\n", 100).size(), 1u);
  EXPECT_EQ(read_all("", 100).size(), 0u);
}

TEST(SourceLineReader, DropsTheCarriageReturnOfACrlfLine) {
  const auto lines = read_all("a\r\nb\r\n", 100);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "a");
  EXPECT_EQ(lines[0].bytes, 1u);
  EXPECT_EQ(lines[1].text, "b");
}

TEST(SourceLineReader, ALineLongerThanTheLimitKeepsItsStartAndItsLengthAndReadingGoesOn) {
  const std::string long_line(3 * LineReader::k_chunk_bytes + 17, 'x');
  const auto lines = read_all("first\n" + long_line + "\nnext\n", 1000);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "first");
  EXPECT_TRUE(lines[1].truncated());
  EXPECT_EQ(lines[1].text, std::string(1000, 'x'));
  EXPECT_EQ(lines[1].bytes, long_line.size());
  EXPECT_EQ(lines[2].text, "next");
  EXPECT_FALSE(lines[2].truncated());
}

TEST(SourceLineReader, ALineOfExactlyTheLimitIsWhole) {
  const auto lines = read_all(std::string(10, 'y') + "\n" + std::string(11, 'z'), 10);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_FALSE(lines[0].truncated());
  EXPECT_TRUE(lines[1].truncated());
  EXPECT_EQ(lines[1].bytes, 11u);
}

TEST(SourceLineReader, LinesThatStraddleReadChunksComeOutWhole) {
  std::string input;
  std::vector<std::string> expected;
  for (int i = 0; input.size() < 3 * LineReader::k_chunk_bytes; ++i) {
    expected.push_back(std::string(static_cast<std::size_t>(i % 997), 'a' + i % 26) + "\r");
    input += expected.back() + "\n";
    expected.back().pop_back();
  }
  const auto lines = read_all(input, 1 << 20);
  ASSERT_EQ(lines.size(), expected.size());
  for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i].text, expected[i]) << i;
}

TEST(SourceLineReader, AGigabyteWithoutANewlineIsReadInBoundedMemory) {
  constexpr std::uint64_t k_size = 1ull << 30;
  EndlessBytes zeros(k_size, '\0', "\n{\"ok\":1}\n");
  std::istream in(&zeros);
  LineReader reader(in, 4096);
  LineReader::Line line;
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line.bytes, k_size);
  EXPECT_EQ(line.text.size(), 4096u);
  EXPECT_LE(line.text.capacity(), 2 * 4096u);
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line.text, "{\"ok\":1}");
  EXPECT_FALSE(reader.next(line));
}

}  // namespace
}  // namespace patternd::source

namespace patternd::source {
namespace {

// `patternd mcp` answers a line while its client keeps the pipe open: the
// reader must hand over what arrived, not wait for a whole chunk.
TEST(SourceLineReader, OnAFileDescriptorALineIsReadWhileThePipeStaysOpen) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(write(fds[1], "first\nsec", 9), 9);
  LineReader reader(fds[0], 100);
  auto got = std::async(std::launch::async, [&] {
    LineReader::Line line;
    return reader.next(line) ? line.text : std::string("<none>");
  });
  ASSERT_EQ(got.wait_for(std::chrono::seconds(5)), std::future_status::ready)
      << "the reader waited for more than the line";
  EXPECT_EQ(got.get(), "first");
  ASSERT_EQ(write(fds[1], "ond\n", 4), 4);
  close(fds[1]);
  LineReader::Line line;
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line.text, "second");
  EXPECT_FALSE(reader.next(line));
  close(fds[0]);
}

}  // namespace
}  // namespace patternd::source
