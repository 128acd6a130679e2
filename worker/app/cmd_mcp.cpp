// `patternd mcp --config FILE`: the memory as a Model Context Protocol
// server over stdio (SPEC section 14), for a coding agent to start and ask.
// One JSON-RPC message per line on stdin, one reply per line on stdout;
// stdout carries nothing else (the log goes to stderr). Reads only, each on
// a read-only connection of its own; EOF on stdin ends it (exit 0).

#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "api/api.hpp"
#include "app/commands.hpp"
#include "app/common.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "mcp/server.hpp"
#include "source/line_reader.hpp"
#include "store/reader.hpp"

namespace patternd::app {
namespace {

// One whole line at a time: a client reading replies line by line must
// never see half of one.
bool write_line(const std::string& line) {
  std::string out = line;
  out.push_back('\n');
  return std::fwrite(out.data(), 1, out.size(), stdout) == out.size() && std::fflush(stdout) == 0;
}

int mcp(const std::string& config_path) {
  const config::Loaded loaded = core::value_or_throw(config::load(config_path));
  const config::Config& config = loaded.config;
  log::configure(config.log.level, config.log.format);
  warn_about_unknown_variables(loaded.unknown_variables);
  // A client that went away closes our stdout: a failed write ends the
  // server, not a SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  // Not fatal: the worker may create the database later; until then each
  // tool call says the memory cannot be read.
  if (auto reader = store::open_reader(config); !reader)
    log::warn("mcp", reader.error().message + "; tools answer that until it can be read");
  api::Api api(config.api, [&config] { return store::open_reader(config); });
  mcp::Server server(
      [&api](std::string_view path, std::string_view query) { return api.answer(path, query); });
  log::info("mcp", "serving the Model Context Protocol on stdin/stdout",
            {{"database", store::location_of(config)}});

  source::LineReader lines(STDIN_FILENO, mcp::k_max_message_bytes);
  source::LineReader::Line line;
  while (lines.next(line)) {
    std::optional<std::string> reply;
    if (line.truncated())
      reply = mcp::Server::too_long(line.bytes);
    else if (line.text.find_first_not_of(" \t") != std::string::npos)
      reply = server.handle(line.text);
    if (reply && !write_line(*reply)) {
      log::info("mcp", "stdout closed; stopping");
      return 0;
    }
  }
  log::info("mcp", "stdin closed; stopping");
  return 0;
}

}  // namespace

void add_mcp(CLI::App& app, Action& run) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "mcp",
      "Serve the memory to a coding agent as a Model Context Protocol server on stdin/stdout "
      "(JSON-RPC, one message per line; read-only; logs on stderr; ends at EOF)");
  cmd->add_option("--config", *file, "the YAML config file (its storage is read)")->required();
  cmd->footer(
      "Register it with an MCP client, e.g. in its JSON configuration:\n"
      "  {\"mcpServers\": {\"patternd\": {\"command\": \"patternd\",\n"
      "    \"args\": [\"mcp\", \"--config\", \"/etc/patternd/patternd.yaml\"]}}}\n"
      "Tools: lookup_error, best_fixes, top_patterns, session_history, search_prompts, "
      "agent_stats.");
  cmd->callback([&run, file] { run = [file] { return mcp(*file); }; });
}

}  // namespace patternd::app
