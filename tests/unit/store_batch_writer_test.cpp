#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cmath>
#include <mutex>

#include "pipeline/processor.hpp"
#include "store/batch_writer.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/prune.hpp"
#include "store/row_keys.hpp"
#include "store/write_stage.hpp"
#include "support/helpers.hpp"

namespace patternd::store {
namespace {

using core::TopicKind;

class StoreBatchWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    m_config.storage.path = m_dir.file("t.db");
    m_config.retention.days = 0;
    m_rules = std::make_unique<detect::Rules>(
        detect::Rules::load(testing::source_path("config/patterns.yaml")).value());
    m_db = std::move(Database::open(m_config.storage)).value();
    m_writer = std::make_unique<BatchWriter>(*m_db, m_config.kafka);
  }

  pipeline::Batch batch(TopicKind kind, const std::vector<std::string>& payloads,
                        std::int32_t partition = -1, std::int64_t first_offset = 1) {
    pipeline::Batch b;
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      auto& m = b.messages.emplace_back();
      m.source = {kind, core::Partition{partition},
                  core::Offset{first_offset + static_cast<std::int64_t>(i)}};
      m.timestamp = 1'000;
      m.payload = payloads[i];
    }
    pipeline::Processor(m_config, *m_rules).prepare(b, core::now_ms());
    return b;
  }

  std::int64_t count(const std::string& sql) { return m_db->sql().execAndGet(sql).getInt64(); }

  static std::string workflow(const std::string& id, const std::string& input, double cost,
                              const std::string& status = "completed", int errors = 0,
                              const std::string& at = "2026-11-20T10:00:00Z") {
    return R"({"workflow_id": ")" + id + R"(", "nl_input": ")" + input +
           R"(", "total_tokens": 1000, "actual_cost_total": )" + std::to_string(cost) +
           R"(, "status": ")" + status + R"(", "error_count": )" + std::to_string(errors) +
           R"(, "duration_seconds": 60, "completed_at": ")" + at + R"("})";
  }

  testing::TempDir m_dir;
  config::Config m_config;
  std::unique_ptr<detect::Rules> m_rules;
  std::unique_ptr<Database> m_db;
  std::unique_ptr<BatchWriter> m_writer;
};

