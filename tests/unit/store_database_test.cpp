#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <tuple>

#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/row_keys.hpp"
#include "support/helpers.hpp"
#include "unit/store_batch_writer_fixture.hpp"

namespace patternd::store {
namespace {

using core::TopicKind;

class StoreDatabaseUpgrade : public BatchWriterFixture {};

TEST_F(StoreDatabaseUpgrade, Versions3And4KeyExistingRowsKeepingTheirIdsAndTheirDuplicates) {
  // A version-2 database: one workflow, two events whose identities share
  // their first 8 bytes (a 64-bit collision staged in the data), the staged
  // one older, and a third sharing only the 44 bits version 4 keeps.
  const auto real = batch(TopicKind::extractions,
                          {R"({"agent_name": "a", "session_id": "s", "event_type": "note",)"
                           R"( "event_id": "e-1", "timestamp": "2026-11-20T10:00:00Z"})"});
  const core::Digest identity = real.extractions.at(0).event.identity;
  core::Digest staged = identity;
  staged[31] ^= 0xFF;
  core::Digest near = identity;
  near[7] ^= 0x01;  // bits 7..0 of the 64-bit key
  const std::string v2 = m_dir.file("v2.db");
  {
    SQLite::Database raw(v2, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (int i = 0; i < 2; ++i) raw.exec(k_migrations.at(static_cast<std::size_t>(i)).sql);
    raw.exec("PRAGMA user_version = 2");
    raw.exec(
        "INSERT INTO workflow_history (id, workflow_id, agent_name, nl_input, "
        "workflow_template, status, total_tokens, cost_micros, error_count, retry_count, "
        "duration_ms, completed_at) VALUES (7, 'wf-1', 'a', 'Run pytest', 'adw', "
        "'completed', 1, 2, 0, 0, 3, 4)");
    SQLite::Statement event(raw,
                            "INSERT INTO extraction_events (id, identity, event_id, "
                            "agent_name, session_id, event_time, event_type) "
                            "VALUES (?, ?, ?, 'a', 's', 1763632800000, 'note')");
    for (const auto& [id, digest, event_id] :
         {std::tuple{3, staged, "staged"}, std::tuple{5, identity, "e-1"},
          std::tuple{9, near, "near"}}) {
      event.bind(1, id);
      event.bind(2, digest.data(), static_cast<int>(digest.size()));
      event.bind(3, event_id);
      event.exec();
      event.reset();
    }
  }
  config::Storage storage;
  storage.path = v2;
  auto db = Database::open(storage);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ((*db)->migration().from_version, 2);
  SQLite::Database& sql = (*db)->sql();
  EXPECT_EQ(sql.execAndGet("PRAGMA integrity_check").getString(), "ok");
  // Version 4: generation 1 + id / 4096, then the top 44 bits of the hash.
  EXPECT_EQ(sql.execAndGet("SELECT workflow_key FROM workflow_history WHERE id = 7").getInt64(),
            pack_key(1, key_hash(text_key("wf-1"))));
  EXPECT_EQ(sql.execAndGet("SELECT identity_key FROM extraction_events WHERE id = 3").getInt64(),
            pack_key(1, key_hash(digest_key(identity))));  // the older row keeps the key
  EXPECT_TRUE(sql.execAndGet("SELECT identity_key FROM extraction_events WHERE id = 5").isNull());
  EXPECT_TRUE(sql.execAndGet("SELECT identity_key FROM extraction_events WHERE id = 9").isNull());

  // What was stored before the upgrade is a duplicate after it.
  BatchWriter writer(**db, m_config.kafka);
  const auto wf = writer.write(batch(TopicKind::workflows, {workflow("wf-1", "Run pytest", 0.1)}));
  EXPECT_EQ(wf.topic(TopicKind::workflows).duplicates, 1u);
  EXPECT_EQ(writer.write(real).topic(TopicKind::extractions).duplicates, 1u);
  EXPECT_EQ(sql.execAndGet("SELECT count(*) FROM extraction_events").getInt(), 3);
}

TEST(StoreDatabase, MigratesToTheLatestVersionWithWalAndAPrivateFile) {
  testing::TempDir dir;
  config::Storage storage;
  storage.path = dir.file("sub/dir/p.db");
  auto db = Database::open(storage);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ((*db)->schema_version(), Database::latest_schema_version());
  EXPECT_EQ((*db)->migration().from_version, 0);
  EXPECT_EQ((*db)->sql().execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ(std::filesystem::status(storage.path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  for (const char* table :
       {"workflow_history", "operation_patterns", "pattern_occurrences", "extraction_events",
        "code_blocks", "agent_sessions", "failure_patterns", "dead_letters", "kafka_offsets",
        "operation_pattern_stats"})
    EXPECT_EQ((*db)
                  ->sql()
                  .execAndGet(std::string("SELECT count(*) FROM sqlite_schema WHERE name = '") +
                              table + "'")
                  .getInt(),
              1)
        << table;
  db->reset();
  auto again = Database::open(storage);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->migration().from_version, Database::latest_schema_version());
}

// Whether inserting into `table` builds an ephemeral b-tree per row, as a
// CHECK (x IN (...)) does, in the schema as `db` has parsed it.
bool insert_builds_an_ephemeral_table(SQLite::Database& db, const std::string& table,
                                      const std::string& columns, const std::string& values) {
  SQLite::Statement explain(
      db, "EXPLAIN INSERT INTO " + table + " (" + columns + ") VALUES (" + values + ")");
  while (explain.executeStep())
    if (explain.getColumn(1).getString() == "OpenEphemeral") return true;
  return false;
}

TEST(StoreDatabase, Version2RewritesTheChecksInPlaceKeepingRowsAndWhatTheyReject) {
  testing::TempDir dir;
  config::Storage storage;
  storage.path = dir.file("p.db");
  const std::string wf_columns =
      "workflow_id, agent_name, nl_input, workflow_template, status, total_tokens, cost_micros, "
      "error_count, retry_count, duration_ms, completed_at";
  const std::string ev_columns =
      "identity, agent_name, session_id, event_time, event_type, risk_level, auto_confirmable";
  // A version-1 database with rows, and a second connection that parsed the
  // version-1 schema before the upgrade (another worker, say).
  SQLite::Database other(storage.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  other.exec("PRAGMA journal_mode = WAL");
  other.exec(k_migrations.at(0).sql);
  other.exec("PRAGMA user_version = 1");
  other.exec("INSERT INTO workflow_history (" + wf_columns +
             ") VALUES ('wf-1', 'a', 'Run pytest', 'adw', 'failed', 1, 2, 0, 0, 3, 4)");
  other.exec("INSERT INTO extraction_events (" + ev_columns +
             ") VALUES (zeroblob(32), 'a', 's', 1, 'error', 'high', 1)");
  ASSERT_TRUE(insert_builds_an_ephemeral_table(
      other, "workflow_history", wf_columns, "'x', 'a', 'n', 't', 'completed', 0, 0, 0, 0, 0, 0"));

  auto db = Database::open(storage);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ((*db)->migration().from_version, 1);
  EXPECT_EQ((*db)->schema_version(), Database::latest_schema_version());
  SQLite::Database& sql = (*db)->sql();
  EXPECT_EQ(sql.execAndGet("PRAGMA integrity_check").getString(), "ok");
  EXPECT_EQ(
      sql.execAndGet("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                     "name IN ('workflow_history', 'extraction_events') AND sql LIKE '% IN (%'")
          .getInt(),
      0);
  EXPECT_EQ(sql.execAndGet("SELECT status FROM workflow_history").getString(), "failed");
  EXPECT_EQ(sql.execAndGet("SELECT risk_level FROM extraction_events").getString(), "high");

  // Both connections now insert without an ephemeral table: the other one
  // re-reads the schema at its next statement because the cookie changed
  // (EXPLAIN alone shows the program of the schema a connection has parsed) ...
  other.exec("INSERT INTO workflow_history (" + wf_columns +
             ") VALUES ('wf-0', 'a', 'n', 't', 'completed', 0, 0, 0, 0, 0, 0)");
  for (SQLite::Database* c : {&sql, &other}) {
    EXPECT_FALSE(insert_builds_an_ephemeral_table(
        *c, "workflow_history", wf_columns, "'x', 'a', 'n', 't', 'completed', 0, 0, 0, 0, 0, 0"));
    EXPECT_FALSE(insert_builds_an_ephemeral_table(*c, "extraction_events", ev_columns,
                                                  "zeroblob(32), 'a', 's', 1, 'e', 'low', 0"));
  }
  // ... and the checks reject what they rejected before, and accept NULL.
  const auto rejects = [&](const std::string& statement) {
    try {
      sql.exec(statement);
    } catch (const SQLite::Exception& e) {
      return e.getErrorCode() == SQLITE_CONSTRAINT;
    }
    return false;
  };
  EXPECT_TRUE(rejects("INSERT INTO workflow_history (" + wf_columns +
                      ") VALUES ('wf-2', 'a', 'n', 't', 'bogus', 0, 0, 0, 0, 0, 0)"));
  EXPECT_TRUE(rejects("INSERT INTO extraction_events (" + ev_columns +
                      ") VALUES (randomblob(32), 'a', 's', 1, 'e', 'severe', 0)"));
  EXPECT_TRUE(rejects("INSERT INTO extraction_events (" + ev_columns +
                      ") VALUES (randomblob(32), 'a', 's', 1, 'e', 'low', 2)"));
  EXPECT_FALSE(rejects("INSERT INTO extraction_events (" + ev_columns +
                       ") VALUES (randomblob(32), 'a', 's', 1, 'e', NULL, NULL)"));
}

TEST(StoreDatabase, RefusesASchemaNewerThanItKnows) {
  testing::TempDir dir;
  config::Storage storage;
  storage.path = dir.file("p.db");
  {
    SQLite::Database raw(storage.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("PRAGMA user_version = 999");
  }
  auto db = Database::open(storage);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message.find("schema version 999 is newer"), std::string::npos);
}

}  // namespace
}  // namespace patternd::store
