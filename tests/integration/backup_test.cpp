// `patternd backup` while a worker drains a large backlog: the copy passes
// PRAGMA integrity_check, holds a consistent prefix (its stored offsets match
// its rows exactly), and restoring it and resuming from its offsets ends in
// the same database as the uninterrupted worker. On PostgreSQL, `backup`
// refuses and names the server's own tool, pg_dump.

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>

#include "support/helpers.hpp"
#include "support/test_store.hpp"

namespace patternd {
namespace {

using testing::BackgroundProcess;
using testing::TempDir;

constexpr std::int64_t k_total = 150'000;

std::int64_t one(SQLite::Database& db, const std::string& sql) {
  return db.execAndGet(sql).getInt64();
}

// SQLite only: `backup` copies a SQLite file (PostgreSQL's is pg_dump's job).
TEST(Backup, DuringHeavyIngestionIsAConsistentPrefixThatRestores) {
  TempDir dir;
  BackgroundProcess broker({"dev-broker", "--partitions", "8"});
  const std::string brokers = broker.read_line(10000);
  ASSERT_FALSE(brokers.empty());
  // No duplicates: then every offset below a stored next offset is exactly
  // one row or one dead letter.
  const auto produced =
      testing::run_patternd({"produce", "--brokers", brokers, "--kind", "mixed", "--count",
                             std::to_string(k_total), "--seed", "41", "--duplicates", "0",
                             "--invalid", "0.01", "--start", "2026-11-01T00:00:00Z"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;

  const std::string kafka = "kafka:\n  brokers: " + brokers +
                            "\n  properties:\n    session.timeout.ms: 6000\n"
                            "    heartbeat.interval.ms: 500\n";
  // Small transactions: many commits while the backup runs.
  const std::string config = testing::write_config(
      dir, "live.yaml", "", kafka + "  group_id: live\nbatch:\n  max_messages: 1000\n");
  const std::string live_db = dir.file("patternd.db");
  const std::string copy = dir.file("backup.db");
  {
    BackgroundProcess worker({"run", "--config", config});
    ASSERT_TRUE(testing::wait_for_coverage(live_db, k_total / 5, 60, 5));
    const auto r = testing::run_patternd({"backup", "--config", config, copy});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("integrity ok"), std::string::npos) << r.out;
    EXPECT_LT(testing::covered(live_db), k_total) << "the backlog drained before the backup: "
                                                     "nothing was written during it";
    ASSERT_TRUE(testing::wait_for_coverage(live_db, k_total, 120));
    worker.signal(SIGTERM);
    ASSERT_EQ(worker.wait(10000), 0);
  }

  // A second backup to an existing file is refused (exit 2), nothing touched.
  EXPECT_EQ(testing::run_patternd({"backup", "--config", config, copy}).exit_code, 2);

  struct stat st {};
  ASSERT_EQ(::stat(copy.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(copy + "-wal"));
  const std::int64_t covered = testing::covered(copy);
  EXPECT_GT(covered, 0);
  EXPECT_LT(covered, k_total) << "not taken during ingestion";
  {
    SQLite::Database db(copy, SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
    // Its offsets match its rows: per topic, rows + dead letters = offsets.
    for (const auto& [topic, table] :
         {std::pair<std::string, std::string>{"agent.workflows", "workflow_history"},
          {"agent.extractions", "extraction_events"}}) {
      const auto offsets = one(db,
                               "SELECT coalesce(sum(next_offset), 0) FROM kafka_offsets "
                               "WHERE topic = '" +
                                   topic + "'");
      EXPECT_GT(offsets, 0) << topic;
      EXPECT_EQ(one(db, "SELECT count(*) FROM " + table) +
                    one(db, "SELECT count(*) FROM dead_letters WHERE topic = '" + topic + "'"),
                offsets)
          << topic;
    }
    // And its aggregates match its rows.
    EXPECT_EQ(one(db, "SELECT sum(occurrences) FROM operation_patterns"),
              one(db, "SELECT count(*) FROM pattern_occurrences"));
    EXPECT_EQ(one(db, "SELECT sum(event_count) FROM agent_sessions"),
              one(db, "SELECT count(*) FROM extraction_events"));
  }

  // Restore: the copy in place of a database, a worker resumes from its
  // offsets, and ends where the uninterrupted worker ended.
  TempDir restored;
  std::filesystem::copy_file(copy, restored.file("patternd.db"));
  const std::string restored_config =
      testing::write_config(restored, "restored.yaml", "", kafka + "  group_id: restored\n");
  {
    BackgroundProcess worker({"run", "--config", restored_config});
    ASSERT_TRUE(testing::wait_for_coverage(restored.file("patternd.db"), k_total, 120));
    worker.signal(SIGTERM);
    ASSERT_EQ(worker.wait(10000), 0);
  }
  EXPECT_EQ(testing::canonical_database(restored.file("patternd.db")),
            testing::canonical_database(live_db));
  broker.signal(SIGTERM);
}

bool partial_copy_exists(const TempDir& dir, const std::string& out_name) {
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    if (entry.path().filename().string().rfind(out_name + ".partial-", 0) == 0) return true;
  return false;
}

// SQLite only: the copy of a SQLite file and its file system races.
TEST(Backup, AFileCreatedAtOutWhileTheBackupRunsIsNeverReplaced) {
  TempDir dir;
  const std::string config = testing::write_config(dir);
  ASSERT_EQ(testing::run_patternd({"migrate", "--config", config}).exit_code, 0);
  {
    // ~240 MB: the copy and its integrity check take long enough to race.
    SQLite::Database db(dir.file("patternd.db"), SQLite::OPEN_READWRITE);
    db.exec("CREATE TABLE filler (x BLOB)");
    db.exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000) "
        "INSERT INTO filler SELECT randomblob(4000) FROM n");
  }
  const std::string out = dir.file("out.db");
  BackgroundProcess backup({"backup", "--config", config, out}, dir.file("backup.err"));
  // As soon as the copy is being written beside OUT, another program takes
  // the name.
  ASSERT_TRUE(testing::eventually([&] { return partial_copy_exists(dir, "out.db"); }, 30));
  testing::write_file(out, "precious");
  EXPECT_EQ(backup.wait(120000), 2);
  // (Compared as a flag: a failure must not print a 240 MB file.)
  EXPECT_TRUE(testing::read_file(out) == "precious") << "the backup replaced the file at OUT";
  const std::string err = testing::read_file(dir.file("backup.err"));
  EXPECT_NE(err.find(out + ": exists already"), std::string::npos) << err;
  EXPECT_FALSE(partial_copy_exists(dir, "out.db"));
}

// SQLite only: OUT is a SQLite file to create.
TEST(Backup, AnEmptyOutIsAUsageError) {
  TempDir dir;
  const std::string config = testing::write_config(dir);
  ASSERT_EQ(testing::run_patternd({"migrate", "--config", config}).exit_code, 0);
  const auto r = testing::run_patternd({"backup", "--config", config, ""});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("OUT"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("filesystem"), std::string::npos) << r.err;
}

TEST(Backup, OnPostgresqlFailsAndNamesPgDumpAndWritesNothing) {
  TempDir dir;
  const auto store = testing::store_for("postgresql", dir, "backup");
  const std::string config = testing::write_config(dir, "patternd.yaml", "", store->config_yaml());
  ASSERT_EQ(testing::run_patternd({"migrate", "--config", config}).exit_code, 0);
  const std::string out = dir.file("backup.db");
  const auto r = testing::run_patternd({"backup", "--config", config, out});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("pg_dump"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace patternd
