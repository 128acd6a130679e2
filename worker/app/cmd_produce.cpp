// `patternd produce`: a synthetic fleet of producer agents. This build writes
// JSON lines (--output); the Kafka path arrives with `patternd run`.

#include <fstream>
#include <iostream>

#include "app/commands.hpp"
#include "app/common.hpp"
#include "fleet/fleet.hpp"

namespace patternd::app {
namespace {

struct ProduceOptions {
  std::string kind = "mixed";
  std::uint64_t count = 1000;
  std::uint64_t seed = 1;
  double duplicates = 0;
  double invalid = 0;
  std::string start;
  double span_hours = 24;
  std::string output;
};

int produce(const ProduceOptions& options) {
  fleet::Options fleet_options;
  fleet_options.mix = options.kind == "workflows"     ? fleet::Mix::workflows
                      : options.kind == "extractions" ? fleet::Mix::extractions
                                                      : fleet::Mix::mixed;
  if (fleet_options.mix == fleet::Mix::mixed)
    throw core::UsageError(
        "--output writes one stream per file: use --kind workflows or --kind extractions");
  fleet_options.count = options.count;
  fleet_options.seed = options.seed;
  fleet_options.duplicates = options.duplicates;
  fleet_options.invalid = options.invalid;
  fleet_options.span_ms = static_cast<core::TimestampMs>(options.span_hours * 3600 * 1000);
  if (options.start.empty()) {
    // Default: the last `span` up to now, so default retention keeps it all.
    fleet_options.start = core::now_ms() - fleet_options.span_ms;
  } else {
    const auto start = core::parse_rfc3339(options.start);
    if (!start)
      throw core::UsageError("--start must be an RFC 3339 time such as 2026-11-20T00:00:00Z");
    fleet_options.start = *start;
  }

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (options.output != "-") {
    file.open(options.output, std::ios::binary | std::ios::trunc);
    if (!file) throw std::runtime_error(options.output + ": cannot write the output file");
    out = &file;
  }
  fleet::Fleet fleet(fleet_options);
  fleet::Message message;
  std::uint64_t duplicates = 0, invalid = 0;
  while (fleet.next(message)) {
    duplicates += message.duplicate;
    invalid += message.invalid;
    *out << message.payload << '\n';
  }
  out->flush();
  if (!*out) throw std::runtime_error(options.output + ": write failed");
  std::cerr << "produce: wrote " << with_commas(fleet.produced()) << " " << options.kind
            << " messages (" << with_commas(duplicates) << " duplicates, " << with_commas(invalid)
            << " invalid) to " << (options.output == "-" ? "standard output" : options.output)
            << "\n";
  return 0;
}

}  // namespace

void add_produce(CLI::App& app, Action& run) {
  auto options = std::make_shared<ProduceOptions>();
  auto* cmd = app.add_subcommand(
      "produce",
      "A synthetic fleet of producer agents: realistic, reproducible (by --seed) workflows and "
      "extraction events, written as JSON lines");
  cmd->add_option("--kind", options->kind, "workflows, extractions or mixed")
      ->check(CLI::IsMember({"workflows", "extractions", "mixed"}));
  cmd->add_option("--count", options->count, "how many messages")->check(CLI::Range(1ULL, 1ULL << 40));
  cmd->add_option("--seed", options->seed, "same seed, same messages");
  cmd->add_option("--duplicates", options->duplicates,
                  "fraction of messages that repeat an earlier one verbatim (0..1)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--invalid", options->invalid, "fraction of invalid messages (0..1)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--start", options->start,
                  "RFC 3339 time of the first event (default: --span-hours before now)");
  cmd->add_option("--span-hours", options->span_hours, "event times spread over this many hours")
      ->check(CLI::Range(0.001, 1e6));
  cmd->add_option("--output", options->output, "a JSON-lines file to write, or - for stdout")
      ->required();
  cmd->callback([&run, options] { run = [options] { return produce(*options); }; });
}

}  // namespace patternd::app
