#include "store/statements.hpp"

namespace patternd::store {
namespace {

// Raw rows are inserted with ON CONFLICT (unique key) DO NOTHING rather than
// INSERT OR IGNORE: OR IGNORE would also skip a row that breaks a CHECK or NOT
// NULL constraint, silently, and it would be counted as a duplicate. This way
// only a true duplicate is ignored; any other violation fails the statement
// and the record becomes a dead letter.
//
// The insert of a raw row serves both with a key and without one (NULL, after
// a collision): the unique index a keyed row can break is the key's, an
// unkeyed row's the partial index on the full value; untargeted, DO NOTHING
// covers either.
constexpr const char* k_insert_workflow = R"sql(
INSERT INTO workflow_history
  (workflow_id, agent_name, nl_input, workflow_template, status, total_tokens, cost_micros,
   error_count, retry_count, duration_ms, completed_at, workflow_key)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
ON CONFLICT DO NOTHING)sql";

// Rows stored without a key (after a collision): whether there are any, and
// whether a given id is one of them. An INSERT ... SELECT ... WHERE NOT
// EXISTS on the same table would do the second in the insert, but SQLite
// then stages every row in an ephemeral table first.
constexpr const char* k_any_unkeyed_workflow = R"sql(
SELECT EXISTS (SELECT 1 FROM workflow_history WHERE workflow_key IS NULL))sql";
constexpr const char* k_workflow_stored_unkeyed = R"sql(
SELECT 1 FROM workflow_history WHERE workflow_key IS NULL AND workflow_id = ?)sql";

constexpr const char* k_workflow_key_holder = R"sql(
SELECT workflow_id = ?2 FROM workflow_history WHERE workflow_key = ?1)sql";

// Aggregates arrive pre-summed per batch: one upsert per pattern per batch.
constexpr const char* k_upsert_operation_pattern = R"sql(
INSERT INTO operation_patterns
  (pattern_signature, category, tool, target, occurrences, successes, total_tokens,
   total_cost_micros, total_duration_ms, total_errors, total_retries, first_seen, last_seen)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (pattern_signature) DO UPDATE SET
  occurrences       = occurrences + excluded.occurrences,
  successes         = successes + excluded.successes,
  total_tokens      = total_tokens + excluded.total_tokens,
  total_cost_micros = total_cost_micros + excluded.total_cost_micros,
  total_duration_ms = total_duration_ms + excluded.total_duration_ms,
  total_errors      = total_errors + excluded.total_errors,
  total_retries     = total_retries + excluded.total_retries,
  first_seen        = min(first_seen, excluded.first_seen),
  last_seen         = max(last_seen, excluded.last_seen)
RETURNING id)sql";

constexpr const char* k_insert_occurrence = R"sql(
INSERT INTO pattern_occurrences (pattern_id, workflow_id, occurred_at) VALUES (?, ?, ?)
ON CONFLICT DO NOTHING)sql";

constexpr const char* k_upsert_pattern_day = R"sql(
INSERT INTO operation_pattern_days (pattern_id, day, occurrences) VALUES (?, ?, ?)
ON CONFLICT (pattern_id, day) DO UPDATE SET occurrences = occurrences + excluded.occurrences)sql";

constexpr const char* k_insert_event = R"sql(
INSERT INTO extraction_events
  (identity, event_id, agent_name, session_id, event_time, event_type, pattern, matched_value,
   original_line, line_number, risk_level, auto_confirmable, metadata, code_digest,
   code_line_start, code_line_end, code_parseable, identity_key)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
ON CONFLICT DO NOTHING)sql";

constexpr const char* k_any_unkeyed_event = R"sql(
SELECT EXISTS (SELECT 1 FROM extraction_events WHERE identity_key IS NULL))sql";
constexpr const char* k_event_stored_unkeyed = R"sql(
SELECT 1 FROM extraction_events WHERE identity_key IS NULL AND identity = ?)sql";

constexpr const char* k_event_key_holder = R"sql(
SELECT identity = ?2 FROM extraction_events WHERE identity_key = ?1)sql";

constexpr const char* k_insert_outcome = R"sql(
INSERT INTO outcomes
  (identity, outcome_id, agent_name, session_id, event_time, pattern, success, duration_ms,
   error, fix, organization_id, user_id, identity_key)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
ON CONFLICT DO NOTHING)sql";

constexpr const char* k_any_unkeyed_outcome = R"sql(
SELECT EXISTS (SELECT 1 FROM outcomes WHERE identity_key IS NULL))sql";
constexpr const char* k_outcome_stored_unkeyed = R"sql(
SELECT 1 FROM outcomes WHERE identity_key IS NULL AND identity = ?)sql";

constexpr const char* k_outcome_key_holder = R"sql(
SELECT identity = ?2 FROM outcomes WHERE identity_key = ?1)sql";

