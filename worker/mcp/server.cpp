#include "mcp/server.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "api/json.hpp"
#include "core/log.hpp"
#include "mcp/tools.hpp"

namespace patternd::mcp {
namespace {

// JSON-RPC 2.0's error codes.
constexpr int k_parse_error = -32700;
constexpr int k_invalid_request = -32600;
constexpr int k_method_not_found = -32601;
constexpr int k_invalid_params = -32602;
constexpr int k_internal_error = -32603;

// Newest first: the first is what a client asking for another gets.
constexpr std::array<std::string_view, 4> k_versions = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                        "2024-11-05"};

constexpr const char* k_instructions =
    "patternd is this fleet's memory of what coding agents did: the operations they repeat, "
    "the errors they hit and the fixes that worked, their sessions and improved prompts. When "
    "you hit an error, call lookup_error with its text before trying a fix of your own. "
    "Read-only.";

// Deeper is no request of this protocol, and copying or printing such JSON
// recurses once per level.
constexpr int k_max_depth = 64;

// Whether `text` nests arrays and objects deeper than k_max_depth (strings
// skipped), found before parsing it.
bool too_deep(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > k_max_depth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

struct RpcError : std::runtime_error {
  RpcError(int code, const std::string& message) : std::runtime_error(message), code(code) {}
  int code;
};

Json error_reply(const Json& id, int code, const std::string& message) {
  return Json{
      {"jsonrpc", "2.0"}, {"id", id}, {"error", Json{{"code", code}, {"message", message}}}};
}

// The message of the read API's {"error": ...} body.
std::string error_message(const std::string& body) {
  const Json parsed = Json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string())
    return parsed["error"].get<std::string>();
  return body;
}

Json tool_error(const std::string& message) {
  return Json{{"content", Json::array({Json{{"type", "text"}, {"text", message}}})},
              {"isError", true}};
}

}  // namespace

// A request's parts, checked: `params` is an object (empty when absent).
class Server::Request {
 public:
  explicit Request(const Json& message) {
    if (message.value("jsonrpc", Json()) != "2.0")
      throw RpcError(k_invalid_request, "jsonrpc: expected \"2.0\"");
    if (!message.contains("method") || !message["method"].is_string())
      throw RpcError(k_invalid_request, "method: expected a string");
    method = message["method"].get<std::string>();
    if (message.contains("params")) {
      if (!message["params"].is_object())
        throw RpcError(k_invalid_params, "params: expected an object");
      params = message["params"];
    }
  }
  std::string method;
  Json params = Json::object();
};

std::optional<std::string> Server::handle(std::string_view message) {
  if (too_deep(message))
    return api::compact(
        error_reply(nullptr, k_invalid_request,
                    "nested deeper than " + std::to_string(k_max_depth) + " levels"));
  const Json parsed = Json::parse(message, nullptr, false);
  if (parsed.is_discarded())
    return api::compact(error_reply(nullptr, k_parse_error, "parse error: not valid JSON"));
  if (!parsed.is_array()) {
    auto answer = reply(parsed);
    return answer ? std::optional(api::compact(*answer)) : std::nullopt;
  }
  // A batch (protocol revision 2025-03-26 allows them): one reply per
  // request in it, none for its notifications.
  if (parsed.empty())
    return api::compact(error_reply(nullptr, k_invalid_request, "an empty batch"));
  Json replies = Json::array();
  for (const auto& each : parsed)
    if (auto answer = reply(each)) replies.push_back(std::move(*answer));
  return replies.empty() ? std::nullopt : std::optional(api::compact(replies));
}

std::string Server::too_long(std::uint64_t bytes) {
  return api::compact(error_reply(nullptr, k_invalid_request,
                                  "message of " + std::to_string(bytes) +
                                      " bytes refused: at most " +
                                      std::to_string(k_max_message_bytes) + " bytes per line"));
}

