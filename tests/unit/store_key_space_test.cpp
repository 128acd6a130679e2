#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/row_keys.hpp"
#include "unit/store_batch_writer_fixture.hpp"

namespace patternd::store {
namespace {

using core::TopicKind;

class StoreKeySpace : public BatchWriterFixture {};

// Keys go to generations of 4,096 rows; a copy of a row stored generations
// ago is found through the writer's directory of them, which a restart
// loads again and which grows past its first size (55,705 keys) on the way.
TEST_F(StoreKeySpace, DuplicatesAreFoundInEveryGenerationBeforeAndAfterARestart) {
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
TEST_F(StoreKeySpace, AHashAnOlderGenerationHoldsForAnotherRowIsNoDuplicate) {
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
TEST_F(StoreKeySpace, TwoWritersOnOneDatabaseSeeEachOthersRowsAndGenerations) {
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

}  // namespace
}  // namespace patternd::store
