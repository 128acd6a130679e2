#pragma once
// Writes one batch in one SQLite transaction: raw rows of every stream kind (inserted unless their
// unique key is already present), the pattern aggregates grown only for rows that were
// new, the dead letters and the next Kafka offsets. Either all of it lands
// or none of it does.
//
// A record that breaks a database constraint the decoder did not catch is
// isolated by SQLite's statement-level rollback: it becomes a dead letter
// (reason class db_constraint) and the rest of the batch commits.
//
// Not thread-safe: one writer per connection, used by one thread.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "config/config.hpp"
#include "pipeline/batch.hpp"
#include "pipeline/outcome.hpp"
#include "store/accumulator.hpp"
#include "store/agent_totals.hpp"
#include "store/database.hpp"
#include "store/errors.hpp"
#include "store/key_space.hpp"
#include "store/outcome_totals.hpp"
#include "store/prompt_totals.hpp"
#include "store/session_deltas.hpp"
#include "store/statements.hpp"

namespace patternd::store {

using pipeline::BatchOutcome;
using pipeline::TopicOutcome;

using pipeline::k_max_dead_letter_payload;

class BatchWriter {
 public:
  BatchWriter(Database& db, const config::Kafka& kafka);

  // Throws StoreError: transient (nothing was written; retry the same batch
  // later) or fatal.
  BatchOutcome write(const pipeline::Batch& batch);

  // From another thread: cut a write short (Database::interrupt), until resume().
  void interrupt() { m_db.interrupt(); }
  void resume() { m_db.resume_waits(); }

 private:
  void write_workflows(const pipeline::Batch& batch, BatchOutcome& outcome,
                       std::vector<pipeline::Rejection>& rejected);
  void write_extractions(const pipeline::Batch& batch, BatchOutcome& outcome,
                         std::vector<pipeline::Rejection>& rejected);
  void write_outcomes(const pipeline::Batch& batch, BatchOutcome& outcome,
                      std::vector<pipeline::Rejection>& rejected);
  void write_session_events(const pipeline::Batch& batch, BatchOutcome& outcome,
                            std::vector<pipeline::Rejection>& rejected);
  void write_prompts(const pipeline::Batch& batch, BatchOutcome& outcome,
                     std::vector<pipeline::Rejection>& rejected);
  void write_sessions_and_failures();
  void forget_batch();  // the transaction rolled back: no half-built aggregate stays
  void write_dead_letters(const pipeline::Batch& batch,
                          const std::vector<pipeline::Rejection>& rejections,
                          BatchOutcome& outcome);
  void write_offsets(const pipeline::Batch& batch);
  void clear_replayed(const pipeline::Batch& batch,
                      const std::vector<pipeline::Rejection>& rejections, BatchOutcome& outcome);

  std::chrono::steady_clock::time_point m_created;
  Database& m_db;
  const config::Kafka& m_kafka;
  Statements m_statements;
  KeySpace m_workflow_keys;
  KeySpace m_event_keys;
  KeySpace m_outcome_keys;
  PatternAccumulator m_accumulator;
  SqliteAgentTotals m_agents;
  SqliteOutcomeTotals m_outcomes;
  SqliteSessionDeltas m_sessions;
  SqlitePromptTotals m_prompts;
  std::vector<const pipeline::ExtractionRecord*> m_fresh_events;  // new to the database
};

}  // namespace patternd::store
