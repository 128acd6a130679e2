#include "store/checkpointer.hpp"

#include "core/log.hpp"

namespace patternd::store {

Checkpointer::Checkpointer(Database& writer, Options options)
    : m_writer(writer), m_options(options), m_connection(writer.path(), SQLite::OPEN_READWRITE) {
  // The checkpointing connection decides the syncs of a checkpoint: the WAL
  // before copying, the database after, as the writer's own would.
  m_connection.exec("PRAGMA synchronous = NORMAL");
  m_next_pass_at = m_options.soft_frames;
  m_thread = std::thread([this] { loop(); });
  sqlite3_wal_hook(m_writer.sql().getHandle(), &Checkpointer::on_commit, this);
  m_writer.set_before_write([this] { before_write(); });
}

Checkpointer::~Checkpointer() {
  m_writer.set_before_write(nullptr);
  sqlite3_wal_hook(m_writer.sql().getHandle(), nullptr, nullptr);
  sqlite3_wal_autocheckpoint(m_writer.sql().getHandle(), k_autocheckpoint_frames);
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_changed.notify_all();
  sqlite3_interrupt(m_connection.getHandle());  // a checkpoint in progress stops soon
  m_thread.join();
  log::debug(
      "checkpoint",
      std::to_string(m_stats.passes) + " WAL checkpoints (" + std::to_string(m_stats.failures) +
          " failed), " + std::to_string(m_stats.writer_waits) + " transactions waited for one (" +
          std::to_string(static_cast<int>(m_stats.writer_wait_seconds * 1000)) +
          " ms in all), largest WAL " + std::to_string(m_stats.largest_wal_frames) + " pages");
}

Checkpointer::Stats Checkpointer::stats() const {
  std::lock_guard lock(m_mutex);
  return m_stats;
}

// On the writer's thread, after each commit, with the write lock released.
int Checkpointer::on_commit(void* self, sqlite3*, const char*, int frames) {
  auto& c = *static_cast<Checkpointer*>(self);
  std::lock_guard lock(c.m_mutex);
  // A pass per soft_frames of new frames, not one per commit: a page
  // rewritten by several batches is then copied once.
  if (frames < c.m_stats.wal_frames) {  // started over
    c.m_next_pass_at = c.m_options.soft_frames;
    c.m_ending = false;
  }
  c.m_stats.wal_frames = frames;
  c.m_stats.largest_wal_frames = std::max(c.m_stats.largest_wal_frames, frames);
  const bool hard = frames >= c.m_options.hard_frames;
  if (frames < c.m_next_pass_at && !hard) return SQLITE_OK;
  c.m_next_pass_at = frames + c.m_options.soft_frames;
  c.m_wanted = true;
  c.m_changed.notify_all();
  // The first commit past the limit starts the pass that copies most of the
  // WAL; the next one (or the next after a restart that did not happen, when
  // a reader held the WAL) has the writer wait for the pass that copies the
  // rest. Passes begun from here on start after this commit (m_wanted).
  if (hard && c.m_ending) c.m_restart_after = c.m_started;
  c.m_ending = c.m_ending || hard;
  return SQLITE_OK;
}

// On the writer's thread, before each write transaction, holding no lock.
void Checkpointer::before_write() {
  std::unique_lock lock(m_mutex);
  if (!m_restart_after || m_stopping) return;
  const std::uint64_t after = *m_restart_after;
  m_restart_after.reset();
  const auto began = std::chrono::steady_clock::now();
  m_changed.wait_for(lock, m_options.max_wait, [&] { return m_finished > after || m_stopping; });
  ++m_stats.writer_waits;
  m_stats.writer_wait_seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
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
    const auto began = std::chrono::steady_clock::now();
    const int rc = sqlite3_wal_checkpoint_v2(m_connection.getHandle(), nullptr,
                                             SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - began;
    log::debug("checkpoint", "pass: " + std::to_string(copied) + " of " +
                                 std::to_string(wal_frames) + " WAL pages copied in " +
                                 std::to_string(static_cast<int>(took.count())) + " ms");
    lock.lock();
    ++m_finished;
    ++m_stats.passes;
    if (rc != SQLITE_OK) ++m_stats.failures;
    // Another process checkpointing the same file (SQLITE_BUSY) is normal;
    // anything else is worth one line, and one when it recovers. Nothing is
    // lost either way: the frames stay in the WAL until a checkpoint succeeds.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && !failing && !m_stopping) {
      log::warn("checkpoint",
                std::string("WAL checkpoint failed (") + sqlite3_errmsg(m_connection.getHandle()) +
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
