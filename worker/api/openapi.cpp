#include "api/openapi.hpp"

#include "api/json.hpp"
#include "core/types.hpp"

namespace patternd::api {
namespace {

Json ref(const std::string& name) { return Json{{"$ref", "#/components/schemas/" + name}}; }
Json type(const char* t) { return Json{{"type", t}}; }
Json nullable(const char* t) { return Json{{"type", Json::array({t, "null"})}}; }
Json time() { return Json{{"type", "string"}, {"format", "date-time"}}; }
Json nullable_time() {
  return Json{{"type", Json::array({"string", "null"})}, {"format", "date-time"}};
}
Json counts() { return Json{{"type", "object"}, {"additionalProperties", type("integer")}}; }

// An object whose every property is required and no other is allowed.
Json object(Json properties) {
  Json required = Json::array();
  for (const auto& [name, _] : properties.items()) required.push_back(name);
  return Json{{"type", "object"},
              {"properties", std::move(properties)},
              {"required", std::move(required)},
              {"additionalProperties", false}};
}

Json page_of(const std::string& row) {
  return object(Json{{"data", Json{{"type", "array"}, {"items", ref(row)}}},
                     {"next_cursor", nullable("string")}});
}

Json pattern_properties() {
  return Json{{"signature", type("string")},
              {"category", type("string")},
              {"tool", type("string")},
              {"target", type("string")},
              {"occurrences", type("integer")},
              {"successes", type("integer")},
              {"success_rate", type("number")},
              {"confidence", type("number")},
              {"avg_tokens", type("number")},
              {"avg_cost_usd", type("number")},
              {"tool_cost_usd", type("number")},
              {"savings_per_run_usd", type("number")},
              {"runs_last_30_days", type("integer")},
              {"savings_last_30_days_usd", type("number")},
              {"avg_duration_seconds", type("number")},
              {"first_seen", time()},
              {"last_seen", time()}};
}

Json schemas() {
  Json s;
  s["Error"] = object(Json{{"error", type("string")}});
  s["Pattern"] = object(pattern_properties());
  Json detail = pattern_properties();
  detail["runs_per_day"] =
      Json{{"type", "array"},
           {"items", object(Json{{"day", Json{{"type", "string"}, {"format", "date"}}},
                                 {"runs", type("integer")}})}};
  s["PatternDetail"] = object(detail);
  const Json failure{{"signature", type("string")},  {"error_type", type("string")},
                     {"frequency", type("integer")}, {"first_seen", time()},
                     {"last_seen", time()},          {"agents", type("integer")},
                     {"sessions", type("integer")},  {"example", type("string")}};
  s["Failure"] = object(failure);
  const Json figures{{"attempts", type("integer")},
                     {"successes", type("integer")},
                     {"success_rate", type("number")},
                     {"confidence", type("number")},
                     {"mean_duration_ms", nullable("number")},
                     {"first_seen", time()},
                     {"last_seen", time()}};
  Json lookup_fix = figures;  // a lookup's fixes: the signature is the lookup's
  lookup_fix["pattern"] = type("string");
  lookup_fix["fix_example"] = nullable("string");
  lookup_fix["agents"] = type("integer");
  s["LookupFix"] = object(lookup_fix);
  Json fix = lookup_fix;
  fix["signature"] = type("string");
  fix["error_type"] = type("string");
  s["Fix"] = object(fix);
  Json stats_row = figures;
  stats_row["pattern"] = type("string");
  stats_row["agents"] = type("integer");
  s["OutcomeStats"] = object(stats_row);
  s["Lookup"] = object(Json{{"signature", type("string")},
                            {"seen", type("boolean")},
                            {"error_type", type("string")},
                            {"frequency", type("integer")},
                            {"first_seen", nullable_time()},
                            {"last_seen", nullable_time()},
                            {"agents", type("integer")},
                            {"sessions", type("integer")},
                            {"example", nullable("string")},
                            {"fixes", Json{{"type", "array"}, {"items", ref("LookupFix")}}}});
  s["Extraction"] = object(Json{
      {"identity", type("string")},
      {"event_id", nullable("string")},
      {"agent", type("string")},
      {"session_id", type("string")},
      {"time", time()},
      {"type", type("string")},
      {"pattern", nullable("string")},
      {"matched_value", nullable("string")},
      {"original_line", nullable("string")},
      {"line_number", nullable("integer")},
      {"risk_level", Json{{"enum", Json::array({"low", "medium", "high", nullptr})}}},
      {"auto_confirmable", nullable("boolean")},
      {"metadata", Json::object()},
      {"code", Json{{"oneOf", Json::array({type("null"),
                                           object(Json{{"digest", type("string")},
                                                       {"line_start", nullable("integer")},
                                                       {"line_end", nullable("integer")},
                                                       {"parseable", nullable("boolean")}})})}}}});
  const Json session{
      {"session_id", type("string")},
      {"agent", type("string")},
      {"first_event", time()},
      {"last_event", time()},
      {"event_count", type("integer")},
      {"error_count", type("integer")},
      {"feedback_outcomes", type("integer")},
      {"active", type("boolean")},
      {"state", Json{{"enum", Json::array({"started", "running", "paused", "completed", "failed",
                                           "killed", nullptr})}}},
      {"started_at", nullable_time()},
      {"ended_at", nullable_time()},
      {"exit_code", nullable("integer")},
      {"environment", nullable("string")},
      {"lines_processed", nullable("integer")},
      {"state_change_count", type("integer")}};
  s["Session"] = object(session);
  Json session_detail = session;
  for (const char* text : {"stdout_log_path", "stderr_log_path", "extraction_config_version",
                           "environment_config_version"})
    session_detail[text] = nullable("string");
  Json change{{"state", type("string")},
              {"time", time()},
              {"exit_code", nullable("integer")},
              {"lines_processed", nullable("integer")},
              {"environment", nullable("string")}};
  for (const char* text : {"stdout_log_path", "stderr_log_path", "extraction_config_version",
                           "environment_config_version"})
    change[text] = nullable("string");
  change["metadata"] = Json::object();
  s["StateChange"] = object(change);
  session_detail["state_changes"] = Json{{"type", "array"}, {"items", ref("StateChange")}};
  session_detail["events_by_type"] = counts();
  s["SessionDetail"] = object(session_detail);
  s["CodeBlock"] = object(Json{{"digest", type("string")},
                               {"language", type("string")},
                               {"first_seen", time()},
                               {"last_seen", time()},
                               {"times_seen", type("integer")},
                               {"content", type("string")}});
  const Json agent{{"agent", type("string")},      {"sessions", type("integer")},
                   {"workflows", type("integer")}, {"extractions", type("integer")},
                   {"outcomes", type("integer")},  {"first_seen", nullable_time()},
                   {"last_seen", nullable_time()}};
  s["Agent"] = object(agent);
  Json stats = agent;
  stats["workflow_successes"] = type("integer");
  stats["workflow_success_rate"] = nullable("number");
  stats["total_tokens"] = type("integer");
  stats["cost_usd"] = type("number");
  stats["extractions_by_type"] = counts();
  stats["outcome_successes"] = type("integer");
  stats["outcome_success_rate"] = nullable("number");
  stats["top_failures"] = Json{{"type", "array"}, {"items", ref("Failure")}};
  s["AgentStats"] = object(stats);
  s["Timeline"] =
      object(Json{{"bucket", Json{{"enum", Json::array({"minute", "hour", "day"})}}},
                  {"from", time()},
                  {"to", time()},
                  {"data", Json{{"type", "array"},
                                {"items", object(Json{{"start", time()},
                                                      {"workflows", type("integer")},
                                                      {"errors", type("integer")},
                                                      {"outcomes", type("integer")},
                                                      {"sessions_started", type("integer")}})}}}});
  s["Health"] = object(Json{{"status", Json{{"enum", Json::array({"ok"})}}},
                            {"backend", type("string")},
                            // the file, or the URI with its password masked
                            {"database", type("string")},
                            {"schema_version", type("integer")},
                            {"rows", counts()},
                            {"database_size_bytes", type("integer")}});
  Json prompt{{"id", type("string")},
              {"prompt_id", nullable("string")},
              {"identity", type("string")},
              {"time", time()},
              {"agent", nullable("string")},
              {"session_id", nullable("string")},
              {"backend", type("string")},
              {"model_version", nullable("string")},
              {"confidence", nullable("number")},
              {"latency_ms", nullable("integer")}};
  for (const char* text : {"original_idea", "context", "improved_prompt", "role", "directive",
                           "framework", "guardrails"})
    prompt[text] = type("string");
  prompt["reasoning"] = nullable("string");
  s["Prompt"] = object(prompt);
  prompt["relevance"] = type("number");  // bm25, higher is better: in a search
  s["PromptMatch"] = object(prompt);
  s["PromptPage"] = object(Json{
      {"data", Json{{"type", "array"},
                    {"items", Json{{"oneOf", Json::array({ref("Prompt"), ref("PromptMatch")})}}}}},
      {"next_cursor", nullable("string")}});
  s["PromptStats"] =
      object(Json{{"data", Json{{"type", "array"},
                                {"items", object(Json{{"backend", type("string")},
                                                      {"prompts", type("integer")},
                                                      {"mean_confidence", nullable("number")},
                                                      {"mean_latency_ms", nullable("number")},
                                                      {"latency_p50_ms", nullable("integer")},
                                                      {"latency_p95_ms", nullable("integer")},
                                                      {"first_seen", time()},
                                                      {"last_seen", time()}})}}}});
  // A replay's entries: one per SSE event (its `data`) or NDJSON line.
  auto kind = [](const char* k) { return Json{{"enum", Json::array({k})}}; };
  s["ReplayEntry"] = Json{
      {"oneOf", Json::array({object(Json{{"kind", kind("notice")},
                                         {"reason", Json{{"enum", Json::array({"retention"})}}},
                                         {"message", type("string")},
                                         {"events_recorded", type("integer")},
                                         {"events_stored", type("integer")},
                                         {"state_changes_recorded", type("integer")},
                                         {"state_changes_stored", type("integer")}}),
                             object(Json{{"kind", kind("extraction")},
                                         {"offset_ms", type("integer")},
                                         {"extraction", ref("Extraction")}}),
                             object(Json{{"kind", kind("state_change")},
                                         {"offset_ms", type("integer")},
                                         {"state_change", ref("StateChange")}}),
                             object(Json{{"kind", kind("end")},
                                         {"extractions", type("integer")},
                                         {"state_changes", type("integer")},
                                         {"span_ms", type("integer")}})})}};
  for (const char* page :
       {"Pattern", "Failure", "Extraction", "Session", "CodeBlock", "Agent", "Fix", "OutcomeStats"})
    s[std::string(page) + "Page"] = page_of(page);
  return s;
}

Json parameter(const char* name, const char* in, Json schema, const char* description,
               bool required = false) {
  return Json{{"name", name},
              {"in", in},
              {"required", required || std::string(in) == "path"},
              {"description", description},
              {"schema", std::move(schema)}};
}

Json time_filter(const char* name, const char* description) {
  return parameter(name, "query", time(), description);
}

Json page_parameters(Json list) {
  list.push_back(parameter("limit", "query",
                           Json{{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}},
                           "rows per page (default 50)"));
  list.push_back(
      parameter("cursor", "query", type("string"), "next_cursor of the previous page, unchanged"));
  return list;
}

Json get(const char* summary, Json parameters, const std::string& schema) {
  Json responses;
  responses["200"] =
      Json{{"description", "OK"}, {"content", {{"application/json", {{"schema", ref(schema)}}}}}};
  for (const char* code : {"400", "401", "404", "405", "413", "500", "503"})
    responses[code] = Json{{"description", code},
                           {"content", {{"application/json", {{"schema", ref("Error")}}}}}};
  return Json{{"get", Json{{"summary", summary},
                           {"parameters", std::move(parameters)},
                           {"responses", std::move(responses)}}}};
}

Json text(const char* name, const char* description) {
  return parameter(name, "query", type("string"), description);
}

Json paths() {
  Json p;
  p["/v1/patterns"] = get(
      "Operation patterns with savings and confidence",
      page_parameters(Json::array(
          {text("category", "e.g. test"), text("tool", "e.g. pytest"),
           text("target", "e.g. backend"),
           parameter("min_confidence", "query",
                     Json{{"type", "number"}, {"minimum", 0}, {"maximum", 1}},
                     "Wilson lower bound"),
           parameter("min_occurrences", "query", Json{{"type", "integer"}, {"minimum", 0}}, ""),
           parameter(
               "sort", "query",
               Json{{"enum", Json::array({"savings", "occurrences", "confidence", "last_seen"})}},
               "highest first (default savings over the last 30 days). These figures grow "
               "while you page: a row whose figure changes meanwhile may move across pages")})),
      "PatternPage");
  p["/v1/patterns/{signature}"] =
      get("One pattern with its runs per day over the last 30 days",
          Json::array({text("signature", "category:tool:target")}), "PatternDetail");
  p["/v1/patterns/{signature}"]["get"]["parameters"][0]["in"] = "path";
  p["/v1/patterns/{signature}"]["get"]["parameters"][0]["required"] = true;
  p["/v1/failures"] =
      get("Failure signatures",
          page_parameters(Json::array(
              {text("agent", "signatures this agent has hit"),
               time_filter("since", "last seen (by any agent) at or after"),
               time_filter("until", "first seen (by any agent) before"),
               parameter("sort", "query", Json{{"enum", Json::array({"frequency", "last_seen"})}},
                         "highest first; a row whose figure changes while you page may move "
                         "across pages")})),
          "FailurePage");
  p["/v1/failures/lookup"] = get(
      "Have we seen this error? Its signature, history and the fixes that worked",
      Json::array({parameter("error", "query", type("string"), "the error text", true)}), "Lookup");
  p["/v1/fixes"] = get(
      "What was tried against failure signatures, per approach: best first (Wilson confidence)",
      page_parameters(
          Json::array({text("signature", "a failure signature, as /v1/failures/lookup gives it"),
                       text("pattern", "the approach, e.g. retry_logic"),
                       parameter("min_confidence", "query",
                                 Json{{"type", "number"}, {"minimum", 0}, {"maximum", 1}},
                                 "Wilson lower bound of the success rate")})),
      "FixPage");
  p["/v1/outcomes/stats"] =
      get("Per approach over all outcomes (or one agent's): attempts, success rate, confidence",
          page_parameters(Json::array(
              {text("pattern", "the approach"), text("agent", "only this agent's outcomes")})),
          "OutcomeStatsPage");
  p["/v1/extractions"] = get(
      "Extraction events, newest first",
      page_parameters(Json::array(
          {text("agent", ""), text("session", "session id"), text("type", "e.g. error"),
           text("pattern", "the extraction pattern's name"),
           parameter("risk", "query", Json{{"enum", Json::array({"low", "medium", "high"})}}, ""),
           time_filter("since", "at or after"), time_filter("until", "before")})),
      "ExtractionPage");
  p["/v1/sessions"] = get(
      "Sessions, newest first, with their lifecycle",
      page_parameters(
          Json::array({text("agent", ""),
                       parameter("active", "query", Json{{"enum", Json::array({"true", "false"})}},
                                 "true: started and not ended (completed, failed or killed)"),
                       time_filter("since", "first event at or after"),
                       time_filter("until", "first event before")})),
      "SessionPage");
  p["/v1/sessions/{id}"] =
      get("One session: its lifecycle, its state changes in time order, its events by type",
          Json::array({parameter("id", "path", type("string"), "")}), "SessionDetail");
  p["/v1/sessions/{id}/events"] =
      get("A session's extraction events in time order",
          page_parameters(Json::array({parameter("id", "path", type("string"), ""),
                                       text("type", ""), text("pattern", "")})),
          "ExtractionPage");
  p["/v1/sessions/{id}/replay"] =
      get("A session's events and state changes in event-time order, as Server-Sent Events "
          "(event: the entry's kind, data: the entry) or NDJSON (Accept: application/x-ndjson), "
          "spaced by their original intervals divided by speed, ending with an end entry",
          Json::array({parameter("id", "path", type("string"), ""),
                       parameter("speed", "query", Json{{"type", "number"}, {"minimum", 0}},
                                 "default 1; 0: no pauses"),
                       text("types",
                            "event types to include, comma-separated; lifecycle: the state "
                            "changes (default: all)")}),
          "ReplayEntry");
  {
    auto& ok = p["/v1/sessions/{id}/replay"]["get"]["responses"]["200"]["content"];
    ok = Json{{"text/event-stream", {{"schema", ref("ReplayEntry")}}},
              {"application/x-ndjson", {{"schema", ref("ReplayEntry")}}}};
  }
  p["/v1/code-blocks"] =
      get("Distinct code blocks, newest first",
          page_parameters(
              Json::array({text("language", ""), time_filter("since", "first seen at or after")})),
          "CodeBlockPage");
  p["/v1/agents"] = get("Agents by name", page_parameters(Json::array()), "AgentPage");
  p["/v1/agents/{name}/stats"] =
      get("One agent: sessions, workflows, cost, extractions by type, top failures",
          Json::array({parameter("name", "path", type("string"), "")}), "AgentStats");
  p["/v1/timeline"] =
      get("Workflows, errors and sessions started per time bucket",
          Json::array(
              {text("agent", ""),
               time_filter("from", "default: 24 hours, 60 minutes or 30 days before to"),
               time_filter("to", "default: now"),
               parameter("bucket", "query", Json{{"enum", Json::array({"hour", "minute", "day"})}},
                         "default hour; at most 1000 buckets")}),
          "Timeline");
  p["/v1/prompts"] = get(
      "Improved prompts, newest first; with q, the best full-text matches first",
      page_parameters(Json::array(
          {text("backend", ""), text("model", "model_version"),
           parameter("min_confidence", "query",
                     Json{{"type", "number"}, {"minimum", 0}, {"maximum", 1}}, ""),
           time_filter("since", "at or after"),
           text("q",
                "full-text query over original_idea, context and improved_prompt: words, "
                "\"a phrase\", prefix*, AND, OR, NOT; the newest 5,000 matches, ranked by bm25")})),
      "PromptPage");
  p["/v1/prompts/{id}"] = get("One prompt, by its prompt_id (or its identity when it has none)",
                              Json::array({parameter("id", "path", type("string"), "")}), "Prompt");
  p["/v1/prompts/stats"] =
      get("Per backend: prompts, mean confidence, mean latency, latency p50 and p95",
          Json::array({text("backend", "")}), "PromptStats");
  p["/v1/health"] =
      get("Store health; needs no token (row counts at most 15 s old)", Json::array(), "Health");
  p["/v1/health"]["get"]["security"] = Json::array();
  p["/v1/openapi.json"] = get("This document", Json::array(), "Error");
  p["/v1/openapi.json"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] =
      Json{{"type", "object"}};
  return p;
}

}  // namespace

const std::string& openapi_document() {
  static const std::string k_document =
      Json{{"openapi", "3.1.0"},
           {"info", {{"title", "patternd read API"}, {"version", PATTERND_VERSION}}},
           {"components",
            {{"schemas", schemas()},
             {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
           {"security", Json::array({Json{{"bearer", Json::array()}}})},
           {"paths", paths()}}
          .dump(2) +
      "\n";
  return k_document;
}

}  // namespace patternd::api
