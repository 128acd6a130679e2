#pragma once
// The MCP tools of SPEC section 14: what a coding agent may ask the memory,
// each one a read API request. A tool's arguments are checked against its
// input schema (the one tools/list shows the agent) before anything is read,
// and become the path and query of the endpoint that answers, so that a tool
// returns exactly that endpoint's JSON.

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace patternd::mcp {

using Json = nlohmann::ordered_json;

// Arguments a tool cannot take (a JSON-RPC "invalid params"); the message
// names the argument and what was expected.
struct InvalidArguments : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A read API request: GET path?query (query percent-encoded).
struct Target {
  std::string path;
  std::string query;
};

// The tools, as tools/list lists them: name, title, description,
// inputSchema, annotations.
const Json& tool_list();

// Whether `name` is one of the tools.
bool is_tool(std::string_view name);

// The request `arguments` (a JSON object) stand for with tool `name` (one of
// the tools); throws InvalidArguments.
Target target(std::string_view name, const Json& arguments);

}  // namespace patternd::mcp
