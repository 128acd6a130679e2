#include "store/pg_batch_writer.hpp"

#include <chrono>

#include "core/sha256.hpp"
#include "store/pg_raw_rows.hpp"
#include "store/row_keys.hpp"

namespace patternd::store::pg {
namespace {

using pipeline::Batch;
using pipeline::BatchOutcome;
using pipeline::Rejection;

// The raw tables, each unique by its key: the columns the batch writer
// fills, in the order its rows give them.
const RawTable& workflow_table() {
  static const RawTable table("workflow_history",
                              {{"workflow_id", "text"},
                               {"agent_name", "text"},
                               {"nl_input", "text"},
                               {"workflow_template", "text"},
                               {"status", "text"},
                               {"total_tokens", "bigint"},
                               {"cost_micros", "bigint"},
                               {"error_count", "bigint"},
                               {"retry_count", "bigint"},
                               {"duration_ms", "bigint"},
                               {"completed_at", "bigint"}},
                              "workflow_id");
  return table;
}

const RawTable& event_table() {
  static const RawTable table("extraction_events",
                              {{"identity", "bytea"},
                               {"event_id", "text"},
                               {"agent_name", "text"},
                               {"session_id", "text"},
                               {"event_time", "bigint"},
                               {"event_type", "text"},
                               {"pattern", "text"},
                               {"matched_value", "text"},
                               {"original_line", "text"},
                               {"line_number", "bigint"},
                               {"risk_level", "text"},
                               {"auto_confirmable", "bigint"},
                               {"metadata", "text"},
                               {"code_digest", "bytea"},
                               {"code_line_start", "bigint"},
                               {"code_line_end", "bigint"},
                               {"code_parseable", "bigint"}},
                              "identity");
  return table;
}

const RawTable& outcome_table() {
  static const RawTable table("outcomes",
                              {{"identity", "bytea"},
                               {"outcome_id", "text"},
                               {"agent_name", "text"},
                               {"session_id", "text"},
                               {"event_time", "bigint"},
                               {"pattern", "text"},
                               {"success", "bigint"},
                               {"duration_ms", "bigint"},
                               {"error", "text"},
                               {"fix", "text"},
                               {"organization_id", "text"},
                               {"user_id", "text"}},
                              "identity");
  return table;
}

const RawTable& state_change_table() {
  static const RawTable table("session_state_changes",
                              {{"identity", "bytea"},
                               {"session_id", "text"},
                               {"agent_name", "text"},
                               {"state", "text"},
                               {"event_time", "bigint"},
                               {"environment", "text"},
                               {"exit_code", "bigint"},
                               {"lines_processed", "bigint"},
                               {"stdout_log_path", "text"},
                               {"stderr_log_path", "text"},
                               {"extraction_config_version", "text"},
                               {"environment_config_version", "text"},
                               {"metadata", "text"}},
                              "identity");
  return table;
}

const RawTable& prompt_table() {
  static const RawTable table("prompt_history",
                              {{"identity", "bytea"},
                               {"prompt_id", "text"},
                               {"agent_name", "text"},
                               {"session_id", "text"},
                               {"created_at", "bigint"},
                               {"original_idea", "text"},
                               {"context", "text"},
                               {"improved_prompt", "text"},
                               {"role", "text"},
                               {"directive", "text"},
                               {"framework", "text"},
                               {"guardrails", "text"},
                               {"backend", "text"},
                               {"model_version", "text"},
                               {"confidence", "float8"},
                               {"reasoning", "text"},
                               {"latency_ms", "bigint"}},
                              "identity");
  return table;
}

// A rejection seen again keeps its row, with the newest reason.
constexpr const char* k_upsert_dead_letters = R"sql(
INSERT INTO dead_letters AS d
  (topic, partition, "offset", reason_class, reason, payload, payload_size, message_time,
   received_at, source_file, source_line)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
  $6::bytea[], $7::bigint[], $8::bigint[], $9::bigint[], $10::text[], $11::bigint[])
ON CONFLICT (topic, partition, "offset") DO UPDATE SET
  reason_class = excluded.reason_class, reason = excluded.reason
WHERE d.reason IS DISTINCT FROM excluded.reason)sql";

// Replayed dead letters that now pass.
constexpr const char* k_delete_dead_letters = R"sql(
DELETE FROM dead_letters d
USING unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(topic, partition, "offset")
WHERE d.topic = u.topic AND d.partition = u.partition AND d."offset" = u."offset")sql";

// Offsets only move forward: a worker that lost its partitions but still
// commits an older batch (its rows are idempotent) must not rewind the new
// owner's position.
constexpr const char* k_upsert_offsets = R"sql(
INSERT INTO kafka_offsets AS k (topic, partition, next_offset, updated_at)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])
ON CONFLICT (topic, partition) DO UPDATE SET
  next_offset = excluded.next_offset, updated_at = excluded.updated_at
