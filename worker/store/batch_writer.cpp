#include "store/batch_writer.hpp"

#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <random>
#include <unordered_map>

#include "core/log.hpp"
#include "core/sha256.hpp"
#include "store/os_errors.hpp"
#include "store/raw_insert.hpp"
#include "store/row_keys.hpp"

namespace patternd::store {
namespace {

using pipeline::Batch;
using pipeline::Rejection;

// File-sourced messages have no offset; their key is the payload's digest.
std::int64_t dead_letter_offset(const pipeline::RawMessage& message) {
  if (message.source.partition != core::k_file_partition) return message.source.offset.value;
  thread_local core::Sha256 sha;
  return digest_key(sha.add_bytes(message.payload).finish()) & 0x7FFF'FFFF'FFFF'FFFF;
}

struct CodeDelta {
  const core::CodeBlock* block = nullptr;
  std::int64_t occurrences = 0;
  core::TimestampMs first = 0, last = 0;
};

}  // namespace

BatchWriter::BatchWriter(Database& db, const config::Kafka& kafka)
    : m_created(std::chrono::steady_clock::now()),
      m_db(db),
      m_kafka(kafka),
      m_statements(db.sql()),
      m_workflow_keys(db.sql(), k_workflow_keys),
      m_event_keys(db.sql(), k_event_keys),
      m_outcome_keys(db.sql(), k_outcome_keys),
      m_agents(db.sql()),
      m_outcomes(db.sql()),
      m_sessions(db.sql()),
      m_prompts(db.sql()) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - m_created).count();
  std::size_t keys = 0, bytes = 0;
  for (const KeySpace* space : {&m_workflow_keys, &m_event_keys, &m_outcome_keys}) {
    keys += space->directory().size();
    bytes += space->directory().bytes();
  }
  // Worth an operator's notice only when it delays the start (millions of rows).
  char took[32];
  std::snprintf(took, sizeof took, "%.1f s", seconds);
  (seconds >= 1 ? log::info : log::debug)("store",
                                          "key directory loaded: " + std::to_string(keys) +
                                              " keys in " + took + ", " +
                                              std::to_string(bytes >> 20) + " MiB",
                                          {{"keys", static_cast<std::int64_t>(keys)},
                                           {"bytes", static_cast<std::int64_t>(bytes)},
                                           {"seconds", seconds}});
}

void BatchWriter::forget_batch() {
  m_accumulator = PatternAccumulator();
  m_agents.clear();
  m_outcomes.clear();
  m_sessions.clear();
  m_prompts.clear();
  m_fresh_events.clear();
}

BatchOutcome BatchWriter::write(const Batch& batch) {
  BatchOutcome outcome;
  m_db.before_write();
  const auto started = std::chrono::steady_clock::now();
  errno = 0;  // see system_errno_of_failed_write()
  try {
    SQLite::Transaction txn(m_db.sql(), SQLite::TransactionBehavior::IMMEDIATE);
    m_workflow_keys.catch_up();
    m_event_keys.catch_up();
    m_outcome_keys.catch_up();
    std::vector<Rejection> rejections(batch.rejections);
    write_workflows(batch, outcome, rejections);
    write_extractions(batch, outcome, rejections);
    write_outcomes(batch, outcome, rejections);
    write_session_events(batch, outcome, rejections);
    write_prompts(batch, outcome, rejections);
    write_sessions_and_failures();
    outcome.new_occurrences = m_accumulator.flush(m_statements);
    m_agents.flush();
    m_outcomes.flush();
    m_prompts.flush();
    write_dead_letters(batch, rejections, outcome);
    outcome.store_rejections.assign(
        rejections.begin() + static_cast<std::ptrdiff_t>(batch.rejections.size()),
        rejections.end());
    if (batch.replay) clear_replayed(batch, rejections, outcome);
    write_offsets(batch);
    m_workflow_keys.before_commit();
    m_event_keys.before_commit();
    m_outcome_keys.before_commit();
    txn.commit();
    m_workflow_keys.committed();
    m_event_keys.committed();
    m_outcome_keys.committed();
  } catch (const SQLite::Exception& e) {
    const int os_errno = system_errno_of_failed_write(m_db.sql().getHandle());
    // The transaction rolled back; leave no half-built aggregate behind.
    forget_batch();
    const int code = e.getExtendedErrorCode();
    ErrorKind kind = classify_sqlite_error(code);
    // A constraint outside a record's own insert is a bug, not bad input.
    if (kind == ErrorKind::record) kind = ErrorKind::fatal;
    throw StoreError(kind, code, os_errno, describe_sqlite_error(code, os_errno, e.what()));
  } catch (...) {
    forget_batch();
    throw;
  }
  outcome.transaction_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (const auto& k : core::k_stream_kinds)
    outcome.topic(k.kind).expired = batch.expired[core::index_of(k.kind)];
  return outcome;
}

