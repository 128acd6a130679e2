// `patternd dead-letters list|replay`: what was rejected and why, and a second
// chance from the stored payload after a fix (a raised limit, new rules).

#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "app/commands.hpp"
#include "app/common.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "pipeline/processor.hpp"
#include "runner/dead_letter_source.hpp"
#include "runner/runner.hpp"

namespace patternd::app {
namespace {

struct FilterOptions {
  std::string reason, topic, since, until;
  std::int64_t limit = 50;
  std::string format = "text";
};

store::DeadLetterFilter make_filter(const FilterOptions& o, const config::Config& config) {
  store::DeadLetterFilter f;
  if (!o.reason.empty()) f.reason_class = o.reason;
  if (!o.topic.empty()) {
    const auto kind = core::parse_topic_kind(o.topic);
    f.topic = kind ? config.kafka.topic(*kind) : o.topic;
  }
  auto instant = [](const std::string& text,
                    const char* option) -> std::optional<core::TimestampMs> {
    if (text.empty()) return std::nullopt;
    const auto t = core::parse_rfc3339(text);
    if (!t)
      throw core::UsageError(std::string(option) +
                             ": expected an RFC 3339 time such as "
                             "2026-11-20T00:00:00Z, got \"" +
                             text + "\"");
    return t;
  };
  f.since = instant(o.since, "--since");
  f.until = instant(o.until, "--until");
  return f;
}

void add_filter_options(CLI::App* cmd, FilterOptions& o) {
  cmd->add_option("--reason", o.reason,
                  "only this reason class (invalid_json, invalid_utf8, too_large, too_deep, "
                  "not_an_object, missing_field, wrong_type, out_of_range, duplicate_key, "
                  "db_constraint)");
  cmd->add_option("--topic", o.topic, "only this topic (workflows, extractions, or a topic name)");
  cmd->add_option("--since", o.since, "only letters rejected at or after this RFC 3339 time");
  cmd->add_option("--until", o.until, "only letters rejected before this RFC 3339 time");
}

// Escaped (reasons quote message content, which may hold terminal escapes),
// on one line, cut to the column.
std::string one_line(const std::string& raw, std::size_t width) {
  std::string text = core::escape_for_terminal(raw);
  if (text.size() > width) {
    std::size_t cut = width - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return text;
}

int list(const std::string& config_path, const FilterOptions& o) {
  const config::Config config = load_config(config_path);
  auto filter = make_filter(o, config);
  filter.limit = o.limit;
  auto store = open_store_read_only(config);
  const auto letters = store->find_dead_letters(filter);
  const std::int64_t total = store->count_dead_letters(filter);
  if (o.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : letters) {
      nlohmann::json j = {{"id", d.id},
                          {"topic", d.topic},
                          {"partition", d.partition},
                          {"offset", d.offset},
                          {"reason_class", d.reason_class},
                          {"reason", d.reason},
                          {"payload", d.payload},
                          {"payload_size", d.payload_size},
                          {"payload_truncated", d.truncated()},
                          {"rejected_at", core::format_rfc3339(d.received_at)}};
      if (d.message_time) j["message_time"] = core::format_rfc3339(*d.message_time);
      if (d.source_file) j["source_file"] = *d.source_file;
      if (d.source_line) j["source_line"] = *d.source_line;
      out.push_back(std::move(j));
    }
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::cout << std::left << std::setw(8) << "ID" << std::setw(26) << "REJECTED AT" << std::setw(34)
            << "FROM (TOPIC[P]@OFFSET|FILE:LINE)" << std::setw(15) << "CLASS" << std::setw(9)
            << "BYTES"
            << "REASON\n";
  for (const auto& d : letters) {
    // A file's letter: where it is in its file (`patternd ingest`).
    const std::string where =
        d.partition >= 0
            ? core::escape_for_terminal(d.topic) + "[" + std::to_string(d.partition) + "]@" +
                  std::to_string(d.offset)
            : core::escape_for_terminal(d.source_file.value_or("file")) +
                  (d.source_line ? ":" + std::to_string(*d.source_line) : std::string());
    std::cout << std::setw(8) << d.id << std::setw(26) << core::format_rfc3339(d.received_at)
              << std::setw(34) << where << std::setw(15)
              << core::escape_for_terminal(d.reason_class) << std::setw(9) << d.payload_size
              << one_line(d.reason, 100) << "\n";
  }
  std::cout << letters.size() << " of " << with_commas(static_cast<std::uint64_t>(total))
            << " matching dead letters shown"
            << (static_cast<std::int64_t>(letters.size()) < total ? " (raise --limit for more)"
                                                                  : "")
            << "\n";
  return 0;
}

int replay(const std::string& config_path, const FilterOptions& o) {
  const config::Config config = load_config(config_path);
  const detect::Rules rules = load_rules(config);
  auto store = open_store(config);
  reconcile_rules_version(*store, rules);
  auto letters_store = open_store(config);  // read by the source while the runner writes
  runner::DeadLetterSource source(*letters_store, config.kafka, make_filter(o, config));
  pipeline::Processor processor(config, rules);
  CommandProgress progress("dead-letters replay", std::chrono::seconds(60), true);
  runner::Options run_options;
  run_options.max_messages = static_cast<std::size_t>(config.batch.max_messages);
  run_options.patience = std::chrono::hours(24 * 365);
  runner::Runner runner(run_options, processor, *store, progress);
  const std::atomic<bool> never{false};
  runner.run(source, never);

  const pipeline::TopicOutcome& t = progress.totals();
  const std::uint64_t replayed = progress.messages(), cleared = progress.dead_letters_cleared(),
                      persisted = t.persisted, duplicates = t.duplicates,
                      still_failing = t.dead_lettered, expired = t.expired,
                      truncated = source.truncated(), other_topic = source.other_topic();
  const auto& still_by_class = progress.dead_letter_classes();
  std::cout << "dead-letters replay: " << with_commas(replayed)
            << " replayed: " << with_commas(cleared) << " now pass and left the table ("
            << with_commas(persisted) << " persisted, " << with_commas(duplicates)
            << " already stored, " << with_commas(expired) << " expired), "
            << with_commas(still_failing)
            << " still fail and stay, with the reason they fail for now";
  if (!still_by_class.empty()) {
    std::cout << ":";
    for (const auto& [cls, n] : still_by_class) std::cout << " " << cls << " " << with_commas(n);
  }
  std::cout << "\n";
  if (truncated > 0)
    std::cout << "dead-letters replay: " << with_commas(truncated)
              << " letters skipped: larger than the 64 KiB kept, they cannot be replayed from "
                 "the table (produce them again from their source)\n";
  if (other_topic > 0)
    std::cout << "dead-letters replay: " << with_commas(other_topic)
              << " letters skipped: from topics this configuration does not consume\n";
  return 0;
}

}  // namespace

void add_dead_letters(CLI::App& app, Action& run) {
  auto* cmd =
      app.add_subcommand("dead-letters", "Inspect rejected messages, or replay them after a fix");
  cmd->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto options = std::make_shared<FilterOptions>();

  auto* list_cmd = cmd->add_subcommand(
      "list", "List dead letters, oldest first: where from, when, the reason class and reason");
  list_cmd->add_option("--config", *file, "the YAML config file")->required();
  add_filter_options(list_cmd, *options);
  list_cmd->add_option("--limit", options->limit, "at most this many (default 50)")
      ->check(CLI::Range(1, 100'000'000));
  list_cmd->add_option("--format", options->format, "text or json (json includes payloads)")
      ->check(CLI::IsMember({"text", "json"}));
  list_cmd->callback(
      [&run, file, options] { run = [file, options] { return list(*file, *options); }; });

  auto* replay_cmd = cmd->add_subcommand(
      "replay",
      "Run the matching dead letters through the pipeline again, with the current config and "
      "rules (after raising limits.max_message_bytes, say). A letter that passes now is stored "
      "and leaves the table in the same transaction; one that still fails stays, with its new "
      "reason. Safe while workers run, and to repeat.");
  replay_cmd->add_option("--config", *file, "the YAML config file")->required();
  add_filter_options(replay_cmd, *options);
  replay_cmd->callback(
      [&run, file, options] { run = [file, options] { return replay(*file, *options); }; });
}

}  // namespace patternd::app