WHERE excluded.next_offset > k.next_offset)sql";

// File-sourced messages have no offset; their key is the payload's digest.
std::int64_t dead_letter_offset(const pipeline::RawMessage& message) {
  if (message.source.partition != core::k_file_partition) return message.source.offset.value;
  thread_local core::Sha256 sha;
  return digest_key(sha.add_bytes(message.payload).finish()) & 0x7FFF'FFFF'FFFF'FFFF;
}

const auto identity_text = [](const auto& record) {
  if constexpr (requires { record.event.identity; })
    return bytea_text(record.event.identity);
  else if constexpr (requires { record.outcome.identity; })
    return bytea_text(record.outcome.identity);
  else
    return bytea_text(record.prompt.identity);
};

}  // namespace

BatchWriter::BatchWriter(Connection& connection, const config::Kafka& kafka,
                         const std::atomic<bool>& interrupted)
    : m_connection(connection), m_kafka(kafka), m_interrupted(interrupted) {
  // The connection's staging tables, once: they live as long as it does.
  for (const RawTable* table : {&workflow_table(), &event_table(), &outcome_table(),
                                &state_change_table(), &prompt_table()})
    m_connection.exec(table->staging_table());
  create_session_staging(m_connection);
}

void BatchWriter::forget_batch() {
  m_patterns.clear();
  m_agents.clear();
  m_outcomes.clear();
  m_sessions.clear();
  m_prompts.clear();
  m_code_blocks.clear();
  m_fresh_events.clear();
}

void BatchWriter::stop_if_interrupted() const {
  if (m_interrupted) throw PgError("57014", m_connection.location(), "the write was interrupted");
}

BatchOutcome BatchWriter::write(const Batch& batch) {
  try {
    return attempt(batch, false);
  } catch (const RecordRefused&) {
    // Rolled back: again, each raw row on its own, to find which.
  }
  return attempt(batch, true);
}

BatchOutcome BatchWriter::attempt(const Batch& batch, bool careful) {
  BatchOutcome outcome;
  forget_batch();
  m_careful = careful;
  m_rejections = batch.rejections;
  const auto started = std::chrono::steady_clock::now();
  try {
    m_connection.exec("BEGIN");
    write_workflows(batch, outcome);
    stop_if_interrupted();
    write_extractions(batch, outcome);
    stop_if_interrupted();
    write_outcomes(batch, outcome);
    write_session_events(batch, outcome);
    write_prompts(batch, outcome);
    stop_if_interrupted();
    write_failures();
    outcome.new_occurrences = write_patterns(m_connection, m_patterns);
    write_agent_totals(m_connection, m_agents);
    write_outcome_totals(m_connection, m_outcomes);
    write_prompt_totals(m_connection, m_prompts);
    write_code_blocks(m_connection, m_code_blocks);
    stop_if_interrupted();
    write_dead_letters(batch, outcome);
    outcome.store_rejections.assign(
        m_rejections.begin() + static_cast<std::ptrdiff_t>(batch.rejections.size()),
        m_rejections.end());
    if (batch.replay) clear_replayed(batch, outcome);
    write_offsets(batch);
    m_connection.exec("COMMIT");
  } catch (...) {
    forget_batch();
    // Nothing to roll back on a broken connection: the server did.
    if (!m_connection.broken()) {
      try {
        m_connection.exec("ROLLBACK");
      } catch (const PgError&) {
      }
    }
    throw;
  }
  forget_batch();
  outcome.transaction_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (const auto& k : core::k_stream_kinds)
    outcome.topic(k.kind).expired = batch.expired[core::index_of(k.kind)];
  return outcome;
}

void BatchWriter::write_workflows(const Batch& batch, BatchOutcome& outcome) {
  insert_raw(
      m_connection, workflow_table(), batch.workflows,
      [](const pipeline::WorkflowRecord& r) -> std::string_view { return r.workflow.workflow_id; },
      [](const pipeline::WorkflowRecord& r) { return r.workflow.workflow_id; },
      [](auto& rows, const pipeline::WorkflowRecord& r) {
        const core::Workflow& w = r.workflow;
        rows.text(w.workflow_id).text(w.agent_name).text(w.nl_input).text(w.workflow_template);
        rows.text(core::to_string(w.status)).integer(w.total_tokens).integer(w.cost_micros);
        rows.integer(w.error_count).integer(w.retry_count).integer(w.duration_ms);
        rows.integer(w.completed_at);
      },
      m_careful, outcome.topic(core::TopicKind::workflows), m_rejections,
      [this](const pipeline::WorkflowRecord& r, std::int64_t id) {
        m_patterns.add_workflow(id, r.workflow, r.signatures);
        m_agents.add_workflow(r.workflow);
      });
}

