#include "store/pg_read_queries.hpp"

namespace patternd::store::pg::sql {
namespace {

// Appends " AND <condition>" when `present`.
void add(std::string& where, bool present, const std::string& condition) {
  if (present) where += " AND " + condition;
}

const char* pattern_key(PatternSort sort) {
  switch (sort) {
    case PatternSort::savings:
      return "savings_last_30_days_usd";
    case PatternSort::occurrences:
      return "occurrences";
    case PatternSort::confidence:
      return "confidence";
    case PatternSort::last_seen:
      return "last_seen";
  }
  return "savings_last_30_days_usd";
}

// The columns of operation_pattern_stats, in the order operation_stats()
// reads them.
#define PATTERND_PATTERN_COLUMNS                                                        \
  "id, pattern_signature, category, tool, target, occurrences, successes, avg_tokens, " \
  "avg_cost_usd, tool_cost_usd, savings_per_run_usd, runs_last_30_days, "               \
  "savings_last_30_days_usd, avg_duration_seconds, confidence, first_seen, last_seen "

#define PATTERND_FAILURE_COLUMNS                                                              \
  "f.id, f.signature, f.error_type, f.example, f.frequency, f.agent_count, f.session_count, " \
  "f.first_seen, f.last_seen"

constexpr const char* k_session_columns =
    "id, session_id, agent_name, first_event, last_event, event_count, error_count, "
    "feedback_outcomes, state_changes, started_at, ended_at, exit_code, state, end_state, "
    "environment, lines_processed, stdout_log_path, stderr_log_path, extraction_config_version, "
    "environment_config_version";

constexpr const char* k_extraction_columns =
    "id, identity, event_id, agent_name, session_id, event_time, event_type, pattern, "
    "matched_value, original_line, line_number, risk_level, auto_confirmable, metadata, "
    "code_digest, code_line_start, code_line_end, code_parseable";

constexpr const char* k_state_change_columns =
    "SELECT id, session_id, agent_name, state, event_time, exit_code, lines_processed, "
    "environment, metadata, stdout_log_path, stderr_log_path, extraction_config_version, "
    "environment_config_version FROM session_state_changes WHERE session_id = :session ";

constexpr const char* k_prompt_columns =
    "p.id, p.identity, p.prompt_id, p.agent_name, p.session_id, p.created_at, p.original_idea, "
    "p.context, p.improved_prompt, p.role, p.directive, p.framework, p.guardrails, p.backend, "
    "p.model_version, p.confidence, p.reasoning, p.latency_ms";

constexpr const char* k_query = "to_tsquery('patternd_search', :q)";

}  // namespace

std::string patterns(const PatternQuery& q) {
  const std::string key = pattern_key(q.sort);
  std::string where = "WHERE true";
  add(where, q.category.has_value(), "category = :category");
  add(where, q.tool.has_value(), "tool = :tool");
  add(where, q.target.has_value(), "target = :target");
  add(where, q.min_confidence.has_value(), "confidence >= :min_confidence");
  add(where, q.min_occurrences.has_value(), "occurrences >= :min_occurrences");
  add(where, q.page.after.has_value(), "(sort_key < :key OR (sort_key = :key AND id < :id))");
  return "SELECT " PATTERND_PATTERN_COLUMNS "FROM (SELECT o.id AS id, s.*, s." + key +
         " AS sort_key FROM operation_pattern_stats s JOIN operation_patterns o "
         "ON o.pattern_signature = s.pattern_signature) AS p " +
         where + " ORDER BY sort_key DESC, id DESC LIMIT :limit";
}

const char* const k_pattern =
    "SELECT " PATTERND_PATTERN_COLUMNS
    "FROM (SELECT o.id AS id, s.* FROM operation_pattern_stats s JOIN operation_patterns o "
    "ON o.pattern_signature = s.pattern_signature WHERE o.pattern_signature = :signature) AS p";

const char* const k_pattern_days =
    "SELECT day, occurrences FROM operation_pattern_days WHERE pattern_id = :id AND day > :from "
    "ORDER BY day";

std::string failures(const FailureQuery& q) {
  const std::string key = q.sort == FailureSort::frequency ? "f.frequency" : "f.last_seen";
  std::string from = "FROM failure_patterns f";
  if (q.agent)
    from = "FROM failure_pattern_agents a JOIN failure_patterns f ON f.id = a.failure_id";
  std::string where = "WHERE true";
  add(where, q.agent.has_value(), "a.agent_name = :agent");
  add(where, q.since.has_value(), "f.last_seen >= :since");
  add(where, q.until.has_value(), "f.first_seen < :until");
  add(where, q.page.after.has_value(),
      "(" + key + " < :key OR (" + key + " = :key AND f.id < :id))");
  return "SELECT " PATTERND_FAILURE_COLUMNS " " + from + " " + where + " ORDER BY " + key +
         " DESC, f.id DESC LIMIT :limit";
}

const char* const k_failure =
    "SELECT " PATTERND_FAILURE_COLUMNS " FROM failure_patterns f WHERE f.signature = :signature";

std::string extractions(const ExtractionQuery& q) {
  std::string where = "WHERE true";
  add(where, q.agent.has_value(), "agent_name = :agent");
  add(where, q.session.has_value(), "session_id = :session");
  add(where, q.type.has_value(), "event_type = :type");
  // Any of several types, bound as ",a,b," (one statement whatever their number).
  add(where, !q.types.empty(), "strpos(:types::text, ',' || event_type || ',') > 0");
  add(where, q.pattern.has_value(), "pattern = :pattern");
  add(where, q.risk.has_value(), "risk_level = :risk");
  add(where, q.since.has_value(), "event_time >= :since");
  add(where, q.until.has_value(), "event_time < :until");
  const std::string order = q.oldest_first ? "ASC" : "DESC";
  add(where, q.page.after.has_value(),
      q.oldest_first ? "(event_time, id) > (:key::bigint, :id::bigint)"
                     : "(event_time, id) < (:key::bigint, :id::bigint)");
  return std::string("SELECT ") + k_extraction_columns + " FROM extraction_events " + where +
         " ORDER BY event_time " + order + ", id " + order + " LIMIT :limit";
}

std::string sessions(const SessionQuery& q) {
  std::string where = "WHERE true";
  add(where, q.agent.has_value(), "agent_name = :agent");
  if (q.active)
    add(where, true,
        *q.active ? "started_at IS NOT NULL AND ended_at IS NULL"
                  : "NOT (started_at IS NOT NULL AND ended_at IS NULL)");
  add(where, q.since.has_value(), "first_event >= :since");
  add(where, q.until.has_value(), "first_event < :until");
  add(where, q.page.after.has_value(), "(first_event, id) < (:key::bigint, :id::bigint)");
  return std::string("SELECT ") + k_session_columns + " FROM agent_sessions " + where +
         " ORDER BY first_event DESC, id DESC LIMIT :limit";
}

const std::string k_session =
    std::string("SELECT ") + k_session_columns + " FROM agent_sessions WHERE session_id = :session";

const std::string k_session_changes =
    std::string(k_state_change_columns) + "ORDER BY event_time, id LIMIT 1000";

std::string state_changes(const StateChangeQuery& q) {
  return std::string(k_state_change_columns) +
         (q.page.after ? "AND (event_time, id) > (:key::bigint, :id::bigint) " : "") +
         "ORDER BY event_time, id LIMIT :limit";
}

const char* const k_session_stored =
    "SELECT (SELECT count(*) FROM extraction_events WHERE session_id = :session), "
    "(SELECT count(*) FROM session_state_changes WHERE session_id = :session)";

const char* const k_session_types =
    "SELECT event_type, count(*) FROM extraction_events WHERE session_id = :session "
    "GROUP BY event_type ORDER BY event_type COLLATE \"C\"";

const char* const k_code_block =
    "SELECT id, digest, language, content, occurrences, first_seen, last_seen "
    "FROM code_blocks WHERE digest = :digest::bytea";

std::string code_blocks(const CodeBlockQuery& q) {
  std::string where = "WHERE true";
  add(where, q.language.has_value(), "language = :language");
  add(where, q.since.has_value(), "first_seen >= :since");
  add(where, q.page.after.has_value(), "(first_seen, id) < (:key::bigint, :id::bigint)");
  return "SELECT id, digest, language, content, occurrences, first_seen, last_seen "
         "FROM code_blocks " +
         where + " ORDER BY first_seen DESC, id DESC LIMIT :limit";
}

// As read_queries.cpp: agents by name from their totals; "" names no agent.
std::string agents(const Page& page) {
  return std::string(
             "SELECT agent_name FROM (SELECT agent_name FROM agent_workflow_totals UNION "
             "SELECT agent_name FROM agent_event_totals UNION "
             "SELECT agent_name FROM outcome_agent_stats) AS a WHERE agent_name <> ''") +
         (page.after ? " AND agent_name COLLATE \"C\" > :text" : "") +
         " ORDER BY agent_name COLLATE \"C\" LIMIT :limit";
}

const char* const k_agent_sessions =
    "SELECT count(*) FROM agent_sessions WHERE agent_name = :agent";
const char* const k_agent_workflows =
    "SELECT workflows, successes, total_tokens, cost_micros, first_seen, last_seen "
    "FROM agent_workflow_totals WHERE agent_name = :agent";
const char* const k_agent_types =
    "SELECT event_type, events, first_seen, last_seen FROM agent_event_totals "
    "WHERE agent_name = :agent ORDER BY event_type COLLATE \"C\"";
const char* const k_agent_outcomes =
    "SELECT sum(attempts), sum(successes), sum(duration_ms_sum), sum(duration_count), "
    "min(first_seen), max(last_seen), count(*) FROM outcome_agent_stats WHERE agent_name = :agent";
const char* const k_agent_failures =
    "SELECT " PATTERND_FAILURE_COLUMNS
    " FROM failure_pattern_agents a JOIN failure_patterns f ON f.id = a.failure_id "
    "WHERE a.agent_name = :agent ORDER BY f.frequency DESC, f.id DESC LIMIT 5";

std::string timeline_activity(bool minutes, bool agent) {
  const std::string unit = minutes ? "minute" : "hour";
  return "SELECT " + unit + ", sum(workflows), sum(errors), sum(outcomes) FROM activity_" + unit +
         "s WHERE " + unit + " >= :from AND " + unit + " < :to" +
         (agent ? " AND agent_name = :agent" : "") + " GROUP BY 1";
}

std::string timeline_sessions(bool agent) {
  return std::string(
             "SELECT first_event / :bucket::bigint, count(*) FROM agent_sessions "
             "WHERE first_event >= :from AND first_event < :to") +
         (agent ? " AND agent_name = :agent" : "") + " GROUP BY 1";
}

std::string fixes(const FixQuery& q) {
  std::string where = "WHERE true";
  add(where, q.signature.has_value(), "signature = :signature");
  add(where, q.pattern.has_value(), "pattern = :pattern");
  add(where, q.min_confidence.has_value(), "confidence >= :min_confidence");
  add(where, q.page.after.has_value(),
      "(confidence < :key::double precision OR "
      "(confidence = :key::double precision AND id < :id))");
  return "SELECT id, signature, pattern, error_type, attempts, successes, duration_ms_sum, "
         "duration_count, first_seen, last_seen, fix_example, agent_count FROM failure_fixes " +
         where + " ORDER BY confidence DESC, id DESC LIMIT :limit";
}

std::string outcome_stats(const OutcomeStatsQuery& q) {
  std::string where = "WHERE true";
  add(where, q.agent.has_value(), "agent_name = :agent");
  add(where, q.pattern.has_value(), "pattern = :pattern");
  add(where, q.page.after.has_value(), "pattern COLLATE \"C\" > :text");
  return std::string(
             "SELECT pattern, attempts, successes, duration_ms_sum, duration_count, "
             "first_seen, last_seen, ") +
         (q.agent ? "1 FROM outcome_agent_stats " : "agent_count FROM outcome_stats ") + where +
         " ORDER BY pattern COLLATE \"C\" LIMIT :limit";
}

// Newest first; with `q`, ranked among the newest k_search_window matches as
// prompt_reads.cpp ranks them. The rank is ts_rank_cd negated, so that lower
// is better as with bm25; it is computed for the window's rows only (the
// window is chosen by id, from the GIN index), not for every match.
std::string prompts(const PromptQuery& q) {
  std::string where = "WHERE true";
  add(where, q.backend.has_value(), "p.backend = :backend");
  add(where, q.model.has_value(), "p.model_version = :model");
  add(where, q.min_confidence.has_value(), "p.confidence >= :min_confidence");
  add(where, q.since.has_value(), "p.created_at >= :since");
  if (q.q) {
    add(where, true, std::string("p.search @@ ") + k_query);
    const std::string keyset = q.page.after ? " WHERE (r.rank > :key::double precision OR "
                                              "(r.rank = :key::double precision AND r.id > :id))"
                                            : "";
    return "WITH c AS (SELECT p.id FROM prompt_history p " + where + " ORDER BY p.id DESC LIMIT " +
           std::to_string(k_search_window) + "), r AS (SELECT p.id, (-ts_rank_cd(p.search, " +
           k_query +
           "))::double precision AS rank FROM c JOIN prompt_history p ON p.id = c.id) SELECT " +
           k_prompt_columns + ", r.rank FROM r JOIN prompt_history p ON p.id = r.id" + keyset +
           " ORDER BY r.rank, r.id LIMIT :limit";
  }
  add(where, q.page.after.has_value(), "(p.created_at, p.id) < (:key::bigint, :id::bigint)");
  return std::string("SELECT ") + k_prompt_columns + ", NULL FROM prompt_history p " + where +
         " ORDER BY p.created_at DESC, p.id DESC LIMIT :limit";
}

// A query of no words (only punctuation): numnode 0. FTS5 calls that a
// syntax error; so does the reader (InvalidQuery).
const char* const k_query_words = "SELECT numnode(to_tsquery('patternd_search', :q))";

const std::string k_prompt_by_id = std::string("SELECT ") + k_prompt_columns +
                                   ", NULL FROM prompt_history p WHERE p.prompt_id = :id";
const std::string k_prompt_by_identity =
    std::string("SELECT ") + k_prompt_columns +
    ", NULL FROM prompt_history p WHERE p.identity = :identity::bytea";
const char* const k_prompt_backends =
    "SELECT backend, prompts, confidence_micros, confidence_count, latency_ms_sum, latency_count, "
    "first_seen, last_seen FROM prompt_backend_stats ORDER BY backend COLLATE \"C\"";
const char* const k_prompt_backend =
    "SELECT backend, prompts, confidence_micros, confidence_count, latency_ms_sum, latency_count, "
    "first_seen, last_seen FROM prompt_backend_stats WHERE backend = :backend";
// A backend's latency p50 and p95, nearest rank (the smallest latency with at
// least that share of the records at or below it), in one walk of its
// distinct latencies (schema/011). The rank is computed in double precision
// as prompt_reads.cpp computes it, so both give the same latency.
const char* const k_latency_quantiles =
    "SELECT min(latency_ms) FILTER (WHERE seen >= ceil(0.5::double precision * total)), "
    "min(latency_ms) FILTER (WHERE seen >= ceil(0.95::double precision * total)) "
    "FROM (SELECT latency_ms, sum(prompts) OVER (ORDER BY latency_ms) AS seen, "
    "sum(prompts) OVER () AS total FROM prompt_latency_counts WHERE backend = :backend) AS counts";

const char* const k_health_tables[12] = {
    "workflow_history", "operation_patterns",    "pattern_occurrences", "extraction_events",
    "code_blocks",      "agent_sessions",        "failure_patterns",    "outcomes",
    "failure_fixes",    "session_state_changes", "prompt_history",      "dead_letters"};

// Exact counts, as SQLite's health gives them, in one statement.
const std::string k_health = [] {
  std::string sql = "SELECT pg_database_size(current_database())";
  for (const char* table : k_health_tables)
    sql += std::string(", (SELECT count(*) FROM ") + table + ")";
  return sql;
}();

}  // namespace patternd::store::pg::sql
