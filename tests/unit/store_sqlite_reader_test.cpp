// The SQLite Reader's own guarantees: a read that runs past
// api.query_timeout_ms is cut short (it would hold the WAL checkpoint back)
// and the connection answers the next read; a reader opened on a database at
// an older schema says what to do.

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include "core/time.hpp"
#include "store/reader.hpp"
#include "support/helpers.hpp"

namespace patternd::store {
namespace {

TEST(StoreSqliteReader, AReadPastTheTimeoutIsCutShortAndTheNextOneIsAnswered) {
  testing::TempDir dir;
  const std::string config_path = testing::write_config(dir);
  ASSERT_EQ(testing::run_patternd({"migrate", "--config", config_path}).exit_code, 0);
  const core::TimestampMs now = core::now_ms();
  {
    // 400,000 sessions started in the last hour: counting them per minute
    // takes far longer than 10 ms.
    SQLite::Database db(dir.file("patternd.db"), SQLite::OPEN_READWRITE);
    SQLite::Statement insert(db,
                             "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
                             "WHERE i < 399999) INSERT INTO agent_sessions (session_id, "
                             "agent_name, first_event, first_event_identity, last_event, "
                             "event_count, error_count) SELECT 's' || i, 'a', ? - i * 9, "
                             "randomblob(32), ?, 1, 0 FROM n");
    insert.bind(1, now);
    insert.bind(2, now);
    insert.exec();
  }
  config::Config config;
  config.storage.path = dir.file("patternd.db");
  config.api.query_timeout_ms = 10;
  auto reader = open_reader(config);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  TimelineQuery q;
  q.bucket = Bucket::minute;
  q.to = now + 1;
  q.from = (now - 3'600'000) / 60'000 * 60'000;
  try {
    (*reader)->timeline(q);
    FAIL() << "a count of 400,000 sessions finished within 10 ms";
  } catch (const Unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("api.query_timeout_ms"), std::string::npos) << e.what();
  }
  SessionQuery newest;
  newest.page.limit = 1;
  EXPECT_EQ((*reader)->sessions(newest).size(), 2u) << "the connection still answers";

  config.api.query_timeout_ms = 60'000;
  auto patient = open_reader(config);
  ASSERT_TRUE(patient.ok());
  std::int64_t started = 0;
  for (const auto& bucket : (*patient)->timeline(q)) started += bucket.sessions_started;
  EXPECT_EQ(started, 400'000);
}

TEST(StoreSqliteReader, ADatabaseAtAnOlderSchemaIsNotReadAndTheMessageSaysMigrate) {
  testing::TempDir dir;
  const std::string config_path = testing::write_config(dir);
  ASSERT_EQ(testing::run_patternd({"migrate", "--config", config_path}).exit_code, 0);
  {
    SQLite::Database db(dir.file("patternd.db"), SQLite::OPEN_READWRITE);
    db.exec("PRAGMA user_version = 5");
  }
  config::Config config;
  config.storage.path = dir.file("patternd.db");
  const auto reader = open_reader(config);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.error().message.find("patternd migrate"), std::string::npos)
      << reader.error().message;
}

}  // namespace
}  // namespace patternd::store

namespace patternd::store {
namespace {

// Migration 7 counts the rows stored before it into the agent totals: the
// same totals as the writer keeps from then on.
TEST(StoreAgentTotals, TheMigrationCountsTheRowsAlreadyStoredAsTheWriterWould) {
  testing::TempDir dir;
  const std::string config = testing::write_config(dir);
  const auto workflows = testing::run_patternd({"produce", "--kind", "workflows", "--count", "500",
                                                "--seed", "3", "--output", dir.file("w.jsonl")});
  const auto events = testing::run_patternd({"produce", "--kind", "extractions", "--count", "800",
                                             "--seed", "4", "--output", dir.file("e.jsonl")});
  ASSERT_EQ(workflows.exit_code + events.exit_code, 0);
  for (const auto& [topic, file] : {std::pair{"workflows", "w.jsonl"}, {"extractions", "e.jsonl"}})
    ASSERT_EQ(
        testing::run_patternd({"ingest", "--config", config, "--topic", topic, dir.file(file)})
            .exit_code,
        0);
  const auto dump = [&] {
    std::string out;
    for (const char* table :
         {"agent_workflow_totals", "agent_event_totals", "activity_minutes", "activity_hours"})
      out += testing::dump_table(dir.file("patternd.db"), table);
    return out;
  };
  const std::string by_writer = dump();
  EXPECT_NE(by_writer.find("codex"), std::string::npos) << by_writer;
  {
    SQLite::Database db(dir.file("patternd.db"), SQLite::OPEN_READWRITE);
    db.exec(
        "DROP TABLE agent_workflow_totals; DROP TABLE agent_event_totals; "
        "DROP TABLE activity_minutes; DROP TABLE activity_hours; "
        // and what version 8 added
        "DROP TABLE outcomes; DROP TABLE failure_fix_agents; DROP TABLE failure_fixes; "
        "DROP TABLE outcome_stats; DROP TABLE outcome_agent_stats; "
        "ALTER TABLE agent_sessions DROP COLUMN feedback_outcomes; "
        // and what version 9 added
        "DROP TABLE session_state_changes; DROP INDEX agent_sessions_active; "
        "DROP INDEX agent_sessions_active_agent; "
        "ALTER TABLE agent_sessions DROP COLUMN state_changes; "
        "ALTER TABLE agent_sessions DROP COLUMN started_at; "
        "ALTER TABLE agent_sessions DROP COLUMN ended_at; "
        "ALTER TABLE agent_sessions DROP COLUMN exit_code; "
        "ALTER TABLE agent_sessions DROP COLUMN end_state; "
        "ALTER TABLE agent_sessions DROP COLUMN end_rank; "
        "ALTER TABLE agent_sessions DROP COLUMN state; "
        "ALTER TABLE agent_sessions DROP COLUMN state_rank; "
        "ALTER TABLE agent_sessions DROP COLUMN lines_processed; "
        "ALTER TABLE agent_sessions DROP COLUMN environment; "
        "ALTER TABLE agent_sessions DROP COLUMN environment_rank; "
        "ALTER TABLE agent_sessions DROP COLUMN stdout_log_path; "
        "ALTER TABLE agent_sessions DROP COLUMN stdout_log_path_rank; "
        "ALTER TABLE agent_sessions DROP COLUMN stderr_log_path; "
        "ALTER TABLE agent_sessions DROP COLUMN stderr_log_path_rank; "
        "ALTER TABLE agent_sessions DROP COLUMN extraction_config_version; "
        "ALTER TABLE agent_sessions DROP COLUMN extraction_config_version_rank; "
        "ALTER TABLE agent_sessions DROP COLUMN environment_config_version; "
        "ALTER TABLE agent_sessions DROP COLUMN environment_config_version_rank; "
        // and what versions 10 and 11 added
        "DROP TABLE prompt_latency_counts; "
        "DROP TABLE prompt_search; DROP TABLE prompt_history; DROP TABLE prompt_backend_stats; "
        "PRAGMA user_version = 6");
  }
  const auto migrated = testing::run_patternd({"migrate", "--config", config});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
  EXPECT_NE(migrated.out.find("from version 6 to 11"), std::string::npos) << migrated.out;
  EXPECT_EQ(dump(), by_writer);
}

}  // namespace
}  // namespace patternd::store