TEST_F(StoreBatchWriter, AggregatesAreExactSumsOfNewOccurrencesOnly) {
  const auto first = batch(TopicKind::workflows,
                           {workflow("a", "Run backend tests with pytest", 0.10),
                            workflow("b", "Run backend tests with pytest", 0.30, "failed", 2),
                            workflow("a", "Run backend tests with pytest", 0.10)});
  const auto outcome = m_writer->write(first);
  EXPECT_EQ(outcome.topic(TopicKind::workflows).persisted, 2u);
  EXPECT_EQ(outcome.topic(TopicKind::workflows).duplicates, 1u);
  EXPECT_EQ(outcome.new_occurrences.operation_occurrences, 2u);

  const auto again = m_writer->write(first);
  EXPECT_EQ(again.topic(TopicKind::workflows).persisted, 0u);
  EXPECT_EQ(again.topic(TopicKind::workflows).duplicates, 3u);

  SQLite::Statement q(
      m_db->sql(),
      "SELECT occurrences, successes, total_cost_micros, total_errors, total_tokens "
      "FROM operation_patterns WHERE pattern_signature = 'test:pytest:backend'");
  ASSERT_TRUE(q.executeStep());
  EXPECT_EQ(q.getColumn(0).getInt64(), 2);
  EXPECT_EQ(q.getColumn(1).getInt64(), 1);
  EXPECT_EQ(q.getColumn(2).getInt64(), 400'000);
  EXPECT_EQ(q.getColumn(3).getInt64(), 2);
  EXPECT_EQ(q.getColumn(4).getInt64(), 2000);
  EXPECT_EQ(count("SELECT count(*) FROM pattern_occurrences"), 2);
}

// A collision of 44 bits of hash within a generation is staged: a row of
// another id or identity is made to hold the key of the one written.
TEST_F(StoreBatchWriter, ARowWhoseCompactKeyAnotherRowHoldsIsStoredOnceAndOnlyOnce) {
  m_writer->write(batch(TopicKind::workflows, {workflow("holder", "Run pytest", 0.1)}));
  m_writer->write(batch(TopicKind::extractions,
                        {R"({"agent_name": "a", "session_id": "s", "event_type": "note",)"
                         R"( "event_id": "holder", "timestamp": "2026-11-20T10:00:00Z"})"}));
  SQLite::Statement stage(m_db->sql(), "UPDATE workflow_history SET workflow_key = ?");
  stage.bind(1, pack_key(1, key_hash(text_key("b"))));
  stage.exec();
  const auto b_event = batch(TopicKind::extractions,
                             {R"({"agent_name": "a", "session_id": "s", "event_type": "note",)"
                              R"( "event_id": "b", "timestamp": "2026-11-20T10:00:00Z"})"});
  SQLite::Statement stage_event(m_db->sql(), "UPDATE extraction_events SET identity_key = ?");
  stage_event.bind(1, pack_key(1, key_hash(digest_key(b_event.extractions.at(0).event.identity))));
  stage_event.exec();

  const auto b = batch(TopicKind::workflows, {workflow("b", "Run pytest", 0.2)});
  const auto first = m_writer->write(b);
  EXPECT_EQ(first.topic(TopicKind::workflows).persisted, 1u);
  EXPECT_EQ(first.new_occurrences.operation_occurrences, 1u);
  EXPECT_EQ(m_writer->write(b_event).topic(TopicKind::extractions).persisted, 1u);
  EXPECT_EQ(count("SELECT count(*) FROM workflow_history WHERE workflow_key IS NULL AND "
                  "workflow_id = 'b'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM extraction_events WHERE identity_key IS NULL"), 1);

  // Delivered again: a duplicate, whether the holder is still there ...
  EXPECT_EQ(m_writer->write(b).topic(TopicKind::workflows).duplicates, 1u);
  EXPECT_EQ(m_writer->write(b_event).topic(TopicKind::extractions).duplicates, 1u);
  // ... or gone (pruned), which frees the key: the unkeyed copy still counts.
  m_db->sql().exec(
      "DELETE FROM pattern_occurrences WHERE workflow_id IN "
      "(SELECT id FROM workflow_history WHERE workflow_id = 'holder')");
  m_db->sql().exec("DELETE FROM workflow_history WHERE workflow_id = 'holder'");
  m_db->sql().exec("DELETE FROM extraction_events WHERE event_id = 'holder'");
  const auto again = m_writer->write(b);
  EXPECT_EQ(again.topic(TopicKind::workflows).duplicates, 1u);
  EXPECT_EQ(again.new_occurrences.operation_occurrences, 0u);
  EXPECT_EQ(m_writer->write(b_event).topic(TopicKind::extractions).duplicates, 1u);
  EXPECT_EQ(count("SELECT count(*) FROM workflow_history WHERE workflow_id = 'b'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM extraction_events"), 1);
  EXPECT_EQ(count("SELECT occurrences FROM operation_patterns WHERE "
                  "pattern_signature = 'test:pytest:any'"),
            2);  // holder's and b's
}

// Keys go to generations of 4,096 rows; a copy of a row stored generations
// ago is found through the writer's directory of them, which a restart
// loads again and which grows past its first size (55,705 keys) on the way.
TEST_F(StoreBatchWriter, DuplicatesAreFoundInEveryGenerationBeforeAndAfterARestart) {
  std::vector<pipeline::Batch> batches;
  for (int b = 0; b < 12; ++b) {
    std::vector<std::string> payloads;
    for (int i = 0; i < 5000; ++i)
      payloads.push_back(workflow("w" + std::to_string(b * 5000 + i), "Run pytest", 0.1));
    batches.push_back(batch(TopicKind::workflows, payloads));
  }
  for (const auto& b : batches)
    ASSERT_EQ(m_writer->write(b).topic(TopicKind::workflows).persisted, 5000u);
  EXPECT_EQ(count("SELECT count(DISTINCT workflow_key >> 44) FROM workflow_history"), 15);

  for (int round = 0; round < 2; ++round) {
    if (round == 1) m_writer = std::make_unique<BatchWriter>(*m_db, m_config.kafka);
    for (const auto& b : batches) {
      const auto again = m_writer->write(b);
      EXPECT_EQ(again.topic(TopicKind::workflows).duplicates, 5000u) << "round " << round;
      EXPECT_EQ(again.new_occurrences.operation_occurrences, 0u);
    }
  }
  EXPECT_EQ(count("SELECT count(*) FROM workflow_history"), 60'000);
  EXPECT_EQ(count("SELECT occurrences FROM operation_patterns WHERE "
                  "pattern_signature = 'test:pytest:any'"),
            60'000);
}

// Another row holding the same 44 bits in an older generation (staged) is
// probed and found to be another row: the new one is stored, once.
TEST_F(StoreBatchWriter, AHashAnOlderGenerationHoldsForAnotherRowIsNoDuplicate) {
  std::vector<std::string> payloads;
  for (int i = 0; i < 4100; ++i)
    payloads.push_back(workflow("w" + std::to_string(i), "Run pytest", 0.1));
  m_writer->write(batch(TopicKind::workflows, payloads));  // generations 1 and 2
  SQLite::Statement stage(m_db->sql(),
                          "UPDATE workflow_history SET workflow_key = ? WHERE workflow_id = 'w0'");
  stage.bind(1, pack_key(1, key_hash(text_key("b"))));
  stage.exec();
  m_writer = std::make_unique<BatchWriter>(*m_db, m_config.kafka);  // loads the staged key

  const auto b = batch(TopicKind::workflows, {workflow("b", "Run pytest", 0.2)});
  EXPECT_EQ(m_writer->write(b).topic(TopicKind::workflows).persisted, 1u);
  EXPECT_EQ(m_writer->write(b).topic(TopicKind::workflows).duplicates, 1u);
  m_writer = std::make_unique<BatchWriter>(*m_db, m_config.kafka);
  EXPECT_EQ(m_writer->write(b).topic(TopicKind::workflows).duplicates, 1u);
  EXPECT_EQ(count("SELECT workflow_key >> 44 FROM workflow_history WHERE workflow_id = 'b'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM workflow_history WHERE workflow_id = 'b'"), 1);
}

// Two workers on one database: each writer learns, at the start of every
// transaction, the rows the other stored, including those of a generation
// newer than its own.
TEST_F(StoreBatchWriter, TwoWritersOnOneDatabaseSeeEachOthersRowsAndGenerations) {
  auto other_db = std::move(Database::open(m_config.storage)).value();
  BatchWriter other(*other_db, m_config.kafka);  // loaded while the database is empty
  const auto event = [](const std::string& id) {
    return R"({"agent_name": "a", "session_id": "s", "event_type": "note", "event_id": ")" + id +
           R"(", "timestamp": "2026-11-20T10:00:00Z"})";
  };
  std::vector<std::string> workflows, events;
  for (int i = 0; i < 4100; ++i) {
    workflows.push_back(workflow("w" + std::to_string(i), "Run pytest", 0.1));
    events.push_back(event("e" + std::to_string(i)));
  }
  m_writer->write(batch(TopicKind::workflows, workflows));  // this one in generation 2
  other.write(batch(TopicKind::extractions, events));       // that one in generation 2
  const auto x = batch(TopicKind::workflows, {workflow("x", "Run pytest", 0.2)});
  const auto e = batch(TopicKind::extractions, {event("e")});
  EXPECT_EQ(m_writer->write(x).topic(TopicKind::workflows).persisted, 1u);
  EXPECT_EQ(other.write(x).topic(TopicKind::workflows).duplicates, 1u);
  EXPECT_EQ(other.write(e).topic(TopicKind::extractions).persisted, 1u);
  EXPECT_EQ(m_writer->write(e).topic(TopicKind::extractions).duplicates, 1u);
  EXPECT_EQ(other.write(batch(TopicKind::workflows, {workflows.front()}))
                .topic(TopicKind::workflows)
                .duplicates,
            1u);
  EXPECT_EQ(m_writer->write(batch(TopicKind::extractions, {events.front()}))
                .topic(TopicKind::extractions)
                .duplicates,
            1u);
  EXPECT_EQ(count("SELECT count(*) FROM workflow_history"), 4101);
  EXPECT_EQ(count("SELECT count(*) FROM extraction_events"), 4101);
}

