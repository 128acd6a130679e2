#pragma once
// Writes one batch in one PostgreSQL transaction, as store/batch_writer.hpp
// does in SQLite: raw rows of every stream kind (new ones only, by
// `INSERT ... ON CONFLICT DO NOTHING`), the aggregates they grow
// (store/pg_aggregates.hpp), dead letters and the next offsets (which only
// move forward). All of it or none of it.
//
// Each table gets one statement per batch, its rows sent as arrays
// (store/pg_arrays.hpp) in the order of its unique key, so that a batch is
// a dozen round trips whatever its size, and workers writing the same rows
// at once take their locks in the same order.
//
// A record the database refuses (a check the decoder did not make) fails
// its whole statement: the batch is then written again with each raw row in
// a savepoint of its own, so the record becomes a dead letter (reason class
// db_constraint) and the rest commits.
//
// Not thread-safe: one writer per connection, used by one thread.

#include <atomic>
#include <vector>

#include "config/config.hpp"
#include "pipeline/batch.hpp"
#include "pipeline/outcome.hpp"
#include "store/accumulator.hpp"
#include "store/agent_totals.hpp"
#include "store/outcome_totals.hpp"
#include "store/pg_aggregates.hpp"
#include "store/pg_connection.hpp"
#include "store/prompt_totals.hpp"
#include "store/session_deltas.hpp"

namespace patternd::store::pg {

class BatchWriter {
 public:
  // `interrupted`: checked between statements (PgStore::interrupt cancels
  // the statement running; this stops the rest of the batch).
  BatchWriter(Connection& connection, const config::Kafka& kafka,
              const std::atomic<bool>& interrupted);

  // Throws PgError (the transaction rolled back; classify() says what to do).
  pipeline::BatchOutcome write(const pipeline::Batch& batch);

 private:
  // One try; `careful`: each raw row in a savepoint of its own.
  pipeline::BatchOutcome attempt(const pipeline::Batch& batch, bool careful);
  void write_workflows(const pipeline::Batch& batch, pipeline::BatchOutcome& outcome);
  void write_extractions(const pipeline::Batch& batch, pipeline::BatchOutcome& outcome);
  void write_outcomes(const pipeline::Batch& batch, pipeline::BatchOutcome& outcome);
  void write_session_events(const pipeline::Batch& batch, pipeline::BatchOutcome& outcome);
  void write_prompts(const pipeline::Batch& batch, pipeline::BatchOutcome& outcome);
  void write_failures();
  void write_dead_letters(const pipeline::Batch& batch, pipeline::BatchOutcome& outcome);
  void clear_replayed(const pipeline::Batch& batch, pipeline::BatchOutcome& outcome);
  void write_offsets(const pipeline::Batch& batch);
  void forget_batch();
  // Throws PgError 57014 (canceled: transient) once interrupted.
  void stop_if_interrupted() const;

  Connection& m_connection;
  const config::Kafka& m_kafka;
  const std::atomic<bool>& m_interrupted;
  bool m_careful = false;
  std::vector<pipeline::Rejection> m_rejections;  // this try's, the decoder's first
  PatternAccumulator m_patterns;
  AgentTotals m_agents;
  OutcomeTotals m_outcomes;
  SessionDeltas m_sessions;
  PromptTotals m_prompts;
  std::map<core::Digest, CodeBlockDelta> m_code_blocks;
  std::vector<const pipeline::ExtractionRecord*> m_fresh_events;  // new to the database
};

}  // namespace patternd::store::pg