std::optional<Json> Server::reply(const Json& message) {
  // The id is echoed only when it is one a client can match (a string or a
  // number); a request without one is a notification and gets no reply,
  // not even an error.
  if (!message.is_object())
    return error_reply(nullptr, k_invalid_request, "expected a JSON-RPC object");
  Json id = nullptr;
  const bool notification = !message.contains("id");
  if (!notification) {
    const Json& given = message["id"];
    if (given.is_string() || given.is_number_integer() || given.is_number_unsigned())
      id = given;
    else
      return error_reply(nullptr, k_invalid_request, "id: expected a string or an integer");
  }
  try {
    const Request request(message);
    if (notification) return std::nullopt;  // notifications/initialized, cancelled, ...
    Json result;
    if (request.method == "initialize")
      result = initialize(request);
    else if (request.method == "ping")
      result = Json::object();
    else if (request.method == "tools/list")
      result = Json{{"tools", tool_list()}};
    else if (request.method == "tools/call")
      result = call_tool(request);
    else
      throw RpcError(k_method_not_found, "method not found: " + request.method);
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
  } catch (const RpcError& e) {
    if (notification) return std::nullopt;
    return error_reply(id, e.code, e.what());
  } catch (const std::exception& e) {
    log::error("mcp", "request failed", {{"error", e.what()}});
    if (notification) return std::nullopt;
    return error_reply(id, k_internal_error, "internal error (logged)");
  }
}

Json Server::initialize(const Request& request) {
  const Json& asked = request.params.value("protocolVersion", Json());
  if (!asked.is_string()) throw RpcError(k_invalid_params, "protocolVersion: expected a string");
  const auto known = std::find(k_versions.begin(), k_versions.end(), asked.get<std::string>());
  const std::string_view version = known != k_versions.end() ? *known : k_versions.front();
  const Json& client = request.params.value("clientInfo", Json::object());
  m_client = client.is_object() && client.value("name", Json()).is_string()
                 ? client["name"].get<std::string>()
                 : "";
  log::info("mcp", "client initialized",
            {{"client", m_client}, {"asked", asked.get<std::string>()}, {"version", version}});
  return Json{{"protocolVersion", version},
              {"capabilities", Json{{"tools", Json{{"listChanged", false}}}}},
              {"serverInfo", Json{{"name", "patternd"},
                                  {"title", "patternd: the memory of a fleet of coding agents"},
                                  {"version", PATTERND_VERSION}}},
              {"instructions", k_instructions}};
}

// A tool's result is the endpoint's answer: JSON (as text, and as
// structuredContent for clients that read it), or, when the endpoint found
// nothing (404) or the database cannot be read now (503), a tool error the
// agent reads. Arguments the endpoint refuses (400) are invalid params, as
// the ones the input schema refuses are.
Json Server::call_tool(const Request& request) {
  const Json& name = request.params.value("name", Json());
  if (!name.is_string()) throw RpcError(k_invalid_params, "name: expected a tool's name");
  const std::string tool = name.get<std::string>();
  if (!is_tool(tool)) throw RpcError(k_invalid_params, "unknown tool: " + tool);
  const Json arguments = request.params.value("arguments", Json::object());
  Target target;
  try {
    target = mcp::target(tool, arguments);
  } catch (const InvalidArguments& e) {
    throw RpcError(k_invalid_params, tool + ": " + e.what());
  }
  const api::Answer answer = m_read(target.path, target.query);
  log::debug("mcp", "tool called",
             {{"client", m_client}, {"tool", tool}, {"status", std::int64_t{answer.status}}});
  switch (answer.status) {
    case 200: {
      Json structured = Json::parse(answer.body, nullptr, false);
      if (structured.is_discarded()) throw std::runtime_error("the read API answered non-JSON");
      return Json{{"content", Json::array({Json{{"type", "text"}, {"text", answer.body}}})},
                  {"structuredContent", std::move(structured)},
                  {"isError", false}};
    }
    case 400:
      throw RpcError(k_invalid_params, tool + ": " + error_message(answer.body));
    case 404:
    case 503:
      return tool_error(error_message(answer.body));
    default:
      throw std::runtime_error(tool + ": the read API answered " + std::to_string(answer.status) +
                               ": " + answer.body);
  }
}

}  // namespace patternd::mcp