// Writers learn each other's rows by id, so an id must never be given out
// twice: pruning keeps the newest raw row even when it is old, and the next
// row stored gets a higher id than any before it.
TEST_F(StoreBatchWriter, PruningNeverFreesTheHighestIdOfARawTable) {
  std::vector<std::string> payloads;
  for (int i = 0; i < 3; ++i)
    payloads.push_back(workflow("old-" + std::to_string(i), "Run pytest", 0.1, "completed", 0,
                                "2020-01-01T00:00:00Z"));
  m_writer->write(batch(TopicKind::workflows, payloads));
  PruneOptions options;
  options.pause = std::chrono::milliseconds(0);
  const PruneReport report = prune(*m_db, core::now_ms(), options);
  EXPECT_EQ(report.workflows, 2);
  EXPECT_EQ(count("SELECT group_concat(id) FROM workflow_history"), 3);
  m_writer->write(batch(TopicKind::workflows, {workflow("new", "Run pytest", 0.1)}));
  EXPECT_EQ(count("SELECT id FROM workflow_history WHERE workflow_id = 'new'"), 4);
}

TEST_F(StoreBatchWriter, Versions3And4KeyExistingRowsKeepingTheirIdsAndTheirDuplicates) {
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

TEST_F(StoreBatchWriter, TheStatsViewDerivesConfidenceAndSavingsByHand) {
  // 10 runs of one pattern, 8 successes, costs 0.10 .. 1.00 (avg 0.55),
  // 3 of them today, 7 of them 40 days ago (outside the 30-day window).
  std::vector<std::string> payloads;
  const core::TimestampMs now = core::now_ms();
  for (int i = 1; i <= 10; ++i) {
    const core::TimestampMs at = i <= 3 ? now - 60'000 : now - 40LL * 86'400'000;
    payloads.push_back(workflow("w" + std::to_string(i), "Lint the backend with ruff", 0.1 * i,
                                i <= 8 ? "completed" : "failed", 0, core::format_rfc3339(at)));
  }
  m_writer->write(batch(TopicKind::workflows, payloads));

  SQLite::Statement q(m_db->sql(),
                      "SELECT occurrences, successes, avg_cost_usd, tool_cost_usd, "
                      "savings_per_run_usd, runs_last_30_days, savings_last_30_days_usd, "
                      "confidence, avg_tokens, avg_duration_seconds FROM operation_pattern_stats "
                      "WHERE pattern_signature = 'lint:ruff:backend'");
  ASSERT_TRUE(q.executeStep());
  EXPECT_EQ(q.getColumn(0).getInt64(), 10);
  EXPECT_EQ(q.getColumn(1).getInt64(), 8);
  EXPECT_NEAR(q.getColumn(2).getDouble(), 0.55, 1e-12);    // 5.50 / 10
  EXPECT_NEAR(q.getColumn(3).getDouble(), 0.0275, 1e-12);  // 5% of 0.55
  EXPECT_NEAR(q.getColumn(4).getDouble(), 0.5225, 1e-12);  // 0.55 - 0.0275
  EXPECT_EQ(q.getColumn(5).getInt64(), 3);
  EXPECT_NEAR(q.getColumn(6).getDouble(), 1.5675, 1e-12);  // 3 x 0.5225
  // Wilson lower bound, z = 1.96, p = 0.8, n = 10:
  // (0.8 + 0.19208 - 1.96 * sqrt((0.16 + 0.09604) / 10)) / 1.38416 = 0.490157
  EXPECT_NEAR(q.getColumn(7).getDouble(), 0.4901568467, 1e-9);
  EXPECT_NEAR(q.getColumn(8).getDouble(), 1000.0, 1e-12);
  EXPECT_NEAR(q.getColumn(9).getDouble(), 60.0, 1e-12);
}

TEST_F(StoreBatchWriter, WilsonBoundsAtTheEdges) {
  // One success of one run: (1 + 1.9208 - 1.96 * 0.98) / 4.8416 = 1 / 4.8416.
  m_writer->write(batch(TopicKind::workflows, {workflow("one", "Run mypy", 1.0)}));
  // No success in four runs: the bound is 0.
  m_writer->write(batch(TopicKind::workflows, {workflow("f1", "Run black", 1.0, "failed"),
                                               workflow("f2", "Run black", 1.0, "cancelled"),
                                               workflow("f3", "Run black", 1.0, "completed", 1),
                                               workflow("f4", "Run black", 1.0, "failed")}));
  EXPECT_NEAR(m_db->sql()
                  .execAndGet("SELECT confidence FROM operation_pattern_stats WHERE "
                              "pattern_signature = 'typecheck:mypy:any'")
                  .getDouble(),
              1.0 / 4.8416, 1e-12);
  EXPECT_NEAR(m_db->sql()
                  .execAndGet("SELECT confidence FROM operation_pattern_stats WHERE "
                              "pattern_signature = 'format:black:any'")
                  .getDouble(),
              0.0, 1e-12);
}

TEST_F(StoreBatchWriter, FailuresCountDistinctAgentsAndSessionsAndKeepTheEarliestExample) {
  auto error = [](const std::string& id, const std::string& agent, const std::string& session,
                  const std::string& at, const std::string& text) {
    return R"({"event_id": ")" + id + R"(", "agent_name": ")" + agent + R"(", "session_id": ")" +
           session + R"(", "event_type": "error", "timestamp": ")" + at +
           R"(", "matched_value": ")" + text + R"("})";
  };
  m_writer->write(
      batch(TopicKind::extractions,
            {error("e1", "codex", "s1", "2026-11-20T10:00:05Z", "KeyError: 'a' at line 3"),
             error("e2", "codex", "s2", "2026-11-20T10:00:01Z", "KeyError: 'b' at line 9")}));
  m_writer->write(
      batch(TopicKind::extractions,
            {error("e3", "ci-fixer", "s1", "2026-11-20T10:00:03Z", "KeyError: 'c' at line 1"),
             error("e1", "codex", "s1", "2026-11-20T10:00:05Z", "KeyError: 'a' at line 3")}));
  SQLite::Statement q(m_db->sql(),
                      "SELECT signature, error_type, example, frequency, agent_count, "
                      "session_count FROM failure_patterns");
  ASSERT_TRUE(q.executeStep());
  EXPECT_EQ(q.getColumn(0).getString(), "KeyError: <str> at line <n>");
  EXPECT_EQ(q.getColumn(1).getString(), "KeyError");
  EXPECT_EQ(q.getColumn(2).getString(), "KeyError: 'b' at line 9");
  EXPECT_EQ(q.getColumn(3).getInt64(), 3);
  EXPECT_EQ(q.getColumn(4).getInt64(), 2);
  EXPECT_EQ(q.getColumn(5).getInt64(), 2);
  EXPECT_FALSE(q.executeStep());

  SQLite::Statement s(m_db->sql(),
                      "SELECT agent_name, event_count, error_count FROM agent_sessions WHERE "
                      "session_id = 's1'");
  ASSERT_TRUE(s.executeStep());
  EXPECT_EQ(s.getColumn(0).getString(), "ci-fixer");  // its earliest event's agent
  EXPECT_EQ(s.getColumn(1).getInt64(), 2);
  EXPECT_EQ(s.getColumn(2).getInt64(), 2);
}

