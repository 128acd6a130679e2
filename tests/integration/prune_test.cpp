// Retention: `patternd prune` and the worker's daily prune delete raw rows
// older than retention.days in short transactions and keep the pattern
// aggregates; the same events delivered again are expired, never counted
// twice. Every test runs on both backends (support/test_store.hpp); `one()`
// and `aggregates()` read a SQLite copy of a PostgreSQL database.

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <regex>
#include <thread>

#include "core/time.hpp"
#include "support/helpers.hpp"
#include "support/test_store.hpp"

namespace patternd {
namespace {

using testing::BackgroundProcess;
using testing::TempDir;

constexpr std::int64_t k_day_ms = 86'400'000;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t one(const std::string& db, const std::string& sql) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  return d.execAndGet(sql).getInt64();
}

// The tables retention keeps whole.
std::string aggregates(const std::string& db) {
  std::string out;
  for (const char* table : {"operation_patterns", "operation_pattern_days", "failure_patterns",
                            "failure_pattern_agents", "failure_pattern_sessions", "agent_sessions"})
    out += std::string(table) + "\n" + testing::dump_table(db, table);
  return out;
}

class Prune : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    m_store = testing::store_for(GetParam(), m_dir, "prune");
    // Events over the last 60 days: about half older than 30. They are
    // evenly spaced, one of them 30 days after the first: starting 10
    // minutes late keeps that one clear of the 30-day horizon while the test
    // runs (it would cross it a second after being made otherwise).
    const std::string start = core::format_rfc3339(now_ms() - 60 * k_day_ms + 10 * 60'000);
    for (const char* kind : {"workflows", "extractions"}) {
      const auto r = testing::run_patternd({"produce", "--kind", kind, "--count", "4000", "--seed",
                                            "61", "--invalid", "0.01", "--span-hours", "1440",
                                            "--start", start, "--output", file(kind)});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    // write_config() keeps every event (retention.days: 0).
    m_keep_all = testing::write_config(m_dir, "keep.yaml", "", m_store->config_yaml());
    m_thirty = m_dir.file("thirty.yaml");
    const std::string keep = testing::read_file(m_keep_all);
    const std::string zero = "retention:\n  days: 0\n";
    ASSERT_NE(keep.find(zero), std::string::npos);
    testing::write_file(m_thirty,
                        std::regex_replace(keep, std::regex(zero), "retention:\n  days: 30\n"));
  }

  std::string file(const std::string& kind) const { return m_dir.file(kind + ".jsonl"); }

  std::string ingest(const std::string& config) {
    std::string err;
    for (const char* kind : {"workflows", "extractions"}) {
      const auto r =
          testing::run_patternd({"ingest", "--config", config, "--topic", kind, file(kind)});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      err += r.err;
    }
    return err;
  }

  TempDir m_dir;
  std::unique_ptr<testing::TestStore> m_store;
  std::string m_keep_all, m_thirty;
};

TEST_P(Prune, DeletesOldRowsInShortTransactionsKeepsAggregatesAndNeverCountsTwice) {
  ingest(m_keep_all);
  std::string db = m_store->sqlite_copy();
  const std::string before = aggregates(db);
  const std::int64_t workflows = one(db, "SELECT count(*) FROM workflow_history");
  const std::int64_t t0 = now_ms() - 30 * k_day_ms;
  const std::int64_t old_workflows =
      one(db, "SELECT count(*) FROM workflow_history WHERE completed_at < " + std::to_string(t0));
  ASSERT_GT(old_workflows, workflows / 4);
  ASSERT_LT(old_workflows, workflows * 3 / 4);
  const std::int64_t recent_events =
      one(db, "SELECT count(*) FROM extraction_events WHERE event_time >= " +
                  std::to_string(t0 + 60'000));

  const auto pruned = testing::run_patternd({"prune", "--config", m_thirty, "--chunk", "300"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(pruned.out, m, std::regex(R"(in ([\d,]+) transactions)")))
      << pruned.out;
  EXPECT_GT(std::stoi(m[1].str()), 10) << "chunks of 300 rows: " << pruned.out;
  db = m_store->sqlite_copy();

  // Old raw rows are gone, recent ones stay, every aggregate is untouched.
  EXPECT_EQ(
      one(db, "SELECT count(*) FROM workflow_history WHERE completed_at < " + std::to_string(t0)),
      0);
  EXPECT_EQ(one(db, "SELECT count(*) FROM workflow_history"), workflows - old_workflows);
  EXPECT_EQ(
      one(db, "SELECT count(*) FROM extraction_events WHERE event_time < " + std::to_string(t0)),
      0);
  EXPECT_EQ(one(db, "SELECT count(*) FROM extraction_events WHERE event_time >= " +
                        std::to_string(t0 + 60'000)),
            recent_events);
  EXPECT_EQ(one(db,
                "SELECT count(*) FROM pattern_occurrences o LEFT JOIN workflow_history w "
                "ON w.id = o.workflow_id WHERE w.id IS NULL"),
            0)
      << "occurrences of pruned workflows";
  EXPECT_GT(one(db, "SELECT count(*) FROM pattern_occurrences"), 0);
  EXPECT_EQ(aggregates(db), before);

  // Again: nothing left to delete but what aged past the horizon meanwhile
  // (8,000 events over 60 days: one every 10 minutes or so).
  const auto again = testing::run_patternd({"prune", "--config", m_thirty});
  ASSERT_EQ(again.exit_code, 0);
  ASSERT_TRUE(std::regex_search(again.out, m, std::regex(R"(: ([\d,]+) rows deleted)")))
      << again.out;
  EXPECT_LE(std::stoi(m[1].str()), 4) << again.out;

  // The same events delivered again: the old ones are expired, nothing is
  // counted twice.
  const std::string err = ingest(m_thirty);
  EXPECT_NE(err.find("expired"), std::string::npos);
  db = m_store->sqlite_copy();
  EXPECT_EQ(one(db, "SELECT count(*) FROM workflow_history"), workflows - old_workflows);
  EXPECT_EQ(aggregates(db), before);
}

TEST_P(Prune, TheWorkerPrunesAtStartUpAndDaily) {
  ingest(m_keep_all);
  std::string db = m_store->sqlite_copy();
  const std::string before = aggregates(db);
  const std::int64_t t0 = now_ms() - 30 * k_day_ms;
  ASSERT_GT(
      one(db, "SELECT count(*) FROM extraction_events WHERE event_time < " + std::to_string(t0)),
      0);

  BackgroundProcess broker({"dev-broker", "--partitions", "1"});
  const std::string brokers = broker.read_line(10000);
  ASSERT_FALSE(brokers.empty());
  testing::write_file(m_thirty,
                      testing::read_file(m_thirty) + "kafka:\n  brokers: " + brokers + "\n");
  BackgroundProcess worker({"run", "--config", m_thirty}, m_dir.file("worker.log"));
  EXPECT_TRUE(testing::eventually(
      [&] {
        return testing::read_file(m_dir.file("worker.log")).find("retention: pruned") !=
               std::string::npos;
      },
      60));
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(10000), 0);
  db = m_store->sqlite_copy();
  EXPECT_EQ(
      one(db, "SELECT count(*) FROM extraction_events WHERE event_time < " + std::to_string(t0)),
      0);
  EXPECT_EQ(aggregates(db), before);
  broker.signal(SIGTERM);
}

INSTANTIATE_TEST_SUITE_P(Backends, Prune, ::testing::ValuesIn(testing::backend_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace patternd
