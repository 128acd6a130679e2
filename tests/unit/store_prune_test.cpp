#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "store/prune.hpp"
#include "unit/store_batch_writer_fixture.hpp"

namespace patternd::store {
namespace {

using core::TopicKind;

class StorePrune : public BatchWriterFixture {};

// Writers learn each other's rows by id, so an id must never be given out
// twice: pruning keeps the newest raw row even when it is old, and the next
// row stored gets a higher id than any before it.
TEST_F(StorePrune, PruningNeverFreesTheHighestIdOfARawTable) {
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

}  // namespace
}  // namespace patternd::store