TEST_F(StoreBatchWriter, CodeBlocksAreDeduplicatedByDigest) {
  auto code = [](const std::string& id, const std::string& content) {
    return R"({"event_id": ")" + id +
           R"(", "agent_name": "a", "session_id": "s", "event_type": "code_block", "code_block": {"language": "python", "content": ")" +
           content + R"("}})";
  };
  m_writer->write(
      batch(TopicKind::extractions, {code("1", "x = 1"), code("2", "x = 1"), code("3", "y = 2")}));
  m_writer->write(batch(TopicKind::extractions, {code("4", "x = 1")}));
  EXPECT_EQ(count("SELECT count(*) FROM code_blocks"), 2);
  EXPECT_EQ(count("SELECT occurrences FROM code_blocks WHERE content = 'x = 1'"), 3);
}

TEST_F(StoreBatchWriter, ARecordTheDatabaseRejectsBecomesADeadLetterAndTheRestCommits) {
  auto b = batch(TopicKind::workflows,
                 {workflow("good-1", "Run pytest", 0.1), workflow("broken", "Run pytest", 0.1),
                  workflow("good-2", "Run pytest", 0.1)});
  // A value the decoder would never let through, to reach the CHECK constraint.
  b.workflows[1].workflow.total_tokens = -5;
  const auto outcome = m_writer->write(b);
  EXPECT_EQ(outcome.topic(TopicKind::workflows).persisted, 2u);
  EXPECT_EQ(outcome.topic(TopicKind::workflows).dead_lettered, 1u);
  EXPECT_EQ(count("SELECT count(*) FROM workflow_history"), 2);
  EXPECT_EQ(count("SELECT occurrences FROM operation_patterns"), 2);
  SQLite::Statement q(m_db->sql(), "SELECT reason_class, reason, offset FROM dead_letters");
  ASSERT_TRUE(q.executeStep());
  EXPECT_EQ(q.getColumn(0).getString(), "db_constraint");
  EXPECT_NE(q.getColumn(1).getString().find("CHECK constraint failed"), std::string::npos);
}

