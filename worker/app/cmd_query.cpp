// `patternd query --config FILE RESOURCE [ID...] [--FILTER VALUE...]
// [--format table|json]`: the read API's answers from the command line. The
// request goes through the same code as GET /v1/RESOURCE/ID?FILTER=VALUE,
// so the JSON is the endpoint's, byte for byte.

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "api/api.hpp"
#include "api/json.hpp"
#include "app/commands.hpp"
#include "app/common.hpp"
#include "core/result.hpp"
#include "core/text.hpp"
#include "store/reader.hpp"

namespace patternd::app {
namespace {

struct QueryOptions {
  std::string config_path;
  std::string format = "table";
  std::string resource;
  std::vector<std::string> rest;  // ids and --filter value pairs, in order
};

// `failures --lookup TEXT` is /v1/failures/lookup?error=TEXT; `session ID`
// is `sessions ID`; --min-confidence is min_confidence.
std::pair<std::string, std::string> request_of(const QueryOptions& o) {
  std::string path = "/v1/" + (o.resource == "session" ? std::string("sessions") : o.resource);
  std::string query;
  auto add = [&query](const std::string& name, const std::string& value) {
    query +=
        (query.empty() ? "" : "&") + core::percent_encode(name) + "=" + core::percent_encode(value);
  };
  for (std::size_t i = 0; i < o.rest.size(); ++i) {
    const std::string& arg = o.rest[i];
    if (arg.rfind("--", 0) != 0) {
      path += "/" + core::percent_encode(arg);
      continue;
    }
    std::string name = arg.substr(2);
    for (char& ch : name)
      if (ch == '-') ch = '_';
    const bool has_value = i + 1 < o.rest.size() && o.rest[i + 1].rfind("--", 0) != 0;
    const std::string value = has_value ? o.rest[++i] : "true";
    if (name == "lookup" && o.resource == "failures") {
      path += "/lookup";
      add("error", value);
    } else {
      add(name, value);
    }
  }
  return {path, query};
}

std::string cell(const api::Json& value, std::size_t width) {
  std::string text = value.is_string() ? value.get<std::string>()
                     : value.is_null() ? std::string("-")
                                       : value.dump();
  text = core::escape_for_terminal(text);
  if (text.size() <= width) return text;
  std::size_t cut = width - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

// Columns of a terminal: code points, not bytes (escaped text is ASCII or
// printable UTF-8).
std::size_t width_of(const std::string& text) {
  std::size_t n = 0;
  for (const char ch : text) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

// A list as aligned columns of its rows' plain fields; one object as
// name: value lines. Every value from the database is escaped for the
// terminal.
void print_table(const api::Json& body) {
  if (body.contains("data") && body["data"].is_array()) {
    const auto& rows = body["data"];
    if (rows.empty()) {
      std::printf("(none)\n");
      return;
    }
    std::vector<std::string> columns;
    for (const auto& [name, value] : rows.front().items())
      if (!value.is_object() && !value.is_array()) columns.push_back(name);
    std::vector<std::vector<std::string>> cells(1);
    for (const auto& c : columns) cells[0].push_back(cell(c, 48));
    for (const auto& row : rows) {
      cells.emplace_back();
      for (const auto& c : columns)
        cells.back().push_back(cell(row.value(c, api::Json(nullptr)), 48));
    }
    std::vector<std::size_t> widths(columns.size());
    for (const auto& line : cells)
      for (std::size_t i = 0; i < line.size(); ++i)
        widths[i] = std::max(widths[i], width_of(line[i]));
    for (const auto& line : cells) {
      std::string text;
      for (std::size_t i = 0; i < line.size(); ++i)
        text +=
            line[i] + std::string(i + 1 < line.size() ? widths[i] - width_of(line[i]) + 2 : 0, ' ');
      std::printf("%s\n", text.c_str());
    }
    if (body.contains("next_cursor") && body["next_cursor"].is_string())
      std::printf("more: --cursor %s\n", body["next_cursor"].get<std::string>().c_str());
    return;
  }
  for (const auto& [name, value] : body.items())
    if (!value.is_array() || value.empty() || !value.front().is_object())
      std::printf("%s: %s\n", cell(name, 40).c_str(), cell(value, 4000).c_str());
  // A list of rows inside one object (a lookup's fixes): a table after it.
  for (const auto& [name, value] : body.items()) {
    if (!value.is_array() || value.empty() || !value.front().is_object()) continue;
    std::printf("\n%s:\n", cell(name, 40).c_str());
    print_table(api::Json{{"data", value}});
  }
}

int query(const QueryOptions& o) {
  const config::Config config = load_config(o.config_path);
  api::Api api(config.api, [&config] { return store::open_reader(config); });
  const auto [path, query_string] = request_of(o);
  const api::Answer answer = api.answer(path, query_string);
  const api::Json body = api::Json::parse(answer.body, nullptr, false);
  if (answer.status != 200) {
    const std::string message =
        body.is_object() && body.contains("error") ? body["error"].get<std::string>() : answer.body;
    if (answer.status == 400) throw core::UsageError(core::escape_for_terminal(message));
    std::fprintf(stderr, "patternd query: %s\n", core::escape_for_terminal(message).c_str());
    return 1;
  }
  if (o.format == "json")
    std::fwrite(answer.body.data(), 1, answer.body.size(), stdout);
  else
    print_table(body);
  return 0;
}

}  // namespace

void add_query(CLI::App& app, Action& run) {
  auto options = std::make_shared<QueryOptions>();
  auto* cmd = app.add_subcommand(
      "query",
      "Ask the memory, as the read API does: patterns, failures (--lookup TEXT), fixes, outcomes "
      "stats, extractions, sessions [--active] [ID [events]], code-blocks, agents [NAME stats], "
      "timeline, prompts [--q TEXT] [ID | stats], health. Filters are "
      "the endpoint's parameters as flags (--agent codex --since 2026-11-01T00:00:00Z).");
  cmd->add_option("--config", options->config_path, "the YAML config file")->required();
  cmd->add_option("--format", options->format, "table (default) or json (the endpoint's JSON)")
      ->check(CLI::IsMember({"table", "json"}));
  cmd->add_option("resource", options->resource, "what to ask for")
      ->required()
      ->check(CLI::IsMember({"patterns", "failures", "fixes", "outcomes", "extractions", "sessions",
                             "session", "code-blocks", "agents", "timeline", "prompts", "health"}));
  cmd->allow_extras();
  cmd->callback([&run, options, cmd] {
    options->rest = cmd->remaining();
    run = [options] { return query(*options); };
  });
}

}  // namespace patternd::app
