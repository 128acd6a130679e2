#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/log.hpp"

namespace patternd::log {
namespace {

constexpr std::int64_t k_time = 1795000000123;  // 2026-11-18T11:06:40.123Z

TEST(Log, TextIsTheLoggerAndTheMessageWithTheLevelOnlyWhenItMatters) {
  EXPECT_EQ(format_line(Format::text, Level::info, "run", "assigned 4 partitions",
                        {{"partitions", std::int64_t{4}}}, k_time),
            "run: assigned 4 partitions\n");
  EXPECT_EQ(format_line(Format::text, Level::warn, "run", "database unavailable", {}, k_time),
            "run: warning: database unavailable\n");
  EXPECT_EQ(format_line(Format::text, Level::error, "patternd", "cannot open", {}, k_time),
            "patternd: error: cannot open\n");
}

TEST(Log, JsonIsOneObjectPerLineWithTypedFields) {
  const std::string line = format_line(
      Format::json, Level::info, "run", "1,200 consumed",
      {{"consumed", std::int64_t{1200}}, {"write_mean_ms", 2.5}, {"topic", "a\"b"}}, k_time);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["time"], "2026-11-18T11:06:40.123Z");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["logger"], "run");
  EXPECT_EQ(j["msg"], "1,200 consumed");
  EXPECT_EQ(j["consumed"], 1200);
  EXPECT_EQ(j["write_mean_ms"], 2.5);
  EXPECT_EQ(j["topic"], "a\"b");
}

TEST(Log, JsonSurvivesMessagesThatAreNotUtf8) {
  const std::string line =
      format_line(Format::json, Level::error, "run", "kafka: \xff\xfe broken\nline", {}, k_time);
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // the newline inside is escaped
  const auto j = nlohmann::json::parse(line);
  EXPECT_NE(j["msg"].get<std::string>().find("broken"), std::string::npos);
}

TEST(Log, LevelsBelowTheConfiguredOneAreOff) {
  configure("warn", "text");
  EXPECT_FALSE(enabled(Level::info));
  EXPECT_TRUE(enabled(Level::warn));
  EXPECT_TRUE(enabled(Level::error));
  configure("debug", "json");
  EXPECT_TRUE(enabled(Level::debug));
  EXPECT_THROW(configure("loud", "text"), std::invalid_argument);
  configure("info", "text");
}

}  // namespace
}  // namespace patternd::log