void BatchWriter::write_workflows(const Batch& batch, BatchOutcome& outcome,
                                  std::vector<Rejection>& rejected) {
  if (batch.workflows.empty()) return;
  auto& topic = outcome.topic(core::TopicKind::workflows);
  auto& s = m_statements;
  RawInserts inserts{s.insert_workflow, s.workflow_key_holder,
                     ask(s.any_unkeyed_workflow) ? &s.workflow_stored_unkeyed : nullptr,
                     m_workflow_keys};
  for (const auto& record : batch.workflows) {
    const core::Workflow& w = record.workflow;
    const auto bind = [&w](SQLite::Statement& q, std::optional<std::int64_t> key) {
      q.bindNoCopy(1, w.workflow_id);
      q.bindNoCopy(2, w.agent_name);
      q.bindNoCopy(3, w.nl_input);
      q.bindNoCopy(4, w.workflow_template);
      q.bindNoCopy(5, core::to_string(w.status).data());  // a NUL-terminated literal
      q.bind(6, w.total_tokens);
      q.bind(7, w.cost_micros);
      q.bind(8, w.error_count);
      q.bind(9, w.retry_count);
      q.bind(10, w.duration_ms);
      q.bind(11, w.completed_at);
      bind_optional(q, 12, key);
    };
    const auto bind_value = [&w](SQLite::Statement& q, int i) { q.bindNoCopy(i, w.workflow_id); };
    const std::uint64_t hash = key_hash(text_key(w.workflow_id));
    if (!insert_raw(inserts, hash, bind, bind_value, record.message, topic, rejected)) continue;
    m_accumulator.add_workflow(m_db.sql().getLastInsertRowid(), w, record.signatures);
    m_agents.add_workflow(w);
  }
}

void BatchWriter::write_extractions(const Batch& batch, BatchOutcome& outcome,
                                    std::vector<Rejection>& rejected) {
  if (batch.extractions.empty()) return;
  auto& topic = outcome.topic(core::TopicKind::extractions);
  auto& s = m_statements;
  RawInserts inserts{s.insert_event, s.event_key_holder,
                     ask(s.any_unkeyed_event) ? &s.event_stored_unkeyed : nullptr, m_event_keys};
  m_fresh_events.clear();
  m_fresh_events.reserve(batch.extractions.size());
  for (const auto& record : batch.extractions) {
    const core::Extraction& e = record.event;
    const auto bind = [&e](SQLite::Statement& q, std::optional<std::int64_t> key) {
      bind_digest(q, 1, e.identity);
      bind_text_or_null(q, 2, e.event_id);
      q.bindNoCopy(3, e.agent_name);
      q.bindNoCopy(4, e.session_id);
      q.bind(5, e.timestamp);
      q.bindNoCopy(6, e.event_type);
      bind_text_or_null(q, 7, e.pattern);
      bind_text_or_null(q, 8, e.matched_value);
      bind_text_or_null(q, 9, e.original_line);
      bind_optional(q, 10, e.line_number);
      bind_text_or_null(q, 11, e.risk_level);
      bind_optional(q, 12, e.auto_confirmable);
      bind_text_or_null(q, 13, e.metadata_json);
      if (e.code_block) {
        bind_digest(q, 14, e.code_block->digest);
        bind_optional(q, 15, e.code_block->line_start);
        bind_optional(q, 16, e.code_block->line_end);
        bind_optional(q, 17, e.code_block->parseable);
      } else {
        for (int i = 14; i <= 17; ++i) q.bind(i);
      }
      bind_optional(q, 18, key);
    };
    const auto bind_value = [&e](SQLite::Statement& q, int i) { bind_digest(q, i, e.identity); };
    const std::uint64_t hash = key_hash(digest_key(e.identity));
    if (insert_raw(inserts, hash, bind, bind_value, record.message, topic, rejected)) {
      m_fresh_events.push_back(&record);
      m_agents.add_event(e);
    }
  }

  // Code blocks: one upsert each per batch.
  std::map<core::Digest, CodeDelta> codes;
  for (const auto* record : m_fresh_events) {
    const core::Extraction& e = record->event;
    m_sessions.add_event(e);
    if (e.code_block) {
      auto [c, new_code] = codes.try_emplace(e.code_block->digest);
      if (new_code) {
        c->second = {&*e.code_block, 0, e.timestamp, e.timestamp};
      }
      c->second.occurrences += 1;
      c->second.first = std::min(c->second.first, e.timestamp);
      c->second.last = std::max(c->second.last, e.timestamp);
    }
  }

  auto& uc = m_statements.upsert_code_block;
  for (const auto& [digest, c] : codes) {
    bind_digest(uc, 1, digest);
    uc.bindNoCopy(2, c.block->language);
    uc.bindNoCopy(3, c.block->content);
    uc.bind(4, c.occurrences);
    uc.bind(5, c.first);
    uc.bind(6, c.last);
    uc.exec();
    uc.reset();
  }
}

