#include "mcp/tools.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>

#include "api/params.hpp"
#include "core/text.hpp"
#include "detect/failure.hpp"

namespace patternd::mcp {
namespace {

// What the agent reads to decide when to call a tool. Written for a model in
// the middle of a task: when it helps, what to pass, what comes back.
constexpr const char* k_lookup_description =
    "Before you try to fix an error, ask whether this fleet of agents has seen it and what "
    "fixed it. Pass the error as you saw it (the message line, a stack line or two); numbers, "
    "paths, ids and quoted values are normalized away, so the same error raised elsewhere "
    "matches. Returns seen (true/false), its signature, how often and when it was seen, by how "
    "many agents and sessions, an example, and the fixes tried against it (a pattern, an "
    "example, attempts, successes, success_rate and a Wilson lower-bound confidence), best "
    "first: prefer a fix with high confidence over one with a high rate from few attempts.";
constexpr const char* k_fixes_description =
    "The fixes this fleet tried against one failure, best first (by Wilson lower-bound "
    "confidence of their success rate), with attempts, successes and an example. Give either "
    "the error text (normalized as lookup_error does) or a signature that lookup_error or "
    "another tool returned. Use it to page through more fixes than lookup_error shows or to "
    "keep only confident ones (min_confidence).";
constexpr const char* k_patterns_description =
    "The operations agents in this fleet repeat most (signature category:tool:target, e.g. "
    "test:pytest:any), with occurrences, success rate, confidence, mean duration and the "
    "money automating them would save over 30 days. Use it to learn how this codebase is "
    "usually built, tested and deployed, or to find work worth automating. Sorted by savings "
    "unless sort says otherwise; next_cursor pages on.";
constexpr const char* k_session_description =
    "One agent session's history: its lifecycle (state, started/ended, exit code, "
    "environment, lines processed), its state changes in time order and its extracted events "
    "counted by type. Use it to see what happened in a session you or another agent ran.";
constexpr const char* k_prompts_description =
    "Search the prompt improver's history by full text (original idea, context and improved "
    "prompt), ranked by relevance: words, \"a phrase\", prefix*, AND/OR/NOT. Use it to reuse a "
    "well-scored prompt for a task like yours. Returns the prompts with backend, model, "
    "confidence and latency; next_cursor pages on.";
constexpr const char* k_agent_description =
    "Figures for one agent (by agent_name): sessions, workflows, extracted events by type, "
    "outcomes and success rate, cost, and its most frequent failures.";

Json string_arg(const char* description, std::size_t max_length = api::k_max_value_bytes) {
  return Json{{"type", "string"},
              {"minLength", 1},
              {"maxLength", max_length},
              {"description", description}};
}
Json confidence_arg(const char* description) {
  return Json{{"type", "number"}, {"minimum", 0}, {"maximum", 1}, {"description", description}};
}
Json limit_arg() {
  return Json{{"type", "integer"},
              {"minimum", 1},
              {"maximum", api::k_max_limit},
              {"default", 10},
              {"description", "how many to return (default 10)"}};
}
Json cursor_arg() {
  return string_arg("next_cursor of the previous call, for the next page", 4096);
}

Json schema(Json properties, Json required) {
  return Json{{"type", "object"},
              {"properties", std::move(properties)},
              {"required", std::move(required)},
              {"additionalProperties", false}};
}

// An error's text may be a whole stack trace: only its beginning makes the
// signature (cut to 512 bytes once normalized), so a long one is cut rather
// than refused.
constexpr std::size_t k_max_error_bytes = 64 * 1024;

struct Tool {
  const char* name;
  const char* title;
  const char* description;
  Json input_schema;
  std::function<Target(const Json& arguments)> target;
};

// Query parameters in the order given, percent-encoded; numbers as JSON
// writes them (0.5, 20).
class Query {
 public:
  Query& add(const char* name, const Json& value) {
    if (value.is_null()) return *this;
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    m_text += (m_text.empty() ? "" : "&") + std::string(name) + "=" + core::percent_encode(text);
    return *this;
  }
  Query& add_from(const Json& arguments, const char* argument, const char* name = nullptr) {
    return add(name ? name : argument, arguments.value(argument, Json()));
  }
  std::string text() const { return m_text; }

