#include "store/prune.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <thread>
#include <vector>

namespace patternd::store {
namespace {

class Pruner {
 public:
  Pruner(Database& db, const PruneOptions& options, PruneReport& report)
      : m_db(db), m_options(options), m_report(report) {}

  bool stopping() const {
    return m_options.stop != nullptr && m_options.stop->load(std::memory_order_relaxed);
  }

  // One transaction: `work` deletes at most a chunk and returns how many.
  // Returns false when there was nothing left (or when asked to stop).
  template <typename Work>
  bool step(std::int64_t& counter, Work work) {
    if (stopping()) {
      m_report.stopped = true;
      return false;
    }
    std::int64_t deleted = 0;
    {
      SQLite::Transaction txn(m_db.sql(), SQLite::TransactionBehavior::IMMEDIATE);
      deleted = work();
      txn.commit();
    }
    ++m_report.transactions;
    counter += deleted;
    if (deleted == 0) return false;
    std::this_thread::sleep_for(m_options.pause);  // the workers' turn
    return true;
  }

  // Tables with an index on their time column: delete the oldest chunk.
  void by_time_index(const char* sql, core::TimestampMs horizon, std::int64_t& counter) {
    SQLite::Statement q(m_db.sql(), sql);
    while (step(counter, [&] {
      q.bind(1, horizon);
      q.bind(2, m_options.chunk);
      const int n = q.exec();
      q.reset();
      return static_cast<std::int64_t>(n);
    })) {
    }
  }

  // Tables without one: one pass along the integer key, a chunk at a time.
  void by_key_scan(const char* select_sql, const char* delete_sql, core::TimestampMs horizon,
                   std::int64_t& counter) {
    SQLite::Statement select(m_db.sql(), select_sql);
    SQLite::Statement remove(m_db.sql(), delete_sql);
    std::int64_t after = -1;
    std::vector<std::int64_t> keys;
    for (;;) {
      keys.clear();
      select.bind(1, after);
      select.bind(2, horizon);
      select.bind(3, m_options.chunk);
      while (select.executeStep()) keys.push_back(select.getColumn(0).getInt64());
      select.reset();
      if (keys.empty()) return;
      after = keys.back();
      if (!step(counter, [&] {
            for (const std::int64_t key : keys) {
              remove.bind(1, key);
              remove.exec();
              remove.reset();
            }
            return static_cast<std::int64_t>(keys.size());
          }))
        return;
    }
  }

  // pattern_occurrences: its key is (pattern_id, workflow_id).
  void occurrences(core::TimestampMs horizon) {
    SQLite::Statement select(m_db.sql(), R"sql(
SELECT pattern_id, workflow_id FROM pattern_occurrences
WHERE (pattern_id, workflow_id) > (?1, ?2) AND occurred_at < ?3
ORDER BY pattern_id, workflow_id LIMIT ?4)sql");
    SQLite::Statement remove(
        m_db.sql(), "DELETE FROM pattern_occurrences WHERE pattern_id = ? AND workflow_id = ?");
    std::pair<std::int64_t, std::int64_t> after{-1, -1};
    std::vector<std::pair<std::int64_t, std::int64_t>> keys;
    for (;;) {
      keys.clear();
      select.bind(1, after.first);
      select.bind(2, after.second);
      select.bind(3, horizon);
      select.bind(4, m_options.chunk);
      while (select.executeStep())
        keys.emplace_back(select.getColumn(0).getInt64(), select.getColumn(1).getInt64());
      select.reset();
      if (keys.empty()) return;
      after = keys.back();
      if (!step(m_report.occurrences, [&] {
            for (const auto& [pattern, workflow] : keys) {
              remove.bind(1, pattern);
              remove.bind(2, workflow);
              remove.exec();
              remove.reset();
            }
            return static_cast<std::int64_t>(keys.size());
          }))
        return;
    }
  }

 private:
  Database& m_db;
  const PruneOptions& m_options;
  PruneReport& m_report;
};

}  // namespace

PruneReport prune(Database& db, core::TimestampMs horizon, const PruneOptions& options) {
  PruneReport report;
  Pruner p(db, options, report);
  p.occurrences(horizon);
  // The raw row with the highest id is never deleted, so that an id is never
  // given out twice: writers learn each other's rows by id (key_space.hpp).
  p.by_time_index(R"sql(
DELETE FROM workflow_history WHERE id IN
  (SELECT id FROM workflow_history WHERE completed_at < ?1 ORDER BY completed_at LIMIT ?2)
  AND id < (SELECT max(id) FROM workflow_history))sql",
                  horizon, report.workflows);
  p.by_time_index(R"sql(
DELETE FROM extraction_events WHERE rowid IN
  (SELECT rowid FROM extraction_events WHERE event_time < ?1 ORDER BY event_time LIMIT ?2)
  AND rowid < (SELECT max(rowid) FROM extraction_events))sql",
                  horizon, report.events);
  p.by_time_index(R"sql(
DELETE FROM outcomes WHERE id IN
  (SELECT id FROM outcomes WHERE event_time < ?1 ORDER BY event_time LIMIT ?2)
  AND id < (SELECT max(id) FROM outcomes))sql",
                  horizon, report.outcomes);
  // A session's row keeps its lifecycle fields; its state changes go.
  p.by_time_index(R"sql(
DELETE FROM session_state_changes WHERE id IN
  (SELECT id FROM session_state_changes WHERE event_time < ?1 ORDER BY event_time LIMIT ?2))sql",
                  horizon, report.state_changes);
  // A prompt's full-text entry goes with it (schema/010's trigger); the
  // backends' figures stay.
  p.by_time_index(R"sql(
DELETE FROM prompt_history WHERE id IN
  (SELECT id FROM prompt_history WHERE created_at < ?1 ORDER BY created_at LIMIT ?2))sql",
                  horizon, report.prompts);
  p.by_key_scan(
      "SELECT rowid FROM code_blocks WHERE rowid > ?1 AND last_seen < ?2 ORDER BY rowid LIMIT ?3",
      "DELETE FROM code_blocks WHERE rowid = ?", horizon, report.code_blocks);
  p.by_key_scan(
      "SELECT id FROM dead_letters WHERE id > ?1 AND received_at < ?2 ORDER BY id LIMIT ?3",
      "DELETE FROM dead_letters WHERE id = ?", horizon, report.dead_letters);
  return report;
}

}  // namespace patternd::store
