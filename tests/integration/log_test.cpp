// The worker's log as an operator configures it: JSON lines with typed fields
// (one summary per interval, never one line per message), and levels that
// really silence what is below them.

#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "support/helpers.hpp"

namespace patternd {
namespace {

using testing::BackgroundProcess;
using testing::TempDir;

std::string config_with_log(const TempDir& dir, const std::string& name, const std::string& brokers,
                            const std::string& log_yaml) {
  return testing::write_config(dir, name, "",
                               "kafka:\n  brokers: " + brokers +
                                   "\n  properties:\n    session.timeout.ms: 6000\n"
                                   "    heartbeat.interval.ms: 500\nlog:\n" +
                                   log_yaml);
}

void produce(const std::string& brokers, int count, int seed) {
  const auto r = testing::run_patternd({"produce", "--brokers", brokers, "--kind", "mixed",
                                        "--count", std::to_string(count), "--seed",
                                        std::to_string(seed), "--invalid", "0.02"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// The summary lines of a JSON log (those with persisted_per_second), in order;
// a line still being written is left out.
std::vector<nlohmann::json> summary_lines(const std::string& log_path) {
  std::vector<nlohmann::json> out;
  for (const auto& line : testing::read_lines(log_path)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("persisted_per_second")) out.push_back(std::move(j));
  }
  return out;
}

TEST(Log, JsonLinesCarryTheSummaryAsFieldsAndLevelsSilenceWhatIsBelow) {
  TempDir dir;
  BackgroundProcess broker({"dev-broker", "--partitions", "2"});
  const std::string brokers = broker.read_line(10000);
  ASSERT_FALSE(brokers.empty());
  const std::string db = dir.file("patternd.db");

  // JSON, a summary every second.
  {
    const std::string config =
        config_with_log(dir, "json.yaml", brokers, "  format: json\n  summary_interval_s: 1\n");
    BackgroundProcess worker({"run", "--config", config}, dir.file("json.log"));
    ASSERT_NO_FATAL_FAILURE(produce(brokers, 3000, 1));
    ASSERT_TRUE(testing::wait_for_coverage(db, 3000, 60));
    // Until a summary after catch-up (the assertions below say what is missing
    // if none comes).
    testing::eventually(
        [&] {
          const auto lines = summary_lines(dir.file("json.log"));
          return lines.size() >= 2 && lines.back().value("consumed", 0) == 3000 &&
                 lines.back().value("lag_messages", -1) == 0 &&
                 lines.back().value("in_process", -1) == 0;
        },
        30);
    worker.signal(SIGTERM);
    ASSERT_EQ(worker.wait(10000), 0);
  }
  const auto lines = testing::read_lines(dir.file("json.log"));
  ASSERT_FALSE(lines.empty());
  const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  nlohmann::json last_summary, stopped;
  int summaries = 0;
  for (const auto& line : lines) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not a JSON object: " << line;
    ASSERT_TRUE(j["time"].is_string() && std::regex_match(j["time"].get<std::string>(), rfc3339))
        << line;
    EXPECT_TRUE(j["level"] == "debug" || j["level"] == "info" || j["level"] == "warn" ||
                j["level"] == "error")
        << line;
    EXPECT_TRUE(j["logger"].is_string() && j["msg"].is_string()) << line;
    if (j.contains("persisted_per_second")) {
      ++summaries;
      last_summary = j;
    }
    if (j["msg"].get<std::string>().rfind("stopped after", 0) == 0) stopped = j;
  }
  // Summaries, not a line per message (3,000 messages, a few seconds).
  EXPECT_GE(summaries, 2);
  EXPECT_LT(lines.size(), 60u);
  ASSERT_TRUE(last_summary.is_object());
  EXPECT_EQ(last_summary["level"], "info");
  EXPECT_EQ(last_summary["consumed"], 3000);
  EXPECT_EQ(last_summary["lag_messages"], 0);
  EXPECT_EQ(last_summary["in_process"], 0);
  EXPECT_EQ(last_summary["persisted"].get<int>() + last_summary["duplicates"].get<int>() +
                last_summary["dead_letters"].get<int>(),
            3000);
  EXPECT_GT(last_summary["dead_letters"].get<int>(), 0);
  EXPECT_TRUE(last_summary["write_mean_ms"].is_number());
  EXPECT_TRUE(last_summary["write_max_ms"].is_number());
  ASSERT_TRUE(stopped.is_object()) << "no final line";
  EXPECT_EQ(stopped["consumed"], 3000);

  // Text at level warn: the same worker says nothing while all is well.
  {
    const std::string config =
        config_with_log(dir, "warn.yaml", brokers, "  level: warn\n  summary_interval_s: 1\n");
    // Its port given, as at level warn it does not log where it listens.
    const int port = testing::free_port();
    BackgroundProcess worker(
        BackgroundProcess::Command{{"env",
                                    "PATTERND_METRICS_LISTEN=127.0.0.1:" + std::to_string(port),
                                    PATTERND_BINARY, "run", "--config", config}},
        dir.file("warn.log"));
    ASSERT_NO_FATAL_FAILURE(produce(brokers, 500, 2));
    ASSERT_TRUE(testing::wait_for_coverage(db, 3500, 60));
    // Until the worker has gone two summary intervals without a write, by its
    // own clock: it has passed the point of a summary line since its last batch.
    EXPECT_TRUE(testing::eventually(
        [&] {
          const auto ready = testing::http_get(port, "/readyz");
          const auto j = nlohmann::json::parse(ready.body, nullptr, false);
          return j.is_object() && j.value("seconds_since_last_commit", 0.0) >= 2.0;
        },
        30))
        << "the worker's /readyz on port " << port << " never said 2 s since its last commit";
    worker.signal(SIGTERM);
    ASSERT_EQ(worker.wait(10000), 0);
  }
  for (const auto& line : testing::read_lines(dir.file("warn.log")))
    EXPECT_TRUE(line.find("warning: ") != std::string::npos ||
                line.find("error: ") != std::string::npos)
        << "below warn: " << line;
  broker.signal(SIGTERM);
}

}  // namespace
}  // namespace patternd
