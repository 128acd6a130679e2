// `patternd mcp` driven over its real stdio (issue 20): a scripted client
// writes JSON-RPC lines to the server's stdin and reads its stdout. Every
// tool is called on a populated database and its result compared with what
// the HTTP endpoint answers for the same question (served by `patternd
// serve` on the same database); then garbage, unknown methods, wrong arguments
// and a 5 MB line, each answered with its JSON-RPC error while the server
// goes on answering. The Mcp tests run on both backends (served_api.hpp).

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "integration/served_api.hpp"
#include "support/helpers.hpp"

namespace patternd {
namespace {

using nlohmann::json;
using testing::BackgroundProcess;

std::string produced(const char* kind, const char* count) {
  const auto r = testing::run_patternd(
      {"produce", "--kind", kind, "--count", count, "--seed", "11", "--output", "-"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// The MCP server as a client sees it: one request line in, one reply line out.
class McpClient {
 public:
  McpClient(const std::string& config, const std::string& stderr_path)
      : m_process(BackgroundProcess::Command{{PATTERND_BINARY, "mcp", "--config", config}, true},
                  stderr_path) {}

  // Sends one line; returns the reply line parsed ("" reply: null).
  json send_line(const std::string& line) {
    EXPECT_TRUE(m_process.write_input(line + "\n"));
    return read_reply();
  }
  json read_reply() {
    const std::string reply = m_process.read_line(20000);
    if (reply.empty()) return nullptr;
    json parsed = json::parse(reply, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << "stdout carried a line that is not JSON: " << reply;
    for (const auto& each : parsed.is_array() ? parsed : json::array({parsed}))
      EXPECT_EQ(each.value("jsonrpc", ""), "2.0") << reply;
    return parsed;
  }
  json request(const std::string& method, const json& params) {
    const int id = ++m_id;
    json reply = send_line(
        json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump());
    EXPECT_EQ(reply.value("id", json()), id) << reply.dump();
    return reply;
  }
  json call(const std::string& tool, const json& arguments) {
    return request("tools/call", json{{"name", tool}, {"arguments", arguments}});
  }
  // The server still answers: a ping gets its empty result.
  void expect_alive() {
    const json reply = request("ping", json::object());
    EXPECT_EQ(reply.value("result", json()), json::object()) << reply.dump();
  }
  BackgroundProcess& process() { return m_process; }

 private:
  BackgroundProcess m_process;
  int m_id = 0;
};

class Mcp : public ::testing::TestWithParam<std::string> {
 protected:
  static void TearDownTestSuite() {
    s_apis.clear();
    s_api = nullptr;
  }

  void SetUp() override {
    s_api = &s_apis.of(GetParam());
    m_client = std::make_unique<McpClient>(s_api->config, s_api->dir.file("mcp.log"));
    const json init = m_client->request(
        "initialize", json{{"protocolVersion", "2025-06-18"},
                           {"capabilities", json::object()},
                           {"clientInfo", json{{"name", "test-client"}, {"version", "1"}}}});
    ASSERT_TRUE(init.contains("result")) << init.dump();
    EXPECT_EQ(init["result"]["protocolVersion"], "2025-06-18");
    EXPECT_EQ(init["result"]["serverInfo"]["name"], "patternd");
    EXPECT_TRUE(init["result"]["capabilities"].contains("tools"));
    // A notification: no reply (the next line read is the ping's).
    EXPECT_TRUE(m_client->process().write_input(
        R"({"jsonrpc": "2.0", "method": "notifications/initialized"})"
        "\n"));
    m_client->expect_alive();
  }

  // The HTTP endpoint's JSON for `target`.
  static json http(const std::string& target) {
    const auto r = testing::http_get(s_api->port, target, {});
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return json::parse(r.body);
  }
  static std::string enc(const std::string& text) { return testing::ServedApi::encoded(text); }

  // A tool's result: not an error, its text and structuredContent the same
  // JSON, equal to the endpoint's.
  json expect_tool(const std::string& tool, const json& arguments, const std::string& target) {
    const json reply = m_client->call(tool, arguments);
    EXPECT_TRUE(reply.contains("result")) << tool << ": " << reply.dump();
    if (!reply.contains("result")) return nullptr;
    const json& result = reply["result"];
    EXPECT_EQ(result.value("isError", true), false) << reply.dump();
    EXPECT_EQ(result["content"][0]["type"], "text");
    const json text = json::parse(result["content"][0]["text"].get<std::string>());
    EXPECT_EQ(text, result["structuredContent"]);
    EXPECT_EQ(result["structuredContent"], http(target)) << tool << " vs GET " << target;
    return result["structuredContent"];
  }
  void expect_error(const json& reply, int code, const std::string& mentions = "") {
    ASSERT_TRUE(reply.contains("error")) << reply.dump();
    EXPECT_EQ(reply["error"]["code"], code) << reply.dump();
    EXPECT_NE(reply["error"]["message"].get<std::string>().find(mentions), std::string::npos)
        << reply.dump();
  }

  static testing::ServedApiPerBackend s_apis;
  static testing::ServedApi* s_api;  // this test's backend's
  std::unique_ptr<McpClient> m_client;
};

testing::ServedApiPerBackend Mcp::s_apis([](const std::string& backend) {
  return std::make_unique<testing::ServedApi>(
      backend, testing::ServedApi::Inputs{{"workflows", produced("workflows", "3000")},
                                          {"extractions", produced("extractions", "3000")},
                                          {"outcomes", produced("outcomes", "1500")},
                                          {"sessions", produced("sessions", "300")},
                                          {"prompts", produced("prompts", "200")}});
});
testing::ServedApi* Mcp::s_api = nullptr;

TEST_P(Mcp, ListsEveryToolWithAnInputSchemaAndADescription) {
  const json reply = m_client->request("tools/list", json::object());
  std::set<std::string> names;
  for (const auto& tool : reply["result"]["tools"]) {
    names.insert(tool["name"].get<std::string>());
    EXPECT_EQ(tool["inputSchema"]["type"], "object") << tool.dump();
    EXPECT_GT(tool["description"].get<std::string>().size(), 80u) << tool.dump();
    EXPECT_EQ(tool["annotations"]["readOnlyHint"], true);
  }
  EXPECT_EQ(names, (std::set<std::string>{"lookup_error", "best_fixes", "top_patterns",
                                          "session_history", "search_prompts", "agent_stats"}));
}

TEST_P(Mcp, EveryToolAnswersWhatItsEndpointAnswers) {
  // An error the fleet has seen and has fixes for: the most frequent
  // failure whose lookup lists fixes.
  std::string error, signature;
  const json failures = http("/v1/failures?sort=frequency&limit=50");
  for (const auto& failure : failures["data"]) {
    const std::string example = failure["example"];
    const json lookup = http("/v1/failures/lookup?error=" + enc(example));
    if (lookup["seen"] == true && !lookup["fixes"].empty()) {
      error = example;
      signature = lookup["signature"];
      break;
    }
  }
  ASSERT_FALSE(error.empty()) << "the produced data has no failure with fixes";

  const json lookup =
      expect_tool("lookup_error", {{"error", error}}, "/v1/failures/lookup?error=" + enc(error));
  EXPECT_EQ(lookup["seen"], true);
  EXPECT_FALSE(lookup["fixes"].empty());

  const json fixes = expect_tool("best_fixes", {{"error", error}},
                                 "/v1/fixes?signature=" + enc(signature) + "&limit=10");
  EXPECT_FALSE(fixes["data"].empty());
  expect_tool("best_fixes", {{"signature", signature}, {"min_confidence", 0.1}, {"limit", 3}},
              "/v1/fixes?signature=" + enc(signature) + "&min_confidence=0.1&limit=3");

  const json patterns =
      expect_tool("top_patterns", json::object(), "/v1/patterns?sort=savings&limit=10");
  EXPECT_EQ(patterns["data"].size(), 10u);
  const json tests = expect_tool("top_patterns", {{"category", "test"}, {"sort", "occurrences"}},
                                 "/v1/patterns?category=test&sort=occurrences&limit=10");
  ASSERT_FALSE(tests["data"].empty());
  for (const auto& p : tests["data"]) EXPECT_EQ(p["category"], "test");
  if (tests["next_cursor"].is_string())
    expect_tool(
        "top_patterns",
        {{"category", "test"}, {"sort", "occurrences"}, {"cursor", tests["next_cursor"]}},
        "/v1/patterns?category=test&sort=occurrences&limit=10&cursor=" + enc(tests["next_cursor"]));

  // A session with a lifecycle (not only events).
  std::string session;
  const json sessions = http("/v1/sessions?limit=200");
  for (const auto& s : sessions["data"])
    if (s["state"].is_string()) session = s["session_id"];
  ASSERT_FALSE(session.empty());
  const json history =
      expect_tool("session_history", {{"session_id", session}}, "/v1/sessions/" + enc(session));
  EXPECT_FALSE(history["state_changes"].empty()) << history.dump();

  const std::string backend = http("/v1/prompts/stats")["data"][0]["backend"];
  const json prompts = expect_tool("search_prompts", {{"query", "test*"}, {"backend", backend}},
                                   "/v1/prompts?q=test%2A&backend=" + enc(backend) + "&limit=10");
  ASSERT_FALSE(prompts["data"].empty());
  for (const auto& p : prompts["data"]) EXPECT_EQ(p["backend"], backend);

  const std::string agent = http("/v1/agents?limit=1")["data"][0]["agent"];
  const json stats =
      expect_tool("agent_stats", {{"agent", agent}}, "/v1/agents/" + enc(agent) + "/stats");
  EXPECT_EQ(stats["agent"], agent);
}

TEST_P(Mcp, AnUnknownSessionIsAToolErrorTheAgentReads) {
  const json reply = m_client->call("session_history", {{"session_id", "no-such-session"}});
  ASSERT_TRUE(reply.contains("result")) << reply.dump();
  EXPECT_EQ(reply["result"]["isError"], true);
  EXPECT_NE(reply["result"]["content"][0]["text"].get<std::string>().find("no-such-session"),
            std::string::npos)
      << reply.dump();
  m_client->expect_alive();
}

TEST_P(Mcp, BadInputGetsItsJsonRpcErrorAndTheServerGoesOn) {
  expect_error(m_client->send_line("this is not JSON {"), -32700, "parse error");
  m_client->expect_alive();
  expect_error(m_client->send_line(R"({"jsonrpc": "2.0", "id": 5, "method": "resources/list"})"),
               -32601, "resources/list");
  m_client->expect_alive();
  expect_error(m_client->send_line(R"({"jsonrpc": "1.0", "id": 6, "method": "ping"})"), -32600,
               "jsonrpc");
  expect_error(m_client->send_line(R"({"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"})"),
               -32600, "id");
  expect_error(m_client->send_line(R"([])"), -32600, "batch");
  expect_error(m_client->send_line(R"(42)"), -32600, "object");
  m_client->expect_alive();

  // Wrong arguments: each names what is wrong.
  expect_error(m_client->call("lookup_error", {{"error", 42}}), -32602, "error: expected a string");
  expect_error(m_client->call("lookup_error", json::object()), -32602, "error: required");
  expect_error(m_client->call("lookup_error", {{"error", "x"}, {"colour", "red"}}), -32602,
               "colour: unknown argument");
  expect_error(m_client->call("top_patterns", {{"limit", 0}}), -32602, "limit");
  expect_error(m_client->call("top_patterns", {{"limit", "ten"}}), -32602, "limit");
  expect_error(m_client->call("top_patterns", {{"sort", "random"}}), -32602, "sort");
  expect_error(m_client->call("best_fixes", json::object()), -32602, "exactly one");
  expect_error(m_client->call("best_fixes", {{"error", "x"}, {"signature", "y"}}), -32602,
               "exactly one");
  expect_error(m_client->call("no_such_tool", json::object()), -32602, "no_such_tool");
  expect_error(m_client->request("tools/call", json{{"name", "lookup_error"}, {"arguments", "x"}}),
               -32602, "arguments");
  // The endpoint's own refusal (a malformed full-text query) is invalid
  // params too, naming the query.
  expect_error(m_client->call("search_prompts", {{"query", "\"unbalanced"}}), -32602, "q:");
  m_client->expect_alive();

  // A 5 MB line: refused unread, and the next line is read as a message.
  const std::string huge = R"({"jsonrpc": "2.0", "id": 77, "method": "tools/call", "params": )"
                           R"({"name": "lookup_error", "arguments": {"error": ")" +
                           std::string(5 * 1024 * 1024, 'x') + "\"}}}";
  expect_error(m_client->send_line(huge), -32600, "bytes");
  m_client->expect_alive();
  // Nesting deep enough to exhaust a recursive parser's stack.
  expect_error(m_client->send_line(std::string(200000, '[') + std::string(200000, ']')), -32600);
  m_client->expect_alive();

  // A batch: one reply per request, none for the notification.
  const json batch = m_client->send_line(
      R"([{"jsonrpc": "2.0", "id": "a", "method": "ping"},)"
      R"( {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}},)"
      R"( {"jsonrpc": "2.0", "id": "b", "method": "nope"}])");
  ASSERT_TRUE(batch.is_array()) << batch.dump();
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0]["id"], "a");
  EXPECT_EQ(batch[1]["error"]["code"], -32601);

  // EOF ends it cleanly, and it logged to stderr only.
  m_client->process().close_input();
  EXPECT_EQ(m_client->process().wait(10000), 0);
  EXPECT_NE(testing::read_file(s_api->dir.file("mcp.log")).find("stdin closed"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, Mcp, ::testing::ValuesIn(testing::backend_names()),
                         testing::backend_of);

// (SQLite only: version negotiation is the backend's business of none, and a
// missing database is a missing file.)
TEST(McpVersions, AnUnknownVersionIsAnsweredWithTheNewestAndAMissingDatabaseIsAToolError) {
  testing::TempDir dir;
  const std::string config = testing::write_config(dir, "patternd.yaml", "", "");
  McpClient client(config, dir.file("mcp.log"));
  const json init = client.request("initialize", json{{"protocolVersion", "1999-01-01"}});
  EXPECT_EQ(init["result"]["protocolVersion"], "2025-11-25") << init.dump();
  const json old = client.request("initialize", json{{"protocolVersion", "2024-11-05"}});
  EXPECT_EQ(old["result"]["protocolVersion"], "2024-11-05") << old.dump();
  // No database yet: the tool says so, the server goes on.
  const json reply = client.call("top_patterns", json::object());
  ASSERT_TRUE(reply.contains("result")) << reply.dump();
  EXPECT_EQ(reply["result"]["isError"], true) << reply.dump();
  client.expect_alive();
  client.process().close_input();
  EXPECT_EQ(client.process().wait(10000), 0);
}

}  // namespace
}  // namespace patternd
