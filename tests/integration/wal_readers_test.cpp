// Other processes reading the database while workers write it (issue 23).
//
// POSIX advisory locks belong to a process: closing any descriptor of the
// database file drops every lock the process holds on it, those of its live
// SQLite connections included. A worker that did so once (its start-up prune
// opened the file to create it privately) looked, to the next reader that
// closed its connection, like no connection at all: that reader checkpointed
// and deleted the WAL, and the worker went on committing into a deleted
// file, invisible to everyone and lost on kill -9. These cases run the
// readers people really run next to a worker, after its start-up prune,
// while it writes and while it is idle, and then check that nothing it
// committed is missing.

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include "support/helpers.hpp"

namespace patternd {
namespace {

using testing::BackgroundProcess;
using testing::TempDir;

constexpr const char* k_kinds[] = {"workflows", "extractions"};
constexpr int k_partitions = 4;

class WalReaders : public ::testing::Test {
 protected:
  void SetUp() override {
    m_broker = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"dev-broker", "--partitions", std::to_string(k_partitions)},
        m_dir.file("broker.log"));
    m_bootstrap = m_broker->read_line(10000);
    ASSERT_FALSE(m_bootstrap.empty());
    // Retention on (the default's 90 days), events from the last few hours:
    // nothing expires, and the worker prunes a few seconds after start-up.
    testing::write_file(config_path(),
                        "kafka:\n  brokers: " + m_bootstrap +
                            "\n  group_id: g-wal\n  properties:\n    session.timeout.ms: 6000\n"
                            "    heartbeat.interval.ms: 500\nstorage:\n  path: " +
                            db() + "\nretention:\n  days: 90\ndetection:\n  rules: " +
                            testing::source_path("config/patterns.yaml") +
                            "\nmetrics:\n  listen: 127.0.0.1:0\napi:\n  listen: 127.0.0.1:0\n");
  }

  void TearDown() override {
    if (m_broker) m_broker->signal(SIGTERM);
    if (HasFailure())
      for (const auto& log : m_logs) std::cerr << "--- " << log << "\n" << testing::read_file(log);
  }

  struct Worker {
    std::unique_ptr<BackgroundProcess> process;
    std::string log;
    int port = -1;
  };