TEST_F(StoreBatchWriter, OffsetsAreStoredWithTheRowsTheyCover) {
  auto b = batch(TopicKind::workflows, {workflow("k1", "x", 0), "not json"}, 3, 41);
  b.offsets.push_back({TopicKind::workflows, core::Partition{3}, core::Offset{43}});
  m_writer->write(b);
  EXPECT_EQ(count("SELECT next_offset FROM kafka_offsets WHERE topic = 'agent.workflows' AND "
                  "partition = 3"),
            43);
  EXPECT_EQ(count("SELECT offset FROM dead_letters"), 42);
}

TEST_F(StoreBatchWriter, AStoredOffsetNeverMovesBack) {
  // A worker that lost its partitions (a zombie) commits an older batch after
  // the new owner went further: the rows are idempotent, the offset must not
  // rewind.
  auto newer = batch(TopicKind::workflows, {workflow("n1", "x", 0)}, 3, 90);
  newer.offsets.push_back({TopicKind::workflows, core::Partition{3}, core::Offset{91}});
  auto older = batch(TopicKind::workflows, {workflow("o1", "x", 0)}, 3, 40);
  older.offsets.push_back({TopicKind::workflows, core::Partition{3}, core::Offset{41}});
  m_writer->write(newer);
  m_writer->write(older);
  EXPECT_EQ(count("SELECT next_offset FROM kafka_offsets WHERE partition = 3"), 91);
  EXPECT_EQ(count("SELECT count(*) FROM workflow_history"), 2);
}

