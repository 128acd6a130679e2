#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/time.hpp"
#include "store/errors.hpp"
#include "store/row_keys.hpp"
#include "unit/store_batch_writer_fixture.hpp"

namespace patternd::store {
namespace {

using core::TopicKind;

class StoreBatchWriter : public BatchWriterFixture {};

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

}  // namespace
}  // namespace patternd::store
