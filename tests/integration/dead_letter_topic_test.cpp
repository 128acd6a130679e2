// kafka.dead_letter_topic_suffix: every dead letter the worker records is
// also produced to <its topic><suffix>, against the real broker protocol.

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <csignal>
#include <numeric>

#include "support/helpers.hpp"

namespace patternd {
namespace {

using testing::BackgroundProcess;
using testing::TempDir;

std::int64_t held(const std::string& bootstrap, const std::string& topic) {
  const auto sizes = testing::partition_sizes(bootstrap, topic, 2);
  return std::accumulate(sizes.begin(), sizes.end(), std::int64_t{0});
}

TEST(DeadLetterTopic, EveryDeadLetterIsAlsoProducedToItsTopicWithTheSuffix) {
  TempDir dir;
  BackgroundProcess broker({"dev-broker", "--partitions", "2", "--topics",
                            "agent.workflows,agent.extractions,agent.workflows.dlq,"
                            "agent.extractions.dlq"},
                           dir.file("broker.log"));
  const std::string bootstrap = broker.read_line(10000);
  ASSERT_FALSE(bootstrap.empty());
  for (const char* kind : {"workflows", "extractions"}) {
    const std::string file = dir.file(std::string(kind) + ".jsonl");
    auto r = testing::run_patternd({"produce", "--kind", kind, "--count", "1500", "--seed", "7",
                                    "--invalid", "0.05", "--output", file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = testing::run_patternd({"produce", "--brokers", bootstrap, "--file", file, "--topic", kind});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::int64_t total =
      held(bootstrap, "agent.workflows") + held(bootstrap, "agent.extractions");
  ASSERT_EQ(total, 3000);

  const std::string config =
      testing::write_config(dir, "patternd.yaml", "",
                            "kafka:\n  brokers: " + bootstrap +
                                "\n  group_id: g-dlq\n  dead_letter_topic_suffix: .dlq\n");
  BackgroundProcess worker({"run", "--config", config}, dir.file("worker.log"));
  const std::string db = dir.file("patternd.db");
  ASSERT_TRUE(testing::wait_for_coverage(db, total, 60))
      << testing::read_file(dir.file("worker.log"));

  auto letters = [&](const std::string& topic) {
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    SQLite::Statement q(d, "SELECT count(*) FROM dead_letters WHERE topic = ?");
    q.bind(1, topic);
    q.executeStep();
    return q.getColumn(0).getInt64();
  };
  const std::int64_t workflow_letters = letters("agent.workflows");
  const std::int64_t extraction_letters = letters("agent.extractions");
  EXPECT_GT(workflow_letters, 20);
  EXPECT_GT(extraction_letters, 20);
  EXPECT_TRUE(testing::eventually(
      [&] {
        return held(bootstrap, "agent.workflows.dlq") == workflow_letters &&
               held(bootstrap, "agent.extractions.dlq") == extraction_letters;
      },
      20))
      << "dead letter topics hold " << held(bootstrap, "agent.workflows.dlq") << " and "
      << held(bootstrap, "agent.extractions.dlq") << ", the table " << workflow_letters << " and "
      << extraction_letters;
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(10000), 0);
}

}  // namespace
}  // namespace patternd