void BatchWriter::write_outcomes(const Batch& batch, BatchOutcome& outcome,
                                 std::vector<Rejection>& rejected) {
  if (batch.outcomes.empty()) return;
  auto& topic = outcome.topic(core::TopicKind::outcomes);
  auto& s = m_statements;
  RawInserts inserts{s.insert_outcome, s.outcome_key_holder,
                     ask(s.any_unkeyed_outcome) ? &s.outcome_stored_unkeyed : nullptr,
                     m_outcome_keys};
  for (const auto& record : batch.outcomes) {
    const core::Outcome& o = record.outcome;
    const auto bind = [&o](SQLite::Statement& q, std::optional<std::int64_t> key) {
      bind_digest(q, 1, o.identity);
      bind_text_or_null(q, 2, o.outcome_id);
      q.bindNoCopy(3, o.agent_name);
      bind_text_or_null(q, 4, o.session_id);
      q.bind(5, o.timestamp);
      q.bindNoCopy(6, o.pattern);
      q.bind(7, o.success ? 1 : 0);
      bind_optional(q, 8, o.duration_ms);
      bind_text_or_null(q, 9, o.error);
      bind_text_or_null(q, 10, o.fix);
      bind_text_or_null(q, 11, o.organization_id);
      bind_text_or_null(q, 12, o.user_id);
      bind_optional(q, 13, key);
    };
    const auto bind_value = [&o](SQLite::Statement& q, int i) { bind_digest(q, i, o.identity); };
    const std::uint64_t hash = key_hash(digest_key(o.identity));
    if (!insert_raw(inserts, hash, bind, bind_value, record.message, topic, rejected)) continue;
    m_outcomes.add(o, record.failure_signature, record.failure_type);
    m_agents.add_outcome(o);
    m_sessions.add_outcome(o);
  }
}

void BatchWriter::write_session_events(const Batch& batch, BatchOutcome& outcome,
                                       std::vector<Rejection>& rejected) {
  if (batch.session_events.empty()) return;
  auto& topic = outcome.topic(core::TopicKind::sessions);
  auto& q = m_statements.insert_state_change;
  for (const auto& record : batch.session_events) {
    const core::SessionEvent& e = record.event;
    bind_digest(q, 1, e.identity);
    q.bindNoCopy(2, e.session_id);
    q.bindNoCopy(3, e.agent_name);
    q.bindNoCopy(4, core::to_string(e.state).data());  // a NUL-terminated literal
    q.bind(5, e.timestamp);
    bind_text_or_null(q, 6, e.environment);
    bind_optional(q, 7, e.exit_code);
    bind_optional(q, 8, e.lines_processed);
    bind_text_or_null(q, 9, e.stdout_log_path);
    bind_text_or_null(q, 10, e.stderr_log_path);
    bind_text_or_null(q, 11, e.extraction_config_version);
    bind_text_or_null(q, 12, e.environment_config_version);
    bind_text_or_null(q, 13, e.metadata_json);
    const auto added = run_insert(q, record.message, rejected);
    if (!added) continue;
    if (*added == 0) {
      ++topic.duplicates;
      continue;
    }
    ++topic.persisted;
    m_sessions.add_lifecycle(e);
  }
}

