#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "store/checkpointer.hpp"
#include "store/database.hpp"
#include "support/helpers.hpp"

namespace patternd::store {
namespace {

class StoreCheckpointer : public ::testing::Test {
 protected:
  void SetUp() override {
    config::Storage storage;
    storage.path = m_dir.file("p.db");
    auto db = Database::open(storage);
    ASSERT_TRUE(db.ok()) << db.error().message;
    m_db = std::move(db).value();
    m_db->sql().exec("CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB)");
  }

  // One transaction of `pages` pages of new rows (about one WAL frame each),
  // begun as the worker's writer begins its own.
  void write(int pages) {
    m_db->before_write();
    SQLite::Transaction txn(m_db->sql());
    for (int i = 0; i < pages; ++i)
      m_db->sql().exec("INSERT INTO filler (data) VALUES (randomblob(3900))");
    txn.commit();
  }

  testing::TempDir m_dir;
  std::unique_ptr<Database> m_db;
};

TEST_F(StoreCheckpointer, AWriterThatNeverPausesStillHasItsWalStartOver) {
  Checkpointer::Options options;
  options.soft_frames = 50;
  options.hard_frames = 150;
  Checkpointer checkpointer(*m_db, options);
  // 100 transactions of 20 pages: 2,000 frames if the WAL never restarted
  // (SQLite's own checkpoint, at 8,000 frames, would not have run yet).
  for (int i = 0; i < 100; ++i) write(20);
  const auto stats = checkpointer.stats();
  EXPECT_GE(stats.passes, 10u);
  EXPECT_GT(stats.writer_waits, 0u);
  // Restarted at the second transaction after the one that reached the hard
  // limit (a transaction is about 22 frames), never near the 2,000 it would
  // reach otherwise.
  EXPECT_LE(stats.largest_wal_frames, 150 + 2 * 25);
  EXPECT_GT(stats.writer_wait_seconds, 0.0);
  // The file too: frames are written from its start again after a restart.
  EXPECT_LE(std::filesystem::file_size(m_db->path() + "-wal"), (150u + 2 * 25u) * (4096 + 24) + 32);
  EXPECT_EQ(m_db->sql().execAndGet("SELECT count(*) FROM filler").getInt(), 2000);
}

TEST_F(StoreCheckpointer, AReaderHoldingAnOldSnapshotDelaysTheRestartButNeverStopsTheWriter) {
  Checkpointer::Options options;
  options.soft_frames = 50;
  options.hard_frames = 150;
  options.max_wait = std::chrono::milliseconds(200);
  Checkpointer checkpointer(*m_db, options);
  write(20);
  {
    SQLite::Database reader(m_db->path(), SQLite::OPEN_READONLY);
    SQLite::Transaction snapshot(reader, SQLite::TransactionBehavior::DEFERRED);
    EXPECT_EQ(reader.execAndGet("SELECT count(*) FROM filler").getInt(), 20);
    for (int i = 0; i < 30; ++i) write(20);
    // The WAL could not start over under the reader's snapshot ...
    EXPECT_GT(checkpointer.stats().wal_frames, 300);
    EXPECT_EQ(reader.execAndGet("SELECT count(*) FROM filler").getInt(), 20);
  }
  // ... and does once the reader is gone.
  for (int i = 0; i < 30; ++i) write(20);
  EXPECT_LE(checkpointer.stats().wal_frames, 150 + 2 * 25);
  EXPECT_EQ(m_db->sql().execAndGet("SELECT count(*) FROM filler").getInt(), 20 * 61);
}

}  // namespace
}  // namespace patternd::store
