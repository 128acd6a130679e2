#pragma once
// WAL checkpoints on a thread of their own, off the writer's path.
//
// SQLite's automatic checkpoint runs inside the COMMIT that crosses the
// threshold: that batch's write then also copies tens of megabytes from the
// WAL into the database file and syncs both, which made the worst batch
// writes three times slower than the typical one. Here the writer's commits
// only wake this thread, which checkpoints (PASSIVE: never blocking the
// writer) on its own connection, on the other core.
//
// A WAL only starts over from its beginning when a write transaction begins
// with every frame already copied. A writer that never pauses would never
// let that happen, and the WAL would grow without bound. So once a commit
// leaves `hard_frames`, the WAL is brought to an end in two steps: that
// commit only starts a pass (the bulk of the copying, while the writer goes
// on); the next commit starts another, which has little left to copy, and
// the writer waits for it before its next transaction (Database::
// before_write: between transactions, holding no lock, so no transaction
// is made longer), which then starts the WAL over. The wait is bounded: a
// reader holding an old snapshot can keep a checkpoint from finishing its
// work, and the writer must not stop for it.

#include <SQLiteCpp/Database.h>
#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "store/database.hpp"

namespace patternd::store {

class Checkpointer {
 public:
  struct Options {
    int soft_frames = 8000;   // a commit leaving this many frames wakes the thread
    int hard_frames = 24000;  // a commit leaving this many starts the WAL over
    std::chrono::milliseconds max_wait{2000};
  };

  struct Stats {
    std::uint64_t passes = 0;        // checkpoints run by this thread
    std::uint64_t failures = 0;      // of which failed (busy, I/O error): retried later
    std::uint64_t writer_waits = 0;  // transactions that waited for the WAL to start over
    double writer_wait_seconds = 0;  // how long they waited, in all
    int wal_frames = 0;              // frames in the WAL after the last commit
    int largest_wal_frames = 0;      // the most frames a commit left in the WAL
  };

  // Takes over checkpointing for `writer`'s connection (replacing its
  // automatic checkpoint) until destroyed, which restores it.
  Checkpointer(Database& writer, Options options);
  explicit Checkpointer(Database& writer) : Checkpointer(writer, Options{}) {}
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  Stats stats() const;

 private:
  static int on_commit(void* self, sqlite3* db, const char* name, int frames);
  void before_write();
  void loop();

  Database& m_writer;
  const Options m_options;
  SQLite::Database m_connection;

  int m_next_pass_at = 0;  // the writer's thread only (in on_commit)
  bool m_ending = false;   // the WAL is past hard_frames; a pass was started for it

  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  bool m_wanted = false;
  bool m_stopping = false;
  std::uint64_t m_started = 0;   // passes begun
  std::uint64_t m_finished = 0;  // passes ended
  // Once the WAL is to start over: the next write transaction waits for the
  // passes begun so far and one more (begun after the last commit) to end.
  std::optional<std::uint64_t> m_restart_after;
  Stats m_stats;
  std::thread m_thread;
};

}  // namespace patternd::store