TEST_F(StoreBatchWriter, TheWriteStageWritesInOrderAndAbandonsWhatAFailingDatabaseHolds) {
  m_config.storage.busy_timeout_ms = 20;
  auto db = std::move(Database::open(m_config.storage)).value();
  BatchWriter writer(*db, m_config.kafka);
  std::mutex mutex;
  std::vector<std::int64_t> written;  // first offset of each batch written
  std::atomic<int> retries{0};
  WriteStage stage(
      writer, 1,
      [&](const pipeline::Batch& b, const BatchOutcome&) {
        std::lock_guard lock(mutex);
        written.push_back(b.messages.front().source.offset.value);
      },
      [&](const StoreError& e, std::chrono::milliseconds) {
        EXPECT_EQ(e.kind(), ErrorKind::transient);
        ++retries;
      });
  auto numbered = [&](std::int64_t first) {
    auto b = batch(TopicKind::workflows, {workflow("w" + std::to_string(first), "x", 0)}, 0, first);
    b.offsets.push_back({TopicKind::workflows, core::Partition{0}, core::Offset{first + 1}});
    return b;
  };
  for (std::int64_t first : {10, 20, 30}) stage.submit(numbered(first));
  EXPECT_TRUE(stage.drain(std::chrono::milliseconds(1000)).empty());
  EXPECT_EQ(written, (std::vector<std::int64_t>{10, 20, 30}));
  EXPECT_TRUE(stage.idle());

  // Another connection holds the write lock: the stage retries, then gives
  // up on its batches when asked to drain, and returns them in order.
  SQLite::Database other(m_config.storage.path, SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  auto b40 = numbered(40);
  ASSERT_TRUE(stage.try_submit(b40, std::chrono::milliseconds(1000)));
  auto b50 = numbered(50);
  ASSERT_TRUE(stage.try_submit(b50, std::chrono::milliseconds(1000)));
  auto b60 = numbered(60);
  EXPECT_FALSE(stage.try_submit(b60, std::chrono::milliseconds(50))) << "the queue holds one";
  EXPECT_EQ(b60.messages.size(), 1u) << "a refused batch stays with the caller";
  const auto abandoned = stage.drain(std::chrono::milliseconds(200));
  ASSERT_EQ(abandoned.size(), 2u);
  EXPECT_EQ(abandoned[0].messages.front().source.offset.value, 40);
  EXPECT_EQ(abandoned[1].messages.front().source.offset.value, 50);
  EXPECT_GT(retries.load(), 0);
  other.exec("ROLLBACK");
  EXPECT_EQ(count("SELECT count(*) FROM workflow_history"), 3);
  EXPECT_EQ(count("SELECT next_offset FROM kafka_offsets"), 31);

  // Once the database is back, the stage writes again.
  stage.submit(std::move(b60));
  EXPECT_TRUE(stage.drain(std::chrono::milliseconds(1000)).empty());
  EXPECT_EQ(written.back(), 60);
  EXPECT_EQ(count("SELECT next_offset FROM kafka_offsets"), 61);
  EXPECT_EQ(stage.error(), nullptr);
}

TEST_F(StoreBatchWriter, ADrainCutsShortAWriteWaitingForAnotherWritersLock) {
  // A busy timeout far longer than a shutdown may take.
  m_config.storage.busy_timeout_ms = 60'000;
  auto db = std::move(Database::open(m_config.storage)).value();
  BatchWriter writer(*db, m_config.kafka);
  WriteStage stage(
      writer, 1, [](const pipeline::Batch&, const BatchOutcome&) {},
      [](const StoreError&, std::chrono::milliseconds) {});
  SQLite::Database other(m_config.storage.path, SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  auto b = batch(TopicKind::workflows, {workflow("w1", "x", 0)}, 0, 1);
  b.offsets.push_back({TopicKind::workflows, core::Partition{0}, core::Offset{2}});
  stage.submit(std::move(b));
  const auto started = std::chrono::steady_clock::now();
  const auto abandoned = stage.drain(std::chrono::milliseconds(300));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(abandoned.size(), 1u);
  EXPECT_LT(seconds, 5.0) << "the drain sat out the busy timeout";
  other.exec("ROLLBACK");
  EXPECT_EQ(count("SELECT count(*) FROM workflow_history"), 0);

  // Waits are not cut short any more: the same batch goes in.
  stage.submit(abandoned[0]);
  EXPECT_TRUE(stage.drain(std::chrono::milliseconds(5000)).empty());
  EXPECT_EQ(count("SELECT count(*) FROM workflow_history"), 1);
}

TEST_F(StoreBatchWriter, ALockedDatabaseIsATransientErrorThatWritesNothing) {
  m_config.storage.busy_timeout_ms = 50;
  auto db = std::move(Database::open(m_config.storage)).value();
  BatchWriter writer(*db, m_config.kafka);
  SQLite::Database other(m_config.storage.path, SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  const auto b = batch(TopicKind::workflows, {workflow("x", "Run pytest", 0.1)});
  try {
    writer.write(b);
    FAIL() << "the write should have failed while another connection holds the lock";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::transient);
    EXPECT_EQ(error_label(e.code()), "busy");
  }
  other.exec("ROLLBACK");
  EXPECT_EQ(count("SELECT count(*) FROM workflow_history"), 0);
  // The same batch goes through once the lock is free.
  EXPECT_EQ(writer.write(b).topic(TopicKind::workflows).persisted, 1u);
  EXPECT_EQ(count("SELECT occurrences FROM operation_patterns"), 1);
}

TEST_F(StoreBatchWriter, EventsOlderThanRetentionAreExpiredNotStored) {
  m_config.retention.days = 30;
  const auto old_at = core::format_rfc3339(core::now_ms() - 31LL * 86'400'000);
  const auto new_at = core::format_rfc3339(core::now_ms() - 1LL * 86'400'000);
  const auto b =
      batch(TopicKind::workflows, {workflow("old", "Run pytest", 0.1, "completed", 0, old_at),
                                   workflow("new", "Run pytest", 0.1, "completed", 0, new_at)});
  const auto outcome = m_writer->write(b);
  EXPECT_EQ(outcome.topic(TopicKind::workflows).expired, 1u);
  EXPECT_EQ(outcome.topic(TopicKind::workflows).persisted, 1u);
  EXPECT_EQ(count("SELECT count(*) FROM dead_letters"), 0);
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