void BatchWriter::write_extractions(const Batch& batch, BatchOutcome& outcome) {
  insert_raw(
      m_connection, event_table(), batch.extractions,
      [](const pipeline::ExtractionRecord& r) { return r.event.identity; }, identity_text,
      [](auto& rows, const pipeline::ExtractionRecord& r) {
        const core::Extraction& e = r.event;
        rows.digest(e.identity).text_or_null(e.event_id).text(e.agent_name).text(e.session_id);
        rows.integer(e.timestamp).text(e.event_type).text_or_null(e.pattern);
        rows.text_or_null(e.matched_value).text_or_null(e.original_line);
        rows.optional(e.line_number).text_or_null(e.risk_level).optional(e.auto_confirmable);
        rows.text_or_null(e.metadata_json);
        if (e.code_block) {
          // The block itself goes to code_blocks, with this row or not at all.
          rows.note_text(e.code_block->language);
          rows.note_text(e.code_block->content);
          rows.digest(e.code_block->digest).optional(e.code_block->line_start);
          rows.optional(e.code_block->line_end).optional(e.code_block->parseable);
        } else {
          rows.null().null().null().null();
        }
      },
      m_careful, outcome.topic(core::TopicKind::extractions), m_rejections,
      [this](const pipeline::ExtractionRecord& r, std::int64_t) {
        const core::Extraction& e = r.event;
        m_fresh_events.push_back(&r);
        m_agents.add_event(e);
        m_sessions.add_event(e);
        if (!e.code_block) return;
        auto [c, new_code] = m_code_blocks.try_emplace(e.code_block->digest);
        if (new_code) c->second = {&*e.code_block, 0, e.timestamp, e.timestamp};
        c->second.occurrences += 1;
        c->second.first = std::min(c->second.first, e.timestamp);
        c->second.last = std::max(c->second.last, e.timestamp);
      });
}

void BatchWriter::write_outcomes(const Batch& batch, BatchOutcome& outcome) {
  insert_raw(
      m_connection, outcome_table(), batch.outcomes,
      [](const pipeline::OutcomeRecord& r) { return r.outcome.identity; }, identity_text,
      [](auto& rows, const pipeline::OutcomeRecord& r) {
        const core::Outcome& o = r.outcome;
        rows.digest(o.identity).text_or_null(o.outcome_id).text(o.agent_name);
        rows.text_or_null(o.session_id).integer(o.timestamp).text(o.pattern);
        rows.integer(o.success ? 1 : 0).optional(o.duration_ms).text_or_null(o.error);
        rows.text_or_null(o.fix).text_or_null(o.organization_id).text_or_null(o.user_id);
      },
      m_careful, outcome.topic(core::TopicKind::outcomes), m_rejections,
      [this](const pipeline::OutcomeRecord& r, std::int64_t) {
        m_outcomes.add(r.outcome, r.failure_signature, r.failure_type);
        m_agents.add_outcome(r.outcome);
        m_sessions.add_outcome(r.outcome);
      });
}

void BatchWriter::write_session_events(const Batch& batch, BatchOutcome& outcome) {
  insert_raw(
      m_connection, state_change_table(), batch.session_events,
      [](const pipeline::SessionEventRecord& r) { return r.event.identity; }, identity_text,
      [](auto& rows, const pipeline::SessionEventRecord& r) {
        const core::SessionEvent& e = r.event;
        rows.digest(e.identity).text(e.session_id).text(e.agent_name);
        rows.text(core::to_string(e.state)).integer(e.timestamp).text_or_null(e.environment);
        rows.optional(e.exit_code).optional(e.lines_processed);
        rows.text_or_null(e.stdout_log_path).text_or_null(e.stderr_log_path);
        rows.text_or_null(e.extraction_config_version);
        rows.text_or_null(e.environment_config_version).text_or_null(e.metadata_json);
      },
      m_careful, outcome.topic(core::TopicKind::sessions), m_rejections,
      [this](const pipeline::SessionEventRecord& r, std::int64_t) {
        m_sessions.add_lifecycle(r.event);
      });
}

void BatchWriter::write_prompts(const Batch& batch, BatchOutcome& outcome) {
  insert_raw(
      m_connection, prompt_table(), batch.prompts,
      [](const pipeline::PromptRecord& r) { return r.prompt.identity; }, identity_text,
      [](auto& rows, const pipeline::PromptRecord& r) {
        const core::Prompt& p = r.prompt;
        rows.digest(p.identity).text_or_null(p.prompt_id).text_or_null(p.agent_name);
        rows.text_or_null(p.session_id).integer(p.timestamp).text(p.original_idea);
        rows.text(p.context).text(p.improved_prompt).text(p.role).text(p.directive);
        rows.text(p.framework).text(p.guardrails).text(p.backend);
        rows.text_or_null(p.model_version);
        if (p.confidence_micros)
          rows.real(static_cast<double>(*p.confidence_micros) / 1e6);
        else
          rows.null();
        rows.text_or_null(p.reasoning).optional(p.latency_ms);
      },
      m_careful, outcome.topic(core::TopicKind::prompts), m_rejections,
      [this](const pipeline::PromptRecord& r, std::int64_t) { m_prompts.add(r.prompt); });
}

