// `patternd run` against `patternd dev-broker` over TCP: the Kafka path gives
// the tables `ingest` gives, and stopping and restarting loses and repeats
// nothing. Every test runs on both backends (SQLite, and a throwaway
// PostgreSQL server: support/test_store.hpp).

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <regex>
#include <thread>

#include "core/types.hpp"
#include "support/helpers.hpp"
#include "support/test_store.hpp"

namespace patternd {
namespace {

using testing::BackgroundProcess;
using testing::TempDir;
using testing::TestStore;

constexpr int k_per_topic = 8000;

std::string config_for(const TempDir& dir, const std::string& name, const std::string& brokers,
                       const std::string& group, const std::string& extra = "") {
  // A short session: the mock coordinator waits out a departed member's
  // session before it rebalances (passed through kafka.properties as-is).
  return testing::write_config(dir, name + ".yaml", "",
                               "kafka:\n  brokers: " + brokers + "\n  group_id: " + group +
                                   "\n  properties:\n    session.timeout.ms: 6000\n"
                                   "    heartbeat.interval.ms: 500\n" +
                                   extra);
}

std::string report(const std::string& config) {
  const auto r =
      testing::run_patternd({"report", "--config", config, "--format", "json", "--top", "100000"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// The partition counts of every "run: assigned N partitions" line the worker
// logged to `log_path` so far.
std::vector<int> assignments(const std::string& log_path) {
  std::ifstream in(log_path);
  std::vector<int> counts;
  const std::regex line(R"(run: assigned (\d+) partitions)");
  std::smatch match;
  for (std::string text; std::getline(in, text);)
    if (std::regex_search(text, match, line)) counts.push_back(std::stoi(match[1]));
  return counts;
}

// Waits until the worker's latest assignment satisfies `accept`.
bool wait_for_assignment(const std::string& log_path, const std::function<bool(int)>& accept,
                         int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto counts = assignments(log_path);
    if (!counts.empty() && accept(counts.back())) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

class Run : public ::testing::TestWithParam<std::string> {
 protected:
  // A store of this test's backend: the file patternd.db in `dir`, or a new
  // PostgreSQL database.
  std::unique_ptr<TestStore> store_in(const TempDir& dir) {
    return testing::store_for(GetParam(), dir, "run");
  }
  // config_for(), storing in `store`.
  std::string config_in(const TestStore& store, const TempDir& dir, const std::string& name,
                        const std::string& group, const std::string& extra = "") {
    return config_for(dir, name, m_bootstrap, group, extra + store.config_yaml());
  }

  void SetUp() override {
    m_broker = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"dev-broker", "--partitions", "6"});
    m_bootstrap = m_broker->read_line(10000);
    ASSERT_FALSE(m_bootstrap.empty());
    // The same events go to Kafka and to files, so both paths can be compared.
    for (const auto& [kind, seed] :
         {std::pair{"workflows", "21"}, std::pair{"extractions", "22"}}) {
      const std::string file = m_files.file(std::string(kind) + ".jsonl");
      auto r =
          testing::run_patternd({"produce", "--kind", kind, "--count", std::to_string(k_per_topic),
                                 "--seed", seed, "--duplicates", "0.03", "--invalid", "0.02",
                                 "--start", "2026-11-01T00:00:00Z", "--output", file});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      r = testing::run_patternd(
          {"produce", "--brokers", m_bootstrap, "--file", file, "--topic", kind});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }

  void TearDown() override {
    if (m_broker) m_broker->signal(SIGTERM);
  }

  // Runs one worker until the database covers every produced message.
  void run_to_completion(const std::string& config, const TestStore& store) {
    BackgroundProcess worker({"run", "--config", config});
    ASSERT_TRUE(store.wait_for_coverage(m_total, 120)) << "worker did not catch up";
    worker.signal(SIGTERM);
    ASSERT_EQ(worker.wait(10000), 0);
  }

  TempDir m_files;
  std::unique_ptr<BackgroundProcess> m_broker;
  std::string m_bootstrap;
  std::int64_t m_total = 2 * k_per_topic;  // messages on the broker
};

TEST_P(Run, TheKafkaPathGivesTheReportOfIngestAndDeadLettersExactlyTheInvalidMessages) {
  TempDir kafka_dir, ingest_dir;
  const auto kafka_store = store_in(kafka_dir), ingest_store = store_in(ingest_dir);
  const std::string kafka_config = config_in(*kafka_store, kafka_dir, "k", "g-report");
  run_to_completion(kafka_config, *kafka_store);

  const std::string ingest_config =
      testing::write_config(ingest_dir, "patternd.yaml", "", ingest_store->config_yaml());
  for (const char* kind : {"workflows", "extractions"})
    ASSERT_EQ(testing::run_patternd({"ingest", "--config", ingest_config, "--topic", kind,
                                     m_files.file(std::string(kind) + ".jsonl")})
                  .exit_code,
              0);
  EXPECT_EQ(report(kafka_config), report(ingest_config));

  // The dead letters hold exactly the invalid messages: the same payloads.
  auto payloads = [](const std::string& db_path) {
    return testing::dump_table(db_path, "dead_letters",
                               {"id", "topic", "partition", "offset", "message_time", "received_at",
                                "source_file", "source_line"});
  };
  const std::string kafka_copy = kafka_store->sqlite_copy();
  EXPECT_EQ(payloads(kafka_copy), payloads(ingest_store->sqlite_copy()));
  SQLite::Database db(kafka_copy, SQLite::OPEN_READONLY);
  EXPECT_GT(db.execAndGet("SELECT count(*) FROM dead_letters WHERE partition >= 0").getInt64(), 0);
}

TEST_P(Run, SigtermMidStreamThenRestartLosesNothingAndCountsNothingTwice) {
  TempDir clean_dir, interrupted_dir;
  const auto clean = store_in(clean_dir), store = store_in(interrupted_dir);
  run_to_completion(config_in(*clean, clean_dir, "c", "g-clean"), *clean);

  // Small batches: the worker holds at most a few of them consumed ahead, so
  // SIGTERM lands with most of the stream still unread.
  const std::string config =
      config_in(*store, interrupted_dir, "i", "g-interrupted", "batch:\n  max_messages: 200\n");
  {
    BackgroundProcess worker({"run", "--config", config});
    ASSERT_TRUE(store->wait_for_coverage(1, 60));
    worker.signal(SIGTERM);  // mid-stream: a batch may be in flight
    ASSERT_EQ(worker.wait(10000), 0);
  }
  ASSERT_LT(store->covered(), m_total) << "stopped too late to test a restart";
  run_to_completion(config, *store);

  // Every fact, offsets included, equals the uninterrupted run's.
  EXPECT_EQ(store->canonical(), clean->canonical());
}

TEST_P(Run, KillNineAtRandomMomentsThenRestartEqualsACleanRun) {
  // A larger backlog, so five kills land before it drains even on a busy machine.
  const auto more =
      testing::run_patternd({"produce", "--brokers", m_bootstrap, "--kind", "mixed", "--count",
                             "40000", "--seed", "23", "--duplicates", "0.03", "--invalid", "0.02"});
  ASSERT_EQ(more.exit_code, 0) << more.err;
  m_total += 40000;
  // And prompts (not in the mixed fleet): their full-text index too must
  // come out of the kills as a clean run makes it.
  const auto prompts =
      testing::run_patternd({"produce", "--brokers", m_bootstrap, "--kind", "prompts", "--count",
                             "3000", "--seed", "25", "--duplicates", "0.03", "--invalid", "0.02"});
  ASSERT_EQ(prompts.exit_code, 0) << prompts.err;
  m_total += 3000;
  TempDir clean_dir, killed_dir;
  const auto clean = store_in(clean_dir), store = store_in(killed_dir);
  run_to_completion(config_in(*clean, clean_dir, "c", "g-clean9"), *clean);

  // Small batches: many transactions for the kills to land in.
  const std::string config =
      config_in(*store, killed_dir, "k", "g-killed", "batch:\n  max_messages: 500\n");
  std::mt19937 rng(9);
  int kills = 0;
  for (int round = 0; round < 12 && kills < 5; ++round) {
    const std::int64_t before = store->covered();
    if (before >= m_total) break;
    BackgroundProcess worker({"run", "--config", config});
    // Wait for progress, then kill at a random moment: mid-batch,
    // mid-transaction or between batches, whatever it is doing then.
    if (!store->wait_for_coverage(before + 1, 60, 5)) continue;
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 15));
    worker.signal(SIGKILL);
    EXPECT_EQ(worker.wait(10000), 128 + SIGKILL);
    ++kills;
  }
  ASSERT_GE(kills, 5) << "the backlog drained before five kills";
  run_to_completion(config, *store);

  const std::string copy = store->sqlite_copy();
  EXPECT_EQ(testing::canonical_database(copy), clean->canonical());
  // Every stream kind is in the comparison, the learned fixes too.
  SQLite::Database stored(copy, SQLite::OPEN_READONLY);
  for (const char* table :
       {"workflow_history", "extraction_events", "outcomes", "failure_fixes", "outcome_stats",
        "session_state_changes", "prompt_history", "prompt_search_docsize"})
    EXPECT_GT(stored.execAndGet(std::string("SELECT count(*) FROM ") + table).getInt64(), 0)
        << table;
}

TEST_P(Run, TwoWorkersOnOneDatabaseSplitThePartitionsAndTheSurvivorOfAKillTakesOver) {
  TempDir dir, clean_dir;
  const auto clean = store_in(clean_dir), store = store_in(dir);
  constexpr int k_all = 6 * static_cast<int>(core::k_stream_kind_count);  // 6 per topic
  // The partitions the mixed fleet writes to: all but the prompts topic's.
  constexpr int k_written = k_all - 6;
  // One config, one database, one group; small batches so both keep writing.
  const std::string config =
      config_in(*store, dir, "pair", "g-pair", "batch:\n  max_messages: 500\n");
  // A live stream on top of the backlog: the killed worker's partitions keep
  // receiving messages that only a takeover can persist.
  BackgroundProcess producer({"produce", "--brokers", m_bootstrap, "--kind", "mixed", "--count",
                              "40000", "--seed", "24", "--duplicates", "0.03", "--invalid", "0.02",
                              "--rate", "4000"});
  m_total += 40000;
  BackgroundProcess first({"run", "--config", config}, dir.file("first.log"));
  BackgroundProcess second({"run", "--config", config}, dir.file("second.log"));

  // The group splits the partitions between them.
  auto some = [&](int n) { return n > 0 && n < k_all; };
  ASSERT_TRUE(wait_for_assignment(dir.file("first.log"), some, 60));
  ASSERT_TRUE(wait_for_assignment(dir.file("second.log"), some, 60));
  ASSERT_EQ(assignments(dir.file("first.log")).back() + assignments(dir.file("second.log")).back(),
            k_all);
  // Both write: every partition's stored offset moves on after the split.
  const auto at_split = store->stored_offsets();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    const auto now = store->stored_offsets();
    const bool all_moved =
        now.size() == k_written && std::all_of(now.begin(), now.end(), [&](const auto& entry) {
          const auto before = at_split.find(entry.first);
          return before == at_split.end() || entry.second > before->second;
        });
    if (all_moved) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "a worker made no progress";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  second.signal(SIGKILL);
  EXPECT_EQ(second.wait(10000), 128 + SIGKILL);
  ASSERT_LT(store->covered(), m_total) << "the stream ended before the kill";
  // Once the group notices (session.timeout.ms), the survivor takes everything.
  ASSERT_TRUE(wait_for_assignment(
      dir.file("first.log"), [](int n) { return n == k_all; }, 60));
  ASSERT_EQ(producer.wait(60000), 0);
  ASSERT_TRUE(store->wait_for_coverage(m_total, 120)) << "the survivor did not catch up";
  first.signal(SIGTERM);
  ASSERT_EQ(first.wait(10000), 0);

  run_to_completion(config_in(*clean, clean_dir, "c", "g-clean-pair"), *clean);
  EXPECT_EQ(store->canonical(), clean->canonical());
}

bool log_contains(const std::string& log_path, const std::string& text) {
  std::ifstream in(log_path);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.find(text) != std::string::npos;
}

TEST_P(Run, ADatabaseLockedForSecondsPausesFetchingAndLosesNothing) {
  TempDir dir, clean_dir;
  const auto clean = store_in(clean_dir), store = store_in(dir);
  const std::string config =
      config_in(*store, dir, "l", "g-lock",
                "batch:\n  max_messages: 200\nstorage:\n  busy_timeout_ms: 100\n");
  const std::string log = dir.file("worker.log");
  // A live stream on top of the backlog: there are always writes to refuse,
  // however fast the backlog drains on this machine.
  BackgroundProcess producer({"produce", "--brokers", m_bootstrap, "--kind", "mixed", "--count",
                              "10000", "--seed", "31", "--rate", "1500"});
  m_total += 10000;
  BackgroundProcess worker({"run", "--config", config}, log);
  ASSERT_TRUE(store->wait_for_coverage(1, 60, 5));
  {
    // Another session takes the lock and keeps it beyond the worker's
    // busy timeout: its writes fail (transient), are retried, and fetching
    // pauses.
    const auto lock = store->hold_write_lock();
    const std::int64_t frozen = store->covered();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!log_contains(log, "fetching paused")) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "fetching never paused";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(log_contains(log, "database unavailable"));
    EXPECT_EQ(store->covered(), frozen);
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  ASSERT_EQ(producer.wait(60000), 0);
  ASSERT_TRUE(store->wait_for_coverage(m_total, 120)) << "the worker did not resume";
  EXPECT_TRUE(log_contains(log, "fetching resumed"));
  worker.signal(SIGTERM);
  ASSERT_EQ(worker.wait(10000), 0);
  run_to_completion(config_in(*clean, clean_dir, "c", "g-clean-lock"), *clean);
  EXPECT_EQ(store->canonical(), clean->canonical());
}

INSTANTIATE_TEST_SUITE_P(Backends, Run, ::testing::ValuesIn(testing::backend_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace patternd