void BatchWriter::write_prompts(const Batch& batch, BatchOutcome& outcome,
                                std::vector<Rejection>& rejected) {
  if (batch.prompts.empty()) return;
  auto& topic = outcome.topic(core::TopicKind::prompts);
  for (const auto& record : batch.prompts) {
    const auto added = m_prompts.insert(record.prompt, record.message, rejected);
    if (!added) continue;
    ++(*added == 1 ? topic.persisted : topic.duplicates);
  }
}

// After the sessions: a failure counts the sessions it appeared in by row id.
void BatchWriter::write_sessions_and_failures() {
  const auto session_rows = m_sessions.flush();
  for (const auto* record : m_fresh_events) {
    const core::Extraction& e = record->event;
    if (!e.is_error() || record->failure_signature.empty()) continue;
    const std::string& example = e.matched_value.empty() ? e.original_line : e.matched_value;
    m_accumulator.add_failure(record->failure_signature, record->failure_type, example, e.identity,
                              e.timestamp, e.agent_name, session_rows.at(e.session_id));
  }
  m_fresh_events.clear();
}

void BatchWriter::clear_replayed(const Batch& batch, const std::vector<Rejection>& rejections,
                                 BatchOutcome& outcome) {
  std::vector<bool> rejected(batch.messages.size(), false);
  for (const Rejection& r : rejections) rejected[r.message] = true;
  auto& q = m_statements.delete_dead_letter;
  for (std::uint32_t i = 0; i < batch.messages.size(); ++i) {
    if (rejected[i]) continue;
    const pipeline::RawMessage& message = batch.messages[i];
    q.bindNoCopy(1, m_kafka.topic(message.source.kind));
    q.bind(2, message.source.partition.value);
    q.bind(3, dead_letter_offset(message));
    outcome.dead_letters_cleared += static_cast<std::uint64_t>(q.exec());
    q.reset();
  }
}

void BatchWriter::write_dead_letters(const Batch& batch, const std::vector<Rejection>& rejections,
                                     BatchOutcome& outcome) {
  const core::TimestampMs now = core::now_ms();
  auto& q = m_statements.insert_dead_letter;
  for (const Rejection& rejection : rejections) {
    const pipeline::RawMessage& message = batch.messages[rejection.message];
    const core::TopicKind kind = message.source.kind;
    q.bindNoCopy(1, m_kafka.topic(kind));
    q.bind(2, message.source.partition.value);
    q.bind(3, dead_letter_offset(message));
    q.bind(4, std::string(core::to_string(rejection.reject)));
    q.bindNoCopy(5, rejection.reason);
    const std::size_t kept = std::min(message.payload.size(), k_max_dead_letter_payload);
    q.bindNoCopy(6, message.payload.data(), static_cast<int>(kept));
    q.bind(7, static_cast<std::int64_t>(message.payload.size()));
    q.bind(8, message.timestamp);
    q.bind(9, now);
    // A file's line (the first place the payload was seen, on a conflict).
    if (message.source.partition == core::k_file_partition && !batch.source_name.empty()) {
      q.bindNoCopy(10, batch.source_name);
      q.bind(11, message.source.offset.value);
    } else {
      q.bind(10);
      q.bind(11);
    }
    q.exec();
    q.reset();
    // Counted whether or not it was already stored: the message was rejected.
    ++outcome.topic(kind).dead_lettered;
    ++outcome.dead_letter_classes[{kind, rejection.reject}];
  }
}

void BatchWriter::write_offsets(const Batch& batch) {
  const core::TimestampMs now = core::now_ms();
  auto& q = m_statements.upsert_offset;
  for (const auto& mark : batch.offsets) {
    q.bindNoCopy(1, m_kafka.topic(mark.kind));
    q.bind(2, mark.partition.value);
    q.bind(3, mark.next.value);
    q.bind(4, now);
    q.exec();
    q.reset();
  }
}

}  // namespace patternd::store