  // A worker that has pruned once (its start-up prune, 5 s after start).
  void start_worker() {
    Worker w;
    w.log = m_dir.file("worker-" + std::to_string(m_workers.size()) + ".log");
    m_logs.push_back(w.log);
    w.process = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"run", "--config", config_path()}, w.log);
    w.port = testing::metrics_port(w.log, 30);
    ASSERT_GT(w.port, 0);
    ASSERT_TRUE(testing::eventually(
        [&] {
          return testing::read_file(w.log).find("pruned rows older than") != std::string::npos;
        },
        30))
        << "no start-up prune";
    m_workers.push_back(std::move(w));
  }

  // `count` messages of each kind, produced at `rate` per second and kind
  // (0: as fast as possible), in the background.
  void produce(int count, int rate) {
    for (const char* kind : k_kinds) {
      const std::string file =
          m_dir.file(std::string(kind) + "-" + std::to_string(m_batches) + ".jsonl");
      const auto r =
          testing::run_patternd({"produce", "--kind", kind, "--count", std::to_string(count),
                                 "--seed", std::to_string(100 + m_batches), "--output", file});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      std::vector<std::string> args{"produce", "--brokers", m_bootstrap, "--file",
                                    file,      "--topic",   kind};
      if (rate > 0) args.insert(args.end(), {"--rate", std::to_string(rate)});
      m_producers.push_back(std::make_unique<BackgroundProcess>(args));
    }
    ++m_batches;
  }

  bool producers_running() {
    for (auto& p : m_producers)
      if (p->wait(0) == -1) return true;
    return false;
  }

  void wait_for_producers() {
    for (auto& p : m_producers) ASSERT_EQ(p->wait(60000), 0);
    m_producers.clear();
  }

  std::int64_t on_broker() const {
    std::int64_t n = 0;
    for (const char* topic : {"agent.workflows", "agent.extractions"})
      for (const std::int64_t size : testing::partition_sizes(m_bootstrap, topic, k_partitions))
        n += size;
    return n;
  }

  // One round of the readers an operator runs next to a worker: each opens
  // the database, reads, and closes it again.
  void read_once(bool with_prune = false) {
    const auto sql = testing::run_command({"sqlite3", db(), "SELECT count(*) FROM kafka_offsets"});
    ASSERT_EQ(sql.exit_code, 0) << sql.err;
    const auto report = testing::run_patternd({"report", "--config", config_path()});
    ASSERT_EQ(report.exit_code, 0) << report.err;
    const std::string copy = m_dir.file("backup-" + std::to_string(m_backups++) + ".db");
    const auto backup = testing::run_patternd({"backup", "--config", config_path(), copy});
    ASSERT_EQ(backup.exit_code, 0) << backup.err;
    std::filesystem::remove(copy);
    if (with_prune) {
      const auto prune = testing::run_patternd({"prune", "--config", config_path()});
      ASSERT_EQ(prune.exit_code, 0) << prune.err;
    }
  }

  // The database files a worker has open that no longer have a name.
  static std::vector<std::string> deleted_database_files(int pid, const std::string& db_path) {
    std::vector<std::string> found;
    for (const auto& fd :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
      std::error_code ec;
      const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
      if (!ec && target.rfind(db_path, 0) == 0 && target.find("(deleted)") != std::string::npos)
        found.push_back(target);
    }
    return found;
  }

  // Readers while the stream runs, readers while the workers are idle, a
  // second stream; then: no deleted files open, every commit visible to a
  // reader, and after kill -9 every message the workers counted is stored.
  void readers_never_lose_commits(bool with_prune) {
    produce(6000, 2000);
    int rounds = 0;
    while (producers_running()) {
      ASSERT_NO_FATAL_FAILURE(read_once(with_prune));
      ++rounds;
    }
    EXPECT_GE(rounds, 2) << "the readers should overlap the stream";
    ASSERT_NO_FATAL_FAILURE(wait_for_producers());
    const std::int64_t first = on_broker();
    EXPECT_GE(first, 12000);
    ASSERT_TRUE(testing::wait_for_coverage(db(), first, 60))
        << "a reader does not see the workers' commits: " << testing::covered(db()) << " of "
        << first;

    for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(read_once(with_prune));  // idle

    produce(2000, 0);
    ASSERT_NO_FATAL_FAILURE(wait_for_producers());
    const std::int64_t total = on_broker();
    ASSERT_TRUE(testing::wait_for_coverage(db(), total, 60))
        << "a reader does not see the workers' commits after idle readers: "
        << testing::covered(db()) << " of " << total;

    double counted = 0;
    for (const auto& w : m_workers) {
      EXPECT_EQ(deleted_database_files(w.process->pid(), db()), std::vector<std::string>{});
      counted += testing::metric_sum(testing::http_get(w.port, "/metrics").body,
                                     "patternd_messages_consumed_total");
    }
    EXPECT_EQ(counted, total) << "the workers' own count of what they consumed and committed";
    for (auto& w : m_workers) {
      w.process->signal(SIGKILL);
      w.process->wait(10000);
    }
    EXPECT_EQ(testing::covered(db()), total) << "committed messages lost on kill -9";
    SQLite::Database database(db(), SQLite::OPEN_READONLY);
    EXPECT_EQ(database.execAndGet("PRAGMA integrity_check").getString(), "ok");
  }

  std::string db() const { return m_dir.file("patternd.db"); }
  std::string config_path() const { return m_dir.file("patternd.yaml"); }

  TempDir m_dir;
  std::unique_ptr<BackgroundProcess> m_broker;
  std::vector<Worker> m_workers;
  std::vector<std::unique_ptr<BackgroundProcess>> m_producers;
  std::vector<std::string> m_logs;
  std::string m_bootstrap;
  int m_batches = 0;
  int m_backups = 0;
};

TEST_F(WalReaders, ReadersNextToAWorkerNeverMakeItsCommitsVanish) {
  ASSERT_NO_FATAL_FAILURE(start_worker());
  readers_never_lose_commits(false);
}

TEST_F(WalReaders, ReadersAndAPruneByHandNextToTwoWorkersNeverMakeTheirCommitsVanish) {
  ASSERT_NO_FATAL_FAILURE(start_worker());
  ASSERT_NO_FATAL_FAILURE(start_worker());
  readers_never_lose_commits(true);
}

}  // namespace
}  // namespace patternd
