// Faults of a PostgreSQL store (SPEC section 16, issue 21), each with a live
// stream, the real broker and a real server: the server restarted
// mid-stream, the worker's connection killed inside a batch, a table locked
// beyond the lock timeout; then two workers writing the same rows and
// patterns at once for a minute. Every case ends as the SQLite fault suite
// does: every message accounted for, and the database equal to a clean
// run's.

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "core/types.hpp"
#include "support/helpers.hpp"
#include "support/test_store.hpp"

namespace patternd {
namespace {

using testing::BackgroundProcess;
using testing::TempDir;
using testing::TestStore;

constexpr int k_per_topic = 3000;
constexpr const char* k_kinds[] = {"workflows", "extractions"};

using testing::accounting;
using testing::Accounting;

class PostgresFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    m_broker = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"dev-broker", "--partitions", "4"}, m_dir.file("broker.log"));
    m_bootstrap = m_broker->read_line(10000);
    ASSERT_FALSE(m_bootstrap.empty());
    for (const char* kind : k_kinds) {
      const auto r = testing::run_patternd(
          {"produce", "--kind", kind, "--count", std::to_string(k_per_topic), "--seed",
           kind[0] == 'w' ? "41" : "42", "--duplicates", "0.03", "--invalid", "0.02", "--start",
           "2026-11-01T00:00:00Z", "--output", m_dir.file(std::string(kind) + ".jsonl")});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    m_database = "faults" + std::to_string(++s_databases);
    m_store = testing::postgres_store(server(), m_database, m_dir);
  }

  void TearDown() override {
    if (m_broker) m_broker->signal(SIGTERM);
    if (HasFailure()) {
      for (const auto& log : m_logs) std::cerr << "--- " << log << "\n" << testing::read_file(log);
      std::cerr << "--- server log\n" << server().log();
    }
  }

  static testing::PostgresServer& server() { return testing::shared_postgres(); }

  std::string config(const TempDir& dir, const TestStore& store, const std::string& name,
                     const std::string& group, const std::string& extra = "") {
    return testing::write_config(
        dir, name + ".yaml", "",
        "kafka:\n  brokers: " + m_bootstrap + "\n  group_id: " + group +
            "\n  properties:\n    session.timeout.ms: 6000\n    heartbeat.interval.ms: 500\n" +
            "batch:\n  max_messages: 300\n" + store.config_yaml() + extra);
  }

  // A worker logging to worker-N.log, once it owns its partitions; returns
  // its metrics port.
  int start_worker(const std::string& group = "g-faults", const std::string& extra = "") {
    const std::string log = m_dir.file("worker-" + std::to_string(m_logs.size()) + ".log");
    m_logs.push_back(log);
    m_workers.push_back(std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"run", "--config",
                                 config(m_dir, *m_store, "worker", group, extra)},
        log));
    const int port = testing::metrics_port(log, 30);
    EXPECT_GT(port, 0);
    EXPECT_TRUE(testing::readyz_says(
        port, 200, "\"assigned_partitions\":" + std::to_string(4 * core::k_stream_kind_count), 60));
    return port;
  }

  // Both streams to the broker at `rate` messages/s each, in the background.
  void start_producers(int rate) {
    for (const char* kind : k_kinds)
      m_producers.push_back(std::make_unique<BackgroundProcess>(std::vector<std::string>{
          "produce", "--brokers", m_bootstrap, "--file", m_dir.file(std::string(kind) + ".jsonl"),
          "--topic", kind, "--rate", std::to_string(rate)}));
  }

  // The workers catch up with everything produced and stop; every message is
  // accounted for, and the database equals a clean run's.
  void finish_and_check(bool one_group = true) {
    for (auto& p : m_producers) ASSERT_EQ(p->wait(120000), 0);
    std::int64_t on_broker = 0;
    for (const char* topic : {"agent.workflows", "agent.extractions"})
      for (const std::int64_t n : testing::partition_sizes(m_bootstrap, topic, 4)) on_broker += n;
    ASSERT_TRUE(m_store->wait_for_coverage(on_broker, 90)) << "messages lost";
    for (auto& worker : m_workers) {
      worker->signal(SIGTERM);
      EXPECT_EQ(worker->wait(10000), 0) << "no clean exit within 10 s of SIGTERM";
    }
    Accounting sum;
    for (const auto& log : m_logs) {
      const Accounting a = accounting(log);
      sum.persisted += a.persisted;
      sum.duplicates += a.duplicates;
      sum.dead_letters += a.dead_letters;
    }
    const std::int64_t stored =
        m_store->count("workflow_history") + m_store->count("extraction_events");
    if (one_group) {
      EXPECT_EQ(sum.persisted + sum.duplicates + sum.dead_letters, on_broker);
      EXPECT_EQ(stored, sum.persisted);
      EXPECT_EQ(m_store->count("dead_letters"), sum.dead_letters);
    }
    // Only what the decoder refused: no fault became a dead letter.
    const std::string copy = m_store->sqlite_copy();
    EXPECT_EQ(
        testing::dump_table(copy, "dead_letters",
                            {"id", "topic", "partition", "offset", "payload", "payload_size",
                             "message_time", "received_at", "reason", "source_file", "source_line"})
            .find("db_constraint"),
        std::string::npos);

    const TempDir clean_dir;
    const auto clean =
        testing::postgres_store(server(), "clean" + std::to_string(++s_databases), clean_dir);
    {
      BackgroundProcess worker({"run", "--config", config(clean_dir, *clean, "clean", "g-clean")});
      ASSERT_TRUE(clean->wait_for_coverage(on_broker, 90));
      worker.signal(SIGTERM);
      ASSERT_EQ(worker.wait(10000), 0);
    }
    EXPECT_EQ(testing::canonical_database(copy), clean->canonical());
  }

  bool logged(const std::string& text) const {
    for (const auto& log : m_logs)
      if (testing::read_file(log).find(text) != std::string::npos) return true;
    return false;
  }

  static inline int s_databases = 0;
  TempDir m_dir;
  std::string m_database;
  std::unique_ptr<TestStore> m_store;
  std::unique_ptr<BackgroundProcess> m_broker;
  std::vector<std::unique_ptr<BackgroundProcess>> m_workers, m_producers;
  std::vector<std::string> m_logs;
  std::string m_bootstrap;
};