// Lifecycle events are few (a handful per session): a plain unique index
// on the identity (schema/009), no packed key.
constexpr const char* k_insert_state_change = R"sql(
INSERT INTO session_state_changes
  (identity, session_id, agent_name, state, event_time, environment, exit_code,
   lines_processed, stdout_log_path, stderr_log_path, extraction_config_version,
   environment_config_version, metadata)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (identity) DO NOTHING)sql";

constexpr const char* k_upsert_code_block = R"sql(
INSERT INTO code_blocks (digest, language, content, occurrences, first_seen, last_seen)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (digest) DO UPDATE SET
  occurrences = occurrences + excluded.occurrences,
  first_seen  = min(first_seen, excluded.first_seen),
  last_seen   = max(last_seen, excluded.last_seen))sql";

// The example is the earliest occurrence by event time, ties broken by the
// smaller identity. SET expressions all read the row as it was before.
constexpr const char* k_upsert_failure_pattern = R"sql(
INSERT INTO failure_patterns
  (signature, error_type, example, example_time, example_identity, frequency, first_seen,
   last_seen, agent_count, session_count)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0)
ON CONFLICT (signature) DO UPDATE SET
  example = CASE WHEN excluded.example_time < example_time
                   OR (excluded.example_time = example_time
                       AND excluded.example_identity < example_identity)
                 THEN excluded.example ELSE example END,
  example_identity = CASE WHEN excluded.example_time < example_time
                            OR (excluded.example_time = example_time
                                AND excluded.example_identity < example_identity)
                          THEN excluded.example_identity ELSE example_identity END,
  example_time = min(example_time, excluded.example_time),
  frequency    = frequency + excluded.frequency,
  first_seen   = min(first_seen, excluded.first_seen),
  last_seen    = max(last_seen, excluded.last_seen)
RETURNING id)sql";

constexpr const char* k_insert_failure_agent = R"sql(
INSERT INTO failure_pattern_agents (failure_id, agent_name) VALUES (?, ?)
ON CONFLICT DO NOTHING)sql";

constexpr const char* k_insert_failure_session = R"sql(
INSERT INTO failure_pattern_sessions (failure_id, session_id) VALUES (?, ?)
ON CONFLICT DO NOTHING)sql";

constexpr const char* k_add_failure_members = R"sql(
UPDATE failure_patterns SET agent_count = agent_count + ?, session_count = session_count + ?
WHERE id = ?)sql";

constexpr const char* k_insert_dead_letter = R"sql(
INSERT INTO dead_letters
  (topic, partition, offset, reason_class, reason, payload, payload_size, message_time,
   received_at, source_file, source_line)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (topic, partition, offset) DO UPDATE SET
  reason_class = excluded.reason_class, reason = excluded.reason
WHERE reason IS NOT excluded.reason)sql";

// A replayed dead letter that now passes.
constexpr const char* k_delete_dead_letter = R"sql(
DELETE FROM dead_letters WHERE topic = ? AND partition = ? AND offset = ?)sql";

// Offsets only move forward: a worker that lost its partitions but still
// commits an older batch (its rows are idempotent) must not rewind the new
// owner's position.
constexpr const char* k_upsert_offset = R"sql(
INSERT INTO kafka_offsets (topic, partition, next_offset, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (topic, partition) DO UPDATE SET
  next_offset = excluded.next_offset, updated_at = excluded.updated_at
WHERE excluded.next_offset > kafka_offsets.next_offset)sql";

}  // namespace

Statements::Statements(SQLite::Database& db)
    : insert_workflow(db, k_insert_workflow),
      workflow_key_holder(db, k_workflow_key_holder),
      any_unkeyed_workflow(db, k_any_unkeyed_workflow),
      workflow_stored_unkeyed(db, k_workflow_stored_unkeyed),
      upsert_operation_pattern(db, k_upsert_operation_pattern),
      insert_occurrence(db, k_insert_occurrence),
      upsert_pattern_day(db, k_upsert_pattern_day),
      insert_event(db, k_insert_event),
      event_key_holder(db, k_event_key_holder),
      any_unkeyed_event(db, k_any_unkeyed_event),
      event_stored_unkeyed(db, k_event_stored_unkeyed),
      insert_outcome(db, k_insert_outcome),
      outcome_key_holder(db, k_outcome_key_holder),
      any_unkeyed_outcome(db, k_any_unkeyed_outcome),
      outcome_stored_unkeyed(db, k_outcome_stored_unkeyed),
      insert_state_change(db, k_insert_state_change),
      upsert_code_block(db, k_upsert_code_block),
      upsert_failure_pattern(db, k_upsert_failure_pattern),
      insert_failure_agent(db, k_insert_failure_agent),
      insert_failure_session(db, k_insert_failure_session),
      add_failure_members(db, k_add_failure_members),
      insert_dead_letter(db, k_insert_dead_letter),
      delete_dead_letter(db, k_delete_dead_letter),
      upsert_offset(db, k_upsert_offset) {}

}  // namespace patternd::store
