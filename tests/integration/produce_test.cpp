// `patternd produce`: the synthetic fleet to Kafka and to files.

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <csignal>
#include <memory>

#include "support/helpers.hpp"

namespace patternd {
namespace {

using testing::partition_sizes;

TEST(Produce, EveryMessageReachesTheBrokerSpreadOverAllPartitions) {
  testing::BackgroundProcess broker({"dev-broker", "--partitions", "8"});
  const std::string bootstrap = broker.read_line(10000);
  ASSERT_FALSE(bootstrap.empty());

  const auto r =
      testing::run_patternd({"produce", "--brokers", bootstrap, "--kind", "mixed", "--count",
                             "20000", "--seed", "5", "--duplicates", "0.02", "--invalid", "0.01"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("delivered 20,000, failed 0"), std::string::npos) << r.err;

  std::int64_t total = 0;
  for (const char* topic : {"agent.workflows", "agent.extractions"}) {
    for (const std::int64_t size : partition_sizes(bootstrap, topic, 8)) {
      EXPECT_GT(size, 0) << topic << ": keyed messages must reach every partition";
      total += size;
    }
  }
  EXPECT_EQ(total, 20000);
  broker.signal(SIGTERM);
  EXPECT_EQ(broker.wait(10000), 0);
}

TEST(Produce, ReplaysAFileToTheNamedTopic) {
  testing::TempDir dir;
  testing::BackgroundProcess broker({"dev-broker", "--partitions", "4"});
  const std::string bootstrap = broker.read_line(10000);
  const std::string file = dir.file("x.jsonl");
  testing::write_file(file, "{\"a\": 1}\n\n{\"a\": 2}\nnot json\n");
  const auto r = testing::run_patternd(
      {"produce", "--brokers", bootstrap, "--file", file, "--topic", "extractions"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::int64_t total = 0;
  for (const std::int64_t size : partition_sizes(bootstrap, "agent.extractions", 4)) total += size;
  EXPECT_EQ(total, 3);  // the blank line is not a message
}

TEST(Produce, TheSameSeedGivesTheSameMessages) {
  testing::TempDir dir;
  for (const char* name : {"a.jsonl", "b.jsonl"}) {
    const auto r = testing::run_patternd(
        {"produce", "--kind", "extractions", "--count", "3000", "--seed", "9", "--duplicates",
         "0.1", "--invalid", "0.1", "--start", "2026-11-01T00:00:00Z", "--output", dir.file(name)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string a = testing::read_file(dir.file("a.jsonl"));
  EXPECT_EQ(a, testing::read_file(dir.file("b.jsonl")));
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 3000);
}

TEST(Produce, NeedsADestination) {
  const auto r = testing::run_patternd({"produce", "--count", "5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--brokers"), std::string::npos) << r.err;
}

TEST(Produce, OutputRefusesToReplaceAnExistingFileUnlessForced) {
  testing::TempDir dir;
  const std::string out = dir.file("precious.jsonl");
  testing::write_file(out, "precious\n");
  const std::vector<std::string> args = {"produce", "--kind",   "workflows", "--count",
                                         "5",       "--output", out};
  const auto refused = testing::run_patternd(args);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find(out + ": exists already"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
  EXPECT_EQ(testing::read_file(out), "precious\n");

  auto forced_args = args;
  forced_args.push_back("--force");
  const auto forced = testing::run_patternd(forced_args);
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(testing::read_lines(out).size(), 5u);
}

}  // namespace
}  // namespace patternd
