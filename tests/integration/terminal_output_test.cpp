// Table and text output shows event text to a person's terminal: escape
// sequences, bidi overrides and invalid UTF-8 from an event are printed
// visibly escaped, never acted on. (JSON output escapes by its own rules.)

#include <gtest/gtest.h>

#include <string>

#include "support/helpers.hpp"

namespace patternd {
namespace {

using testing::run_patternd;
using testing::TempDir;

// The first byte of `text` that a terminal would act on, or npos.
std::size_t first_terminal_control(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) return i;
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9f)
      return i;  // a C1 control
    if (c == 0xe2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        static_cast<unsigned char>(text[i + 2]) >= 0xaa &&
        static_cast<unsigned char>(text[i + 2]) <= 0xae)
      return i;  // U+202A-U+202E
    if (c == 0xe2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x81 &&
        static_cast<unsigned char>(text[i + 2]) >= 0xa6 &&
        static_cast<unsigned char>(text[i + 2]) <= 0xa9)
      return i;  // U+2066-U+2069
  }
  return std::string::npos;
}

TEST(TerminalOutput, EscapesFromEventsAreShownEscapedByReportAndDeadLettersList) {
  TempDir dir;
  const std::string config = testing::write_config(dir);
  // An error event whose text clears the screen, sets the title, rings the
  // bell, reverses the line (U+202E), isolates (U+2066) and carries a C1 CSI
  // (U+009B); a workflow whose bad status quotes the same into its reason.
  const std::string hostile =
      R"(\u001b[2J\u001b]0;pwned\u0007TypeError: \u202eboom\u2066 \u009b31m)";
  testing::write_file(dir.file("e.jsonl"),
                      R"({"agent_name":"a","session_id":"s","event_type":"error",)"
                      R"("timestamp":"2026-11-20T10:30:00Z","matched_value":")" +
                          hostile + "\"}\n");
  testing::write_file(dir.file("w.jsonl"),
                      R"({"workflow_id":"w1","nl_input":"x","status":")" + hostile + "\"}\n");
  ASSERT_EQ(
      run_patternd({"ingest", "--config", config, "--topic", "extractions", dir.file("e.jsonl")})
          .exit_code,
      0);
  ASSERT_EQ(
      run_patternd({"ingest", "--config", config, "--topic", "workflows", dir.file("w.jsonl")})
          .exit_code,
      0);

  // (The failure signature has its numbers normalized: "0" reads "<n>".)
  const auto report = run_patternd({"report", "--config", config});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_EQ(first_terminal_control(report.out), std::string::npos) << report.out;
  EXPECT_NE(report.out.find("\\x1b]<n>;pwned\\x07"), std::string::npos) << report.out;
  EXPECT_NE(report.out.find("\\u202eboom\\u2066"), std::string::npos) << report.out;
  EXPECT_NE(report.out.find("\\u009b"), std::string::npos) << report.out;

  const auto list = run_patternd({"dead-letters", "list", "--config", config});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(first_terminal_control(list.out), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("\\x1b[2J\\x1b]0;pwned\\x07"), std::string::npos) << list.out;

  // `query` tables, lists and single objects alike.
  for (const std::vector<std::string>& resource : {std::vector<std::string>{"extractions"},
                                                   {"failures"},
                                                   {"session", "s"},
                                                   {"agents", "a", "stats"}}) {
    std::vector<std::string> args = {"query", "--config", config};
    args.insert(args.end(), resource.begin(), resource.end());
    const auto query = run_patternd(args);
    ASSERT_EQ(query.exit_code, 0) << resource[0] << ": " << query.err;
    EXPECT_EQ(first_terminal_control(query.out), std::string::npos) << query.out;
    if (resource[0] == "extractions" || resource[0] == "failures")
      EXPECT_NE(query.out.find("\\x1b"), std::string::npos) << resource[0] << ": " << query.out;
  }

  // JSON output keeps the text exact, in JSON's own escapes.
  const auto json = run_patternd({"report", "--config", config, "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\\u001b"), std::string::npos) << json.out;
}

}  // namespace
}  // namespace patternd