 private:
  std::string m_text;
};

Json limit_of(const Json& arguments) { return arguments.value("limit", Json(10)); }

std::string error_text(const Json& arguments) {
  return core::truncate_utf8(arguments.at("error").get<std::string>(), api::k_max_value_bytes);
}

std::vector<Tool> make_tools() {
  std::vector<Tool> tools;
  tools.push_back(
      {"lookup_error", "Have we seen this error? What fixed it?", k_lookup_description,
       schema(Json{{"error", string_arg("the error text as seen, e.g. \"TypeError: Cannot read "
                                        "properties of undefined (reading 'id')\"",
                                        k_max_error_bytes)}},
              Json::array({"error"})),
       [](const Json& a) {
         return Target{"/v1/failures/lookup", Query().add("error", error_text(a)).text()};
       }});
  Json fixes_schema =
      schema(Json{{"error", string_arg("the error text (or give signature)", k_max_error_bytes)},
                  {"signature", string_arg("a failure signature (or give error)")},
                  {"min_confidence", confidence_arg("only fixes at least this confident (0 to 1)")},
                  {"limit", limit_arg()},
                  {"cursor", cursor_arg()}},
             Json::array());
  fixes_schema["oneOf"] = Json::array(
      {Json{{"required", Json::array({"error"})}}, Json{{"required", Json::array({"signature"})}}});
  tools.push_back({"best_fixes", "Fixes that worked for a failure", k_fixes_description,
                   std::move(fixes_schema), [](const Json& a) {
                     std::string signature;
                     if (a.contains("error")) {
                       signature = detect::normalize_failure(error_text(a));
                       if (signature.empty())
                         throw InvalidArguments(
                             "error: nothing left after normalizing (blank text)");
                     } else {
                       signature = a.at("signature").get<std::string>();
                     }
                     return Target{"/v1/fixes", Query()
                                                    .add("signature", signature)
                                                    .add_from(a, "min_confidence")
                                                    .add("limit", limit_of(a))
                                                    .add_from(a, "cursor")
                                                    .text()};
                   }});
  tools.push_back(
      {"top_patterns", "The operations this fleet repeats most", k_patterns_description,
       schema(Json{{"category",
                    string_arg("only this category: test, build, lint, format, typecheck, deploy, "
                               "migrate, install, or another the rules define")},
                   {"tool", string_arg("only this tool, e.g. pytest, cargo, docker")},
                   {"min_confidence", confidence_arg("only patterns at least this confident")},
                   {"sort", Json{{"type", "string"},
                                 {"enum", {"savings", "occurrences", "confidence", "last_seen"}},
                                 {"default", "savings"},
                                 {"description", "order, highest first (default savings)"}}},
                   {"limit", limit_arg()},
                   {"cursor", cursor_arg()}},
              Json::array()),
       [](const Json& a) {
         return Target{"/v1/patterns", Query()
                                           .add_from(a, "category")
                                           .add_from(a, "tool")
                                           .add_from(a, "min_confidence")
                                           .add("sort", a.value("sort", Json("savings")))
                                           .add("limit", limit_of(a))
                                           .add_from(a, "cursor")
                                           .text()};
       }});
  tools.push_back(
      {"session_history", "One session's lifecycle and events", k_session_description,
       schema(Json{{"session_id", string_arg("the session's id")}}, Json::array({"session_id"})),
       [](const Json& a) {
         return Target{
             "/v1/sessions/" + core::percent_encode(a.at("session_id").get<std::string>()), ""};
       }});
  tools.push_back(
      {"search_prompts", "Search earlier prompts by text", k_prompts_description,
       schema(Json{{"query", string_arg("a full-text query: words, \"a phrase\", prefix*, "
                                        "AND/OR/NOT")},
                   {"backend", string_arg("only prompts improved by this backend")},
                   {"min_confidence", confidence_arg("only prompts scored at least this")},
                   {"limit", limit_arg()},
                   {"cursor", cursor_arg()}},
              Json::array({"query"})),
       [](const Json& a) {
         return Target{"/v1/prompts", Query()
                                          .add_from(a, "query", "q")
                                          .add_from(a, "backend")
                                          .add_from(a, "min_confidence")
                                          .add("limit", limit_of(a))
                                          .add_from(a, "cursor")
                                          .text()};
       }});
  tools.push_back(
      {"agent_stats", "One agent's figures", k_agent_description,
       schema(Json{{"agent", string_arg("the agent's name (agent_name in its messages)")}},
              Json::array({"agent"})),
       [](const Json& a) {
         return Target{
             "/v1/agents/" + core::percent_encode(a.at("agent").get<std::string>()) + "/stats", ""};
       }});
  return tools;
}

const std::vector<Tool>& tools() {
  static const std::vector<Tool> all = make_tools();
  return all;
}

std::size_t code_points(const std::string& text) {
  std::size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// `value` against one property's schema (the subset make_tools uses).
void check_value(const std::string& name, const Json& value, const Json& property) {
  const std::string type = property.at("type");
  if (type == "string") {
    if (!value.is_string()) throw InvalidArguments(name + ": expected a string");
    const auto& text = value.get_ref<const std::string&>();
    if (!core::is_valid_utf8(text)) throw InvalidArguments(name + ": not valid UTF-8");
    const std::size_t length = code_points(text);
    if (length < property.value("minLength", std::size_t{0}))
      throw InvalidArguments(name + ": expected a non-empty string");
    if (length > property.value("maxLength", SIZE_MAX))
      throw InvalidArguments(name + ": longer than " +
                             std::to_string(property.at("maxLength").get<std::size_t>()) +
                             " characters");
    if (property.contains("enum") && std::find(property["enum"].begin(), property["enum"].end(),
                                               value) == property["enum"].end())
      throw InvalidArguments(name + ": expected one of " + property["enum"].dump());
    return;
  }
  const bool integer = type == "integer";
  const bool whole =
      value.is_number_integer() || value.is_number_unsigned() ||
      (value.is_number_float() && std::trunc(value.get<double>()) == value.get<double>());
  if (!value.is_number() || (integer && !whole))
    throw InvalidArguments(name + ": expected " + (integer ? "an integer" : "a number"));
  const double number = value.get<double>();
  if (!std::isfinite(number) || number < property.value("minimum", -INFINITY) ||
      number > property.value("maximum", INFINITY))
    throw InvalidArguments(name + ": expected " + (integer ? "an integer" : "a number") + " from " +
                           property.at("minimum").dump() + " to " + property.at("maximum").dump() +
                           ", got " + value.dump());
}

// `arguments` against a tool's input schema: an object, no unknown
// properties, every required one, each of the right type and range, and
// exactly one of a oneOf's required alternatives.
void check_arguments(const Json& schema, const Json& arguments) {
  const Json& properties = schema.at("properties");
  for (const auto& [name, value] : arguments.items()) {
    if (!properties.contains(name))
      throw InvalidArguments(name + ": unknown argument (expected " + [&] {
        std::string names;
        for (const auto& [known, _] : properties.items())
          names += (names.empty() ? "" : ", ") + known;
        return names;
      }() + ")");
    check_value(name, value, properties.at(name));
  }
  for (const auto& name : schema.at("required"))
    if (!arguments.contains(name.get<std::string>()))
      throw InvalidArguments(name.get<std::string>() + ": required");
  if (!schema.contains("oneOf")) return;
  std::vector<std::string> given;
  for (const auto& choice : schema["oneOf"]) {
    const std::string name = choice.at("required").at(0);
    if (arguments.contains(name)) given.push_back(name);
  }
  if (given.size() != 1) throw InvalidArguments("give exactly one of error or signature");
}

}  // namespace

const Json& tool_list() {
  static const Json list = [] {
    Json out = Json::array();
    for (const auto& tool : tools())
      out.push_back(Json{{"name", tool.name},
                         {"title", tool.title},
                         {"description", tool.description},
                         {"inputSchema", tool.input_schema},
                         {"annotations", Json{{"title", tool.title},
                                              {"readOnlyHint", true},
                                              {"destructiveHint", false},
                                              {"idempotentHint", true},
                                              {"openWorldHint", false}}}});
    return out;
  }();
  return list;
}

bool is_tool(std::string_view name) {
  for (const auto& tool : tools())
    if (tool.name == name) return true;
  return false;
}

Target target(std::string_view name, const Json& arguments) {
  for (const auto& tool : tools()) {
    if (tool.name != name) continue;
    if (!arguments.is_object()) throw InvalidArguments("arguments: expected an object");
    check_arguments(tool.input_schema, arguments);
    return tool.target(arguments);
  }
  throw InvalidArguments("unknown tool: " + std::string(name));
}

}  // namespace patternd::mcp
