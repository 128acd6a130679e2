#include "store/read_queries.hpp"

#include "store/prompt_reads.hpp"

namespace patternd::store::sql {
namespace {

// Appends " AND <condition>" when `present`.
void add(std::string& where, bool present, const char* condition) {
  if (present) where += std::string(" AND ") + condition;
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

constexpr const char* k_pattern_columns =
    "id, pattern_signature, category, tool, target, occurrences, successes, avg_tokens, "
    "avg_cost_usd, tool_cost_usd, savings_per_run_usd, runs_last_30_days, "
    "savings_last_30_days_usd, avg_duration_seconds, confidence, first_seen, last_seen";

constexpr const char* k_failure_columns =
    "f.id, f.signature, f.error_type, f.example, f.frequency, f.agent_count, f.session_count, "
    "f.first_seen, f.last_seen";

constexpr const char* k_session_columns =
    "id, session_id, agent_name, first_event, last_event, event_count, error_count, "
    "feedback_outcomes, state_changes, started_at, ended_at, exit_code, state, end_state, "
    "environment, lines_processed, stdout_log_path, stderr_log_path, extraction_config_version, "
    "environment_config_version";

constexpr const char* k_extraction_columns =
    "id, identity, event_id, agent_name, session_id, event_time, event_type, pattern, "
    "matched_value, original_line, line_number, risk_level, auto_confirmable, metadata, "
    "code_digest, code_line_start, code_line_end, code_parseable";

}  // namespace

std::string patterns(const PatternQuery& q) {
  const std::string key = pattern_key(q.sort);
  std::string where = "WHERE 1";
  add(where, q.category.has_value(), "category = :category");
  add(where, q.tool.has_value(), "tool = :tool");
  add(where, q.target.has_value(), "target = :target");
  add(where, q.min_confidence.has_value(), "confidence >= :min_confidence");
  add(where, q.min_occurrences.has_value(), "occurrences >= :min_occurrences");
  add(where, q.page.after.has_value(), "(sort_key < :key OR (sort_key = :key AND id < :id))");
  // operation_patterns is an aggregate table (one row per signature the
  // rules can produce): read whole, it stays small whatever the traffic.
  return std::string("SELECT ") + k_pattern_columns + " FROM (SELECT o.id AS id, s.*, s." + key +
         " AS sort_key FROM operation_pattern_stats s JOIN operation_patterns o "
         "ON o.pattern_signature = s.pattern_signature) " +
         where + " ORDER BY sort_key DESC, id DESC LIMIT :limit";
}

const char* const k_pattern =
    "SELECT id, pattern_signature, category, tool, target, occurrences, successes, avg_tokens, "
    "avg_cost_usd, tool_cost_usd, savings_per_run_usd, runs_last_30_days, "
    "savings_last_30_days_usd, avg_duration_seconds, confidence, first_seen, last_seen "
    "FROM (SELECT o.id AS id, s.* FROM operation_pattern_stats s JOIN operation_patterns o "
    "ON o.pattern_signature = s.pattern_signature WHERE o.pattern_signature = :signature)";

const char* const k_pattern_days =
    "SELECT day, occurrences FROM operation_pattern_days WHERE pattern_id = :id AND day > :from "
    "ORDER BY day";

std::string failures(const FailureQuery& q) {
  const std::string key = q.sort == FailureSort::frequency ? "f.frequency" : "f.last_seen";
  std::string from = "FROM failure_patterns f";
  if (q.agent)
    from = "FROM failure_pattern_agents a JOIN failure_patterns f ON f.id = a.failure_id";
  std::string where = "WHERE 1";
  add(where, q.agent.has_value(), "a.agent_name = :agent");
  add(where, q.since.has_value(), "f.last_seen >= :since");
  add(where, q.until.has_value(), "f.first_seen < :until");
  if (q.page.after) where += " AND (" + key + " < :key OR (" + key + " = :key AND f.id < :id))";
  return std::string("SELECT ") + k_failure_columns + ", " + key + " " + from + " " + where +
         " ORDER BY " + key + " DESC, f.id DESC LIMIT :limit";
}

const char* const k_failure =
    "SELECT f.id, f.signature, f.error_type, f.example, f.frequency, f.agent_count, "
    "f.session_count, f.first_seen, f.last_seen FROM failure_patterns f "
    "WHERE f.signature = :signature";

std::string extractions(const ExtractionQuery& q) {
  std::string where = "WHERE 1";
  add(where, q.agent.has_value(), "agent_name = :agent");
  add(where, q.session.has_value(), "session_id = :session");
  add(where, q.type.has_value(), "event_type = :type");
  // Any of several types: one statement whatever their number (bound as
  // ",a,b,"), filtering the rows an index range already chose.
  add(where, !q.types.empty(), "instr(:types, ',' || event_type || ',') > 0");
  add(where, q.pattern.has_value(), "pattern = :pattern");
  add(where, q.risk.has_value(), "risk_level = :risk");
  add(where, q.since.has_value(), "event_time >= :since");
  add(where, q.until.has_value(), "event_time < :until");
  const char* order = q.oldest_first ? "ASC" : "DESC";
  add(where, q.page.after.has_value(),
      q.oldest_first ? "(event_time, id) > (:key, :id)" : "(event_time, id) < (:key, :id)");
  return std::string("SELECT ") + k_extraction_columns + " FROM extraction_events " + where +
         " ORDER BY event_time " + order + ", id " + order + " LIMIT :limit";
}

std::string sessions(const SessionQuery& q) {
  std::string where = "WHERE 1";
  add(where, q.agent.has_value(), "agent_name = :agent");
  if (q.active)
    add(where, true,
        *q.active ? "started_at IS NOT NULL AND ended_at IS NULL"
                  : "NOT (started_at IS NOT NULL AND ended_at IS NULL)");
  add(where, q.since.has_value(), "first_event >= :since");
  add(where, q.until.has_value(), "first_event < :until");
  add(where, q.page.after.has_value(), "(first_event, id) < (:key, :id)");
  return std::string("SELECT ") + k_session_columns + " FROM agent_sessions " + where +
         " ORDER BY first_event DESC, id DESC LIMIT :limit";
}

const std::string k_session =
    std::string("SELECT ") + k_session_columns + " FROM agent_sessions WHERE session_id = :session";

#define PATTERND_STATE_CHANGE_COLUMNS                                                    \
  "SELECT id, session_id, agent_name, state, event_time, exit_code, lines_processed, "   \
  "environment, metadata, stdout_log_path, stderr_log_path, extraction_config_version, " \
  "environment_config_version FROM session_state_changes WHERE session_id = :session "

const char* const k_session_changes =
    PATTERND_STATE_CHANGE_COLUMNS "ORDER BY event_time, id LIMIT 1000";

std::string state_changes(const StateChangeQuery& q) {
  return std::string(PATTERND_STATE_CHANGE_COLUMNS) +
         (q.page.after ? "AND (event_time, id) > (:key, :id) " : "") +
         "ORDER BY event_time, id LIMIT :limit";
}

// Counted on the (session_id, event_time) indexes alone: no row is read.
const char* const k_session_stored =
    "SELECT (SELECT count(*) FROM extraction_events WHERE session_id = :session), "
    "(SELECT count(*) FROM session_state_changes WHERE session_id = :session)";

const char* const k_code_block =
    "SELECT id, digest, language, content, occurrences, first_seen, last_seen "
    "FROM code_blocks WHERE digest = :digest";

const char* const k_session_types =
    "SELECT event_type, count(*) FROM extraction_events WHERE session_id = :session "
    "GROUP BY event_type ORDER BY event_type";

std::string code_blocks(const CodeBlockQuery& q) {
  std::string where = "WHERE 1";
  add(where, q.language.has_value(), "language = :language");
  add(where, q.since.has_value(), "first_seen >= :since");
  add(where, q.page.after.has_value(), "(first_seen, id) < (:key, :id)");
  return "SELECT id, digest, language, content, occurrences, first_seen, last_seen "
         "FROM code_blocks " +
         where + " ORDER BY first_seen DESC, id DESC LIMIT :limit";
}

// Agents by name, from their totals (one row per agent, or per agent and
// event type: small whatever the traffic). Workflows sent without an
// agent_name are counted under "", which names no agent to list.
std::string agents(const Page& page) {
  return std::string(
             "SELECT agent_name FROM (SELECT agent_name FROM agent_workflow_totals UNION "
             "SELECT agent_name FROM agent_event_totals UNION "
             "SELECT agent_name FROM outcome_agent_stats) WHERE agent_name <> ''") +
         (page.after ? " AND agent_name > :text" : "") + " ORDER BY agent_name LIMIT :limit";
}

const char* const k_agent_sessions =
    "SELECT count(*) FROM agent_sessions WHERE agent_name = :agent";
const char* const k_agent_workflows =
    "SELECT workflows, successes, total_tokens, cost_micros, first_seen, last_seen "
    "FROM agent_workflow_totals WHERE agent_name = :agent";
const char* const k_agent_types =
    "SELECT event_type, events, first_seen, last_seen FROM agent_event_totals "
    "WHERE agent_name = :agent ORDER BY event_type";
const char* const k_agent_outcomes =
    "SELECT sum(attempts), sum(successes), sum(duration_ms_sum), sum(duration_count), "
    "min(first_seen), max(last_seen), count(*) FROM outcome_agent_stats WHERE agent_name = :agent";
const char* const k_agent_failures =
    "SELECT f.id, f.signature, f.error_type, f.example, f.frequency, f.agent_count, "
    "f.session_count, f.first_seen, f.last_seen FROM failure_pattern_agents a "
    "JOIN failure_patterns f ON f.id = a.failure_id WHERE a.agent_name = :agent "
    "ORDER BY f.frequency DESC, f.id DESC LIMIT 5";

// Workflows and errors per minute or hour (schema/007): a few rows per
// unit of time, whatever the traffic.
std::string timeline_activity(bool minutes, bool agent) {
  static const char* const k_statements[2][2] = {
      {"SELECT hour, sum(workflows), sum(errors), sum(outcomes) FROM activity_hours "
       "WHERE hour >= :from AND hour < :to GROUP BY 1",
       "SELECT hour, sum(workflows), sum(errors), sum(outcomes) FROM activity_hours "
       "WHERE hour >= :from AND hour < :to AND agent_name = :agent GROUP BY 1"},
      {"SELECT minute, sum(workflows), sum(errors), sum(outcomes) FROM activity_minutes "
       "WHERE minute >= :from AND minute < :to GROUP BY 1",
       "SELECT minute, sum(workflows), sum(errors), sum(outcomes) FROM activity_minutes "
       "WHERE minute >= :from AND minute < :to AND agent_name = :agent GROUP BY 1"}};
  return k_statements[minutes ? 1 : 0][agent ? 1 : 0];
}

std::string timeline_sessions(bool agent) {
  return std::string(
             "SELECT first_event / :bucket, count(*) FROM agent_sessions "
             "WHERE first_event >= :from AND first_event < :to") +
         (agent ? " AND agent_name = :agent" : "") + " GROUP BY 1";
}

// failure_fixes and outcome_stats are aggregate tables (a row per signature
// and approach, per approach): small whatever the traffic, and indexed for
// the orders they are read in (schema/008).
std::string fixes(const FixQuery& q) {
  std::string where = "WHERE 1";
  add(where, q.signature.has_value(), "signature = :signature");
  add(where, q.pattern.has_value(), "pattern = :pattern");
  add(where, q.min_confidence.has_value(), "confidence >= :min_confidence");
  add(where, q.page.after.has_value(), "(confidence < :key OR (confidence = :key AND id < :id))");
  return "SELECT id, signature, pattern, error_type, attempts, successes, duration_ms_sum, "
         "duration_count, first_seen, last_seen, fix_example, agent_count FROM failure_fixes " +
         where + " ORDER BY confidence DESC, id DESC LIMIT :limit";
}

std::string outcome_stats(const OutcomeStatsQuery& q) {
  std::string where = "WHERE 1";
  add(where, q.agent.has_value(), "agent_name = :agent");
  add(where, q.pattern.has_value(), "pattern = :pattern");
  add(where, q.page.after.has_value(), "pattern > :text");
  return std::string(
             "SELECT pattern, attempts, successes, duration_ms_sum, duration_count, "
             "first_seen, last_seen, ") +
         (q.agent ? "1 FROM outcome_agent_stats " : "agent_count FROM outcome_stats ") + where +
         " ORDER BY pattern LIMIT :limit";
}

std::vector<std::string> every_read_statement() {
  std::vector<std::string> out = {
      k_session_changes, k_pattern,        k_pattern_days,    k_failure,     k_session,
      k_session_types,   k_agent_sessions, k_agent_workflows, k_agent_types, k_agent_failures,
      k_agent_outcomes,  k_code_block,     k_session_stored};
  const std::optional<std::string> some = std::string("x");
  const std::optional<Position> after = Position{};
  for (int bits = 0; bits < 64; ++bits) {
    PatternQuery p;
    if (bits & 1) p.category = some;
    if (bits & 2) p.tool = some;
    if (bits & 4) p.target = some;
    if (bits & 8) p.min_confidence = 0.5;
    if (bits & 16) p.min_occurrences = 1;
    if (bits & 32) p.page.after = after;
    for (const auto sort : {PatternSort::savings, PatternSort::occurrences, PatternSort::confidence,
                            PatternSort::last_seen}) {
      p.sort = sort;
      out.push_back(patterns(p));
    }
  }
  for (int bits = 0; bits < 16; ++bits) {
    FailureQuery f;
    if (bits & 1) f.agent = some;
    if (bits & 2) f.since = 0;
    if (bits & 4) f.until = 0;
    if (bits & 8) f.page.after = after;
    for (const auto sort : {FailureSort::frequency, FailureSort::last_seen}) {
      f.sort = sort;
      out.push_back(failures(f));
    }
  }
  for (int bits = 0; bits < 1024; ++bits) {
    ExtractionQuery e;
    if (bits & 512) e.types = {"x", "y"};
    if (bits & 1) e.agent = some;
    if (bits & 2) e.session = some;
    if (bits & 4) e.type = some;
    if (bits & 8) e.pattern = some;
    if (bits & 16) e.risk = some;
    if (bits & 32) e.since = 0;
    if (bits & 64) e.until = 0;
    if (bits & 128) e.page.after = after;
    e.oldest_first = (bits & 256) != 0;
    out.push_back(extractions(e));
  }
  for (int bits = 0; bits < 48; ++bits) {
    SessionQuery s;
    if (bits & 1) s.agent = some;
    if (bits & 2) s.since = 0;
    if (bits & 4) s.until = 0;
    if (bits & 8) s.page.after = after;
    if (bits >= 16) s.active = bits >= 32;
    out.push_back(sessions(s));
  }
  out.push_back(state_changes(StateChangeQuery{}));
  out.push_back(state_changes(StateChangeQuery{"x", Page{50, after}}));
  for (int bits = 0; bits < 8; ++bits) {
    CodeBlockQuery c;
    if (bits & 1) c.language = some;
    if (bits & 2) c.since = 0;
    if (bits & 4) c.page.after = after;
    out.push_back(code_blocks(c));
  }
  for (int bits = 0; bits < 16; ++bits) {
    FixQuery f;
    if (bits & 1) f.signature = some;
    if (bits & 2) f.pattern = some;
    if (bits & 4) f.min_confidence = 0.5;
    if (bits & 8) f.page.after = after;
    out.push_back(fixes(f));
  }
  for (int bits = 0; bits < 8; ++bits) {
    OutcomeStatsQuery o;
    if (bits & 1) o.agent = some;
    if (bits & 2) o.pattern = some;
    if (bits & 4) o.page.after = after;
    out.push_back(outcome_stats(o));
  }
  out.push_back(agents(Page{}));
  out.push_back(agents(Page{50, after}));
  for (const bool agent : {false, true}) {
    out.push_back(timeline_activity(true, agent));
    out.push_back(timeline_activity(false, agent));
    out.push_back(timeline_sessions(agent));
  }
  for (auto& statement : prompt_statements()) out.push_back(std::move(statement));
  return out;
}

}  // namespace patternd::store::sql
