#pragma once
// The Model Context Protocol (SPEC section 14) over JSON-RPC 2.0, one message
// at a time: `patternd mcp` feeds it the lines of its stdin and writes what
// it returns to stdout. Independent of the transport, so that the tests and
// any later transport drive the same object.
//
// It speaks the protocol revisions that open with `initialize` (2024-11-05
// to 2025-11-25); a client asking for another is answered with the newest of
// them, as the lifecycle's version negotiation says. Only tools are offered,
// and every tool is a read: its result is the read API's JSON for the same
// request, as text and as structuredContent. Nothing a client sends ends the
// server: a malformed message gets its JSON-RPC error and the next one is
// read.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/api.hpp"

namespace patternd::mcp {

// A message longer than this is refused unread (a tool's arguments are an
// error's text or a query: kilobytes).
inline constexpr std::size_t k_max_message_bytes = 1024 * 1024;

class Server {
 public:
  // Answers GET path?query as the read API does.
  using Read = std::function<api::Answer(std::string_view path, std::string_view query)>;

  explicit Server(Read read) : m_read(std::move(read)) {}

  // The reply to one message (a line without its newline), or nullopt when
  // there is none (a notification, a batch of notifications).
  std::optional<std::string> handle(std::string_view message);

  // The reply to a message of `bytes` bytes, longer than k_max_message_bytes.
  static std::string too_long(std::uint64_t bytes);

 private:
  class Request;
  std::optional<nlohmann::ordered_json> reply(const nlohmann::ordered_json& message);
  nlohmann::ordered_json initialize(const Request& request);
  nlohmann::ordered_json call_tool(const Request& request);

  Read m_read;
  std::string m_client;  // clientInfo.name from initialize, for the log
};

}  // namespace patternd::mcp
