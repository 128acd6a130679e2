#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include "runner/write_stage.hpp"
#include "store/errors.hpp"
#include "store/sqlite_store.hpp"
#include "unit/store_batch_writer_fixture.hpp"

namespace patternd::store {
namespace {

using core::TopicKind;

class RunnerWriteStage : public BatchWriterFixture {};

TEST_F(RunnerWriteStage, TheWriteStageWritesInOrderAndAbandonsWhatAFailingDatabaseHolds) {
  m_config.storage.busy_timeout_ms = 20;
  SqliteStore writer(std::move(Database::open(m_config.storage)).value(), m_config.kafka);
  std::mutex mutex;
  std::vector<std::int64_t> written;  // first offset of each batch written
  std::atomic<int> retries{0};
  runner::WriteStage stage(
      writer, 1,
      [&](const pipeline::Batch& b, const BatchOutcome&) {
        std::lock_guard lock(mutex);
        written.push_back(b.messages.front().source.offset.value);
      },
      [&](const StoreError& e, std::chrono::milliseconds) {
        EXPECT_EQ(e.kind(), ErrorKind::transient);
        ++retries;
        return true;
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

TEST_F(RunnerWriteStage, ADrainCutsShortAWriteWaitingForAnotherWritersLock) {
  // A busy timeout far longer than a shutdown may take.
  m_config.storage.busy_timeout_ms = 60'000;
  SqliteStore writer(std::move(Database::open(m_config.storage)).value(), m_config.kafka);
  runner::WriteStage stage(
      writer, 1, [](const pipeline::Batch&, const BatchOutcome&) {},
      [](const StoreError&, std::chrono::milliseconds) { return true; });
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

}  // namespace
}  // namespace patternd::store
