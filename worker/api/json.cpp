#include "api/json.hpp"

#include "core/sha256.hpp"

namespace patternd::api {
namespace {

Json text_or_null(const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); }

// Metadata was a JSON object when it arrived (the decoder stores it as
// text): served as that object, or as the text if it somehow is not JSON.
Json metadata(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  Json parsed = Json::parse(*text, nullptr, false);
  return parsed.is_discarded() ? Json(*text) : parsed;
}

std::string day_text(std::int64_t day) {
  return core::format_rfc3339(day * 86'400'000).substr(0, 10);
}

}  // namespace

std::string compact(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json time_or_null(const std::optional<core::TimestampMs>& t) {
  return t ? Json(core::format_rfc3339(*t)) : Json(nullptr);
}

Json to_json(const store::PatternRow& row) {
  const auto& p = row.stats;
  return Json{{"signature", p.signature},
              {"category", p.category},
              {"tool", p.tool},
              {"target", p.target},
              {"occurrences", p.occurrences},
              {"successes", p.successes},
              {"success_rate", row.success_rate},
              {"confidence", p.confidence},
              {"avg_tokens", p.avg_tokens},
              {"avg_cost_usd", p.avg_cost_usd},
              {"tool_cost_usd", p.tool_cost_usd},
              {"savings_per_run_usd", p.savings_per_run_usd},
              {"runs_last_30_days", p.runs_last_30_days},
              {"savings_last_30_days_usd", p.savings_last_30_days_usd},
              {"avg_duration_seconds", p.avg_duration_seconds},
              {"first_seen", core::format_rfc3339(p.first_seen)},
              {"last_seen", core::format_rfc3339(p.last_seen)}};
}

// Every one of the last 30 UTC days (today included), days without runs
// as 0, so that a chart needs no gap filling.
Json to_json(const store::PatternDetail& detail) {
  Json out = to_json(detail.pattern);
  const std::int64_t today = core::now_ms() / 86'400'000;
  Json days = Json::array();
  auto it = detail.runs_per_day.begin();
  for (std::int64_t day = today - 29; day <= today; ++day) {
    while (it != detail.runs_per_day.end() && it->first < day) ++it;
    const std::int64_t runs = it != detail.runs_per_day.end() && it->first == day ? it->second : 0;
    days.push_back(Json{{"day", day_text(day)}, {"runs", runs}});
  }
  out["runs_per_day"] = std::move(days);
  return out;
}

Json to_json(const store::FailureRow& row) {
  const auto& f = row.stats;
  return Json{{"signature", f.signature},
              {"error_type", f.error_type},
              {"frequency", f.frequency},
              {"first_seen", core::format_rfc3339(f.first_seen)},
              {"last_seen", core::format_rfc3339(f.last_seen)},
              {"agents", f.agent_count},
              {"sessions", f.session_count},
              {"example", f.example}};
}

Json to_json(const store::ExtractionRow& row) {
  Json code = nullptr;
  if (row.code)
    code = Json{{"digest", core::to_hex(row.code->digest)},
                {"line_start", row.code->line_start ? Json(*row.code->line_start) : Json(nullptr)},
                {"line_end", row.code->line_end ? Json(*row.code->line_end) : Json(nullptr)},
                {"parseable", row.code->parseable ? Json(*row.code->parseable) : Json(nullptr)}};
  return Json{
      {"identity", core::to_hex(row.identity)},
      {"event_id", text_or_null(row.event_id)},
      {"agent", row.agent},
      {"session_id", row.session_id},
      {"time", core::format_rfc3339(row.time)},
      {"type", row.type},
      {"pattern", text_or_null(row.pattern)},
      {"matched_value", text_or_null(row.matched_value)},
      {"original_line", text_or_null(row.original_line)},
      {"line_number", row.line_number ? Json(*row.line_number) : Json(nullptr)},
      {"risk_level", text_or_null(row.risk_level)},
      {"auto_confirmable", row.auto_confirmable ? Json(*row.auto_confirmable) : Json(nullptr)},
      {"metadata", metadata(row.metadata)},
      {"code", code}};
}

Json to_json(const store::SessionRow& row) {
  return Json{{"session_id", row.session_id},
              {"agent", row.agent},
              {"first_event", core::format_rfc3339(row.first_event)},
              {"last_event", core::format_rfc3339(row.last_event)},
              {"event_count", row.event_count},
              {"error_count", row.error_count},
              {"feedback_outcomes", row.feedback_outcomes},
              {"active", row.active()},
              {"state", text_or_null(row.end_state ? row.end_state : row.state)},
              {"started_at", time_or_null(row.started_at)},
              {"ended_at", time_or_null(row.ended_at)},
              {"exit_code", row.exit_code ? Json(*row.exit_code) : Json(nullptr)},
              {"environment", text_or_null(row.environment)},
              {"lines_processed", row.lines_processed ? Json(*row.lines_processed) : Json(nullptr)},
              {"state_change_count", row.state_changes}};
}

Json to_json(const store::StateChange& c) {
  return Json{{"state", c.state},
              {"time", core::format_rfc3339(c.time)},
              {"exit_code", c.exit_code ? Json(*c.exit_code) : Json(nullptr)},
              {"lines_processed", c.lines_processed ? Json(*c.lines_processed) : Json(nullptr)},
              {"environment", text_or_null(c.environment)},
              {"stdout_log_path", text_or_null(c.stdout_log_path)},
              {"stderr_log_path", text_or_null(c.stderr_log_path)},
              {"extraction_config_version", text_or_null(c.extraction_config_version)},
              {"environment_config_version", text_or_null(c.environment_config_version)},
              {"metadata", metadata(c.metadata)}};
}

Json to_json(const store::SessionDetail& detail) {
  Json out = to_json(detail.session);
  const auto& s = detail.session;
  out["stdout_log_path"] = text_or_null(s.stdout_log_path);
  out["stderr_log_path"] = text_or_null(s.stderr_log_path);
  out["extraction_config_version"] = text_or_null(s.extraction_config_version);
  out["environment_config_version"] = text_or_null(s.environment_config_version);
  Json changes = Json::array();
  for (const auto& c : detail.state_changes) changes.push_back(to_json(c));
  out["state_changes"] = std::move(changes);
  Json types = Json::object();
  for (const auto& [type, count] : detail.events_by_type) types[type] = count;
  out["events_by_type"] = std::move(types);
  return out;
}

Json to_json(const store::CodeBlockRow& row) {
  return Json{{"digest", core::to_hex(row.digest)},
              {"language", row.language},
              {"first_seen", core::format_rfc3339(row.first_seen)},
              {"last_seen", core::format_rfc3339(row.last_seen)},
              {"times_seen", row.times_seen},
              {"content", row.content}};
}

Json to_json(const store::AgentRow& row) {
  return Json{{"agent", row.agent},
              {"sessions", row.sessions},
              {"workflows", row.workflows},
              {"extractions", row.extractions},
              {"outcomes", row.outcomes},
              {"first_seen", time_or_null(row.first_seen)},
              {"last_seen", time_or_null(row.last_seen)}};
}

Json to_json(const store::AgentStats& stats) {
  Json out = to_json(stats.agent);
  const auto& a = stats.agent;
  out["workflow_successes"] = stats.workflow_successes;
  out["workflow_success_rate"] =
      a.workflows > 0 ? Json(static_cast<double>(stats.workflow_successes) / a.workflows)
                      : Json(nullptr);
  out["total_tokens"] = stats.total_tokens;
  out["cost_usd"] = static_cast<double>(stats.cost_micros) / 1e6;
  Json types = Json::object();
  for (const auto& [type, count] : stats.extractions_by_type) types[type] = count;
  out["extractions_by_type"] = std::move(types);
  out["outcome_successes"] = stats.outcomes.successes;
  out["outcome_success_rate"] =
      stats.outcomes.attempts > 0 ? Json(stats.outcomes.success_rate) : Json(nullptr);
  Json failures = Json::array();
  for (const auto& f : stats.top_failures) failures.push_back(to_json(f));
  out["top_failures"] = std::move(failures);
  return out;
}

Json to_json(const store::TimelineBucket& bucket) {
  return Json{{"start", core::format_rfc3339(bucket.start)},
              {"workflows", bucket.workflows},
              {"errors", bucket.errors},
              {"outcomes", bucket.outcomes},
              {"sessions_started", bucket.sessions_started}};
}

namespace {

Json figures(const store::OutcomeFigures& f) {
  return Json{{"attempts", f.attempts},
              {"successes", f.successes},
              {"success_rate", f.success_rate},
              {"confidence", f.confidence},
              {"mean_duration_ms", f.mean_duration_ms ? Json(*f.mean_duration_ms) : Json(nullptr)},
              {"first_seen", core::format_rfc3339(f.first_seen)},
              {"last_seen", core::format_rfc3339(f.last_seen)}};
}

}  // namespace

Json to_json(const store::FixRow& row) {
  Json out{{"pattern", row.pattern},
           {"fix_example", text_or_null(row.fix_example)},
           {"signature", row.signature},
           {"error_type", row.error_type}};
  out.update(figures(row.figures));
  out["agents"] = row.agent_count;
  return out;
}

Json to_json(const store::OutcomeStatsRow& row) {
  Json out{{"pattern", row.pattern}};
  out.update(figures(row.figures));
  out["agents"] = row.agent_count;
  return out;
}

Json to_json(const store::PromptRow& row) {
  const std::string identity = core::to_hex(row.identity);
  Json out{{"id", row.prompt_id ? *row.prompt_id : identity},
           {"prompt_id", text_or_null(row.prompt_id)},
           {"identity", identity},
           {"time", core::format_rfc3339(row.time)},
           {"agent", text_or_null(row.agent)},
           {"session_id", text_or_null(row.session_id)},
           {"backend", row.backend},
           {"model_version", text_or_null(row.model_version)},
           {"confidence", row.confidence ? Json(*row.confidence) : Json(nullptr)},
           {"latency_ms", row.latency_ms ? Json(*row.latency_ms) : Json(nullptr)},
           {"original_idea", row.original_idea},
           {"context", row.context},
           {"improved_prompt", row.improved_prompt},
           {"role", row.role},
           {"directive", row.directive},
           {"framework", row.framework},
           {"guardrails", row.guardrails},
           {"reasoning", text_or_null(row.reasoning)}};
  if (row.rank) out["relevance"] = -*row.rank;  // bm25 as "higher is better"
  return out;
}

Json to_json(const store::PromptStatsRow& row) {
  auto number = [](const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); };
  auto integer = [](const std::optional<std::int64_t>& v) { return v ? Json(*v) : Json(nullptr); };
  return Json{{"backend", row.backend},
              {"prompts", row.prompts},
              {"mean_confidence", number(row.mean_confidence)},
              {"mean_latency_ms", number(row.mean_latency_ms)},
              {"latency_p50_ms", integer(row.latency_p50_ms)},
              {"latency_p95_ms", integer(row.latency_p95_ms)},
              {"first_seen", core::format_rfc3339(row.first_seen)},
              {"last_seen", core::format_rfc3339(row.last_seen)}};
}

}  // namespace patternd::api
