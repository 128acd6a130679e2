// `patternd ingest --config FILE --topic KIND FILE.jsonl|-`: backfill through
// the same runner as Kafka (decode -> detect -> store, same idempotency, same
// dead letters), with a file source.
//
// A backfill is all backlog, so it writes bigger transactions than the
// worker's batch.max_messages (measured on 1M generated lines: 20,000 per
// transaction is ~25% faster than 5,000; 50,000 adds little and uses ~50%
// more memory).

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/commands.hpp"
#include "app/common.hpp"
#include "pipeline/processor.hpp"
#include "runner/runner.hpp"
#include "source/file_source.hpp"

namespace patternd::app {
namespace {

struct IngestOptions {
  std::string config_path;
  std::string topic;
  std::string input;
  std::size_t batch_size = 20'000;
  bool quiet = false;
};

int ingest(const IngestOptions& options) {
  const config::Config config = load_config(options.config_path);
  const auto parsed = core::parse_topic_kind(options.topic);
  if (!parsed)
    throw core::UsageError("--topic must be workflows or extractions, got \"" + options.topic +
                           "\"");
  const core::TopicKind kind = *parsed;
  const detect::Rules rules = load_rules(config);

  std::ifstream file;
  std::istream* in = &std::cin;
  if (options.input != "-") {
    // A directory opens as a stream that reads nothing: "0 messages" and
    // success would hide the mistake.
    if (std::filesystem::is_directory(options.input))
      throw core::UsageError(options.input + ": is a directory, expected a JSON-lines file");
    file.open(options.input, std::ios::binary);
    if (!file) throw core::UsageError(options.input + ": cannot open the input file");
    in = &file;
  }
  const std::string input_name = options.input == "-" ? "standard input" : options.input;

  auto store = open_store(config);
  reconcile_rules_version(*store, rules);

  source::FileSource source(*in, input_name, kind,
                            static_cast<std::size_t>(config.limits.max_message_bytes));
  pipeline::Processor processor(config, rules);
  CommandProgress progress("ingest", std::chrono::seconds(60), options.quiet);
  runner::Options run_options;
  run_options.max_messages = options.batch_size;
  run_options.max_wait = std::chrono::seconds(1);  // a slow pipe still commits every second
  // Everything read is written, however long the database takes; a batch
  // that fails for a minute stops the ingest (CommandProgress).
  run_options.patience = std::chrono::hours(24 * 365);
  runner::Runner runner(run_options, processor, *store, progress);
  const std::atomic<bool> never{false};
  try {
    runner.run(source, never);
  } catch (...) {
    std::cerr << "ingest: stopped after " << with_commas(progress.totals().persisted)
              << " new rows were committed; the failed batch left nothing behind, so running "
                 "the same ingest again is safe\n";
    throw;
  }
  const pipeline::TopicOutcome& totals = progress.totals();
  const std::uint64_t messages = progress.messages();
  progress.end_line();
  const double elapsed = progress.seconds();
  // The table keeps one row per distinct rejected line: a line repeated in
  // the input is counted here each time, stored there once.
  const std::string distinct = totals.dead_lettered > 0
                                   ? " (" + with_commas(source.distinct_rejections()) + " distinct)"
                                   : "";
  std::fprintf(stderr,
               "ingest: %s messages from %s in %.2f s (%s messages/s)\n"
               "  persisted     %s\n"
               "  duplicates    %s\n"
               "  dead letters  %s%s%s\n"
               "  expired       %s%s\n",
               with_commas(messages).c_str(), input_name.c_str(), elapsed,
               with_commas(static_cast<std::uint64_t>(
                               elapsed > 0 ? static_cast<double>(messages) / elapsed : 0))
                   .c_str(),
               with_commas(totals.persisted).c_str(), with_commas(totals.duplicates).c_str(),
               with_commas(totals.dead_lettered).c_str(), distinct.c_str(),
               totals.dead_lettered > 0 ? "  (reasons in the dead_letters table)" : "",
               with_commas(totals.expired).c_str(),
               totals.expired > 0 ? "  (older than retention.days: not ingested)" : "");
  return 0;
}

}  // namespace

void add_ingest(CLI::App& app, Action& run) {
  auto options = std::make_shared<IngestOptions>();
  auto* cmd = app.add_subcommand(
      "ingest",
      "Backfill JSON lines through the same pipeline as Kafka (same idempotency, same dead "
      "letters); ingesting the same input again changes nothing");
  cmd->add_option("--config", options->config_path, "the YAML config file")->required();
  std::vector<std::string> kind_names;
  for (const auto& k : core::k_stream_kinds) kind_names.emplace_back(k.name);
  cmd->add_option("--topic", options->topic,
                  "which stream the lines belong to: " + core::stream_kind_names())
      ->required()
      ->check(CLI::IsMember(kind_names));
  cmd->add_option("INPUT", options->input, "a JSON-lines file, or - for standard input")
      ->required();
  cmd->add_option("--batch-size", options->batch_size,
                  "messages per transaction (a backfill is all backlog: bigger is faster)")
      ->check(CLI::Range(1, 1'000'000));
  cmd->add_flag("--quiet", options->quiet, "no progress lines (the summary is still printed)");
  cmd->callback([&run, options] { run = [options] { return ingest(*options); }; });
}

}  // namespace patternd::app