TEST_F(PostgresFaults, TheServerRestartedMidStream) {
  const int port = start_worker();
  start_producers(1500);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  server().stop();
  // Not ready while the server is away, fetching paused.
  EXPECT_TRUE(testing::readyz_says(port, 503, "PostgreSQL", 20));
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  server().start();
  EXPECT_TRUE(testing::readyz_says(port, 200, "\"ready\":true", 30));
  finish_and_check();
  EXPECT_TRUE(logged("connected to PostgreSQL again"));
  EXPECT_TRUE(logged("fetching paused"));
}

TEST_F(PostgresFaults, TheWorkersConnectionKilledInsideABatch) {
  start_worker();
  start_producers(300);  // 10 s of stream: time for five kills
  // Kill the worker's connection whenever it is inside a transaction: in the
  // middle of a batch's statements, or between them.
  const std::string inside =
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + m_database +
      "' "
      "AND application_name = 'patternd' AND state IN ('active', 'idle in transaction') "
      "AND xact_start IS NOT NULL";
  int kills = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (kills < 5 && std::chrono::steady_clock::now() < deadline) {
    if (!server().query("postgres", inside).empty()) {
      ++kills;
      std::this_thread::sleep_for(std::chrono::milliseconds(400));  // let it reconnect
    }
  }
  EXPECT_GE(kills, 5) << "the worker was never caught inside a transaction";
  finish_and_check();
  EXPECT_TRUE(logged("connected to PostgreSQL again"));
}

TEST_F(PostgresFaults, ATableLockedBeyondTheLockTimeout) {
  const int port = start_worker("g-faults", "storage:\n  busy_timeout_ms: 200\n");
  start_producers(1500);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  {
    const auto lock = m_store->hold_write_lock();
    EXPECT_TRUE(testing::readyz_says(port, 503, "lock timeout", 20));
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  }
  EXPECT_TRUE(testing::readyz_says(port, 200, "\"ready\":true", 20));
  finish_and_check();
  EXPECT_TRUE(logged("fetching paused"));
  EXPECT_TRUE(logged("fetching resumed"));
}

// Two workers in two consumer groups: each reads every message, so for a
// minute both write the same raw rows and grow the same patterns, sessions
// and failures at the same moments. Whichever commits first stores a row;
// the other finds it there. No deadlock may surface as a dead letter or a
// crash, and every aggregate ends exact.
TEST_F(PostgresFaults, TwoWorkersWritingTheSamePatternsForAMinute) {
  start_worker("g-first");
  start_worker("g-second");
  // 60 s of both streams (3,000 messages each at 50 messages/s), which
  // both workers read as it arrives.
  start_producers(50);
  finish_and_check(false);
  // Both worked: each persisted some of the rows, and together all of them.
  const auto first = accounting(m_logs[0]), second = accounting(m_logs[1]);
  EXPECT_GT(first.persisted, 0);
  EXPECT_GT(second.persisted, 0);
  EXPECT_EQ(first.persisted + second.persisted,
            m_store->count("workflow_history") + m_store->count("extraction_events"));
}

}  // namespace
}  // namespace patternd