// After the sessions: a failure counts the sessions it appeared in by row id.
void BatchWriter::write_failures() {
  const auto session_rows = write_sessions(m_connection, m_sessions);
  for (const auto* record : m_fresh_events) {
    const core::Extraction& e = record->event;
    if (!e.is_error() || record->failure_signature.empty()) continue;
    const std::string& example = e.matched_value.empty() ? e.original_line : e.matched_value;
    m_patterns.add_failure(record->failure_signature, record->failure_type, example, e.identity,
                           e.timestamp, e.agent_name, session_rows.at(e.session_id));
  }
}

void BatchWriter::write_dead_letters(const Batch& batch, BatchOutcome& outcome) {
  if (m_rejections.empty()) return;
  const core::TimestampMs now = core::now_ms();
  // One row per (topic, partition, offset), in that order: a file's payload
  // seen twice is one dead letter, with the reason it was rejected for last.
  struct Letter {
    const Rejection* rejection;
    const pipeline::RawMessage* message;
    std::int64_t offset;
  };
  std::map<std::tuple<std::string_view, std::int32_t, std::int64_t>, Letter> letters;
  for (const Rejection& rejection : m_rejections) {
    const pipeline::RawMessage& message = batch.messages[rejection.message];
    const core::TopicKind kind = message.source.kind;
    const std::int64_t offset = dead_letter_offset(message);
    auto [it, added] = letters.try_emplace(
        {m_kafka.topic(kind), message.source.partition.value, offset}, Letter{});
    if (added) it->second = {&rejection, &message, offset};
    it->second.rejection = &rejection;
    // Counted whether or not it was already stored: the message was rejected.
    ++outcome.topic(kind).dead_lettered;
    ++outcome.dead_letter_classes[{kind, rejection.reject}];
  }
  Rows rows(11);
  for (const auto& [key, letter] : letters) {
    const pipeline::RawMessage& message = *letter.message;
    const std::size_t kept = std::min(message.payload.size(), pipeline::k_max_dead_letter_payload);
    rows.begin_row();
    rows.text(std::get<0>(key)).integer(std::get<1>(key)).integer(letter.offset);
    rows.text(core::to_string(letter.rejection->reject)).text(letter.rejection->reason);
    rows.bytes(reinterpret_cast<const unsigned char*>(message.payload.data()), kept);
    rows.integer(static_cast<std::int64_t>(message.payload.size())).integer(message.timestamp);
    rows.integer(now);
    // A file's line (the first place the payload was seen).
    if (message.source.partition == core::k_file_partition && !batch.source_name.empty())
      rows.text(batch.source_name).integer(message.source.offset.value);
    else
      rows.null().null();
    rows.end_row();
  }
  send(m_connection, k_upsert_dead_letters, rows);
}

void BatchWriter::clear_replayed(const Batch& batch, BatchOutcome& outcome) {
  std::vector<bool> rejected(batch.messages.size(), false);
  for (const Rejection& r : m_rejections) rejected[r.message] = true;
  Rows rows(3);
  for (std::uint32_t i = 0; i < batch.messages.size(); ++i) {
    if (rejected[i]) continue;
    const pipeline::RawMessage& message = batch.messages[i];
    rows.begin_row();
    rows.text(m_kafka.topic(message.source.kind)).integer(message.source.partition.value);
    rows.integer(dead_letter_offset(message));
    rows.end_row();
  }
  if (rows.empty()) return;
  outcome.dead_letters_cleared += static_cast<std::uint64_t>(
      rows_changed(send(m_connection, k_delete_dead_letters, rows).get()));
}

void BatchWriter::write_offsets(const Batch& batch) {
  if (batch.offsets.empty()) return;
  const core::TimestampMs now = core::now_ms();
  std::map<std::pair<std::string_view, std::int32_t>, std::int64_t> next;
  for (const auto& mark : batch.offsets) {
    std::int64_t& at = next[{m_kafka.topic(mark.kind), mark.partition.value}];
    at = std::max(at, mark.next.value);
  }
  Rows rows(4);
  for (const auto& [key, offset] : next) {
    rows.begin_row();
    rows.text(key.first).integer(key.second).integer(offset).integer(now);
    rows.end_row();
  }
  send(m_connection, k_upsert_offsets, rows);
}

}  // namespace patternd::store::pg
