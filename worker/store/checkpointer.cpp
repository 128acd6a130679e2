#include "store/checkpointer.hpp"

#include "core/log.hpp"

namespace patternd::store {

Checkpointer::Checkpointer(Database& writer, Options options)
    : m_writer(writer),
      m_options(options),
      m_connection(writer.path(), SQLite::OPEN_READWRITE) {
  // The checkpointing connection decides the syncs of a checkpoint: the WAL
  // before copying, the database after, as the writer's own would.
  m_connection.exec("PRAGMA synchronous = NORMAL");
  m_next_pass_at = m_options.soft_frames;
  m_thread = std::thread([this] { loop(); });
  sqlite3_wal_hook(m_writer.sql().getHandle(), &Checkpointer::on_commit, this);
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(m_writer.sql().getHandle(), nullptr, nullptr);
  sqlite3_wal_autocheckpoint(m_writer.sql().getHandle(), k_autocheckpoint_frames);
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_changed.notify_all();
  sqlite3_interrupt(m_connection.getHandle());  // a checkpoint in progress stops soon
  m_thread.join();
  log::debug("checkpoint",
             std::to_string(m_stats.passes) + " WAL checkpoints (" +
                 std::to_string(m_stats.failures) + " failed), " +
                 std::to_string(m_stats.writer_waits) + " commits waited for one, largest WAL " +
                 std::to_string(m_stats.largest_wal_frames) + " pages");
}

Checkpointer::Stats Checkpointer::stats() const {
  std::lock_guard lock(m_mutex);
  return m_stats;
}

// On the writer's thread, after each commit, with the write lock released.
int Checkpointer::on_commit(void* self, sqlite3*, const char*, int frames) {
  auto& c = *static_cast<Checkpointer*>(self);
  std::unique_lock lock(c.m_mutex);
  // A pass per soft_frames of new frames, not one per commit: a page
  // rewritten by several batches is then copied once.
  if (frames < c.m_stats.wal_frames) c.m_next_pass_at = c.m_options.soft_frames;  // restarted
  c.m_stats.wal_frames = frames;
  c.m_stats.largest_wal_frames = std::max(c.m_stats.largest_wal_frames, frames);
  const bool hard = frames >= c.m_options.hard_frames;
  if (frames < c.m_next_pass_at && !hard) return SQLITE_OK;
  c.m_next_pass_at = frames + c.m_options.soft_frames;
  c.m_wanted = true;
  c.m_changed.notify_all();
  if (hard && !c.m_stopping) {
    // Wait for a pass that starts after this commit (m_wanted makes sure one
    // does): it copies every frame, so the next transaction starts the WAL
    // over.
    ++c.m_stats.writer_waits;
    const std::uint64_t after = c.m_started;
    c.m_changed.wait_for(lock, c.m_options.max_wait,
                         [&] { return c.m_finished > after || c.m_stopping; });
  }
  return SQLITE_OK;
}

void Checkpointer::loop() {
  std::unique_lock lock(m_mutex);
  bool failing = false;
  for (;;) {
    m_changed.wait(lock, [this] { return m_wanted || m_stopping; });
    if (m_stopping) return;
    m_wanted = false;
    ++m_started;
    lock.unlock();
    int wal_frames = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(m_connection.getHandle(), nullptr,
                                             SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
    lock.lock();
    ++m_finished;
    ++m_stats.passes;
    if (rc != SQLITE_OK) ++m_stats.failures;
    // Another process checkpointing the same file (SQLITE_BUSY) is normal;
    // anything else is worth one line, and one when it recovers. Nothing is
    // lost either way: the frames stay in the WAL until a checkpoint succeeds.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && !failing && !m_stopping) {
      log::warn("checkpoint", std::string("WAL checkpoint failed (") +
                                  sqlite3_errmsg(m_connection.getHandle()) +
                                  "); the WAL keeps growing until one succeeds",
                {{"error", sqlite3_errmsg(m_connection.getHandle())}});
      failing = true;
    } else if (rc == SQLITE_OK && failing) {
      log::info("checkpoint", "WAL checkpoints succeed again");
      failing = false;
    }
    m_changed.notify_all();
  }
}

}  // namespace patternd::store
