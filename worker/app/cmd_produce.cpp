// `patternd produce`: a synthetic fleet of producer agents, to Kafka
// (--brokers) or to a JSON-lines file (--output); or, with --file and
// --topic, the replay of a JSON-lines file to Kafka.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "app/commands.hpp"
#include "app/common.hpp"
#include "fleet/fleet.hpp"
#include "kafka/producer.hpp"

namespace patternd::app {
namespace {

using Clock = std::chrono::steady_clock;

struct ProduceOptions {
  std::string kind = "mixed";
  std::uint64_t count = 1000;
  std::uint64_t seed = 1;
  double duplicates = 0;
  double invalid = 0;
  std::string start;
  double span_hours = 24;
  double prompt_bytes = 0;
  std::string output;
  bool force = false;  // --output may replace an existing file
  std::string brokers;
  std::string config_path;
  double rate = 0;
  std::string file;
  std::string topic;
};

// Sleeps as needed so that `sent` messages take at least sent/rate seconds.
class Pacer {
 public:
  explicit Pacer(double rate) : m_rate(rate), m_start(Clock::now()) {}
  void wait_for(std::uint64_t sent) const {
    if (m_rate <= 0) return;
    const auto due =
        m_start + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(static_cast<double>(sent) / m_rate));
    if (due > Clock::now()) std::this_thread::sleep_until(due);
  }

 private:
  double m_rate;
  Clock::time_point m_start;
};

fleet::Options fleet_options(const ProduceOptions& options) {
  fleet::Options f;
  f.mix = options.kind == "workflows"     ? fleet::Mix::workflows
          : options.kind == "extractions" ? fleet::Mix::extractions
          : options.kind == "outcomes"    ? fleet::Mix::outcomes
          : options.kind == "sessions"    ? fleet::Mix::sessions
          : options.kind == "prompts"     ? fleet::Mix::prompts
                                          : fleet::Mix::mixed;
  f.count = options.count;
  f.seed = options.seed;
  f.duplicates = options.duplicates;
  f.invalid = options.invalid;
  f.prompt_bytes = options.prompt_bytes;
  f.span_ms = static_cast<core::TimestampMs>(options.span_hours * 3600 * 1000);
  if (options.start.empty()) {
    // Default: the last `span` up to now, so default retention keeps it all.
    f.start = core::now_ms() - f.span_ms;
  } else {
    const auto start = core::parse_rfc3339(options.start);
    if (!start)
      throw core::UsageError("--start must be an RFC 3339 time such as 2026-11-20T00:00:00Z");
    f.start = *start;
  }
  return f;
}

int produce_to_file(const ProduceOptions& options) {
  if (options.kind == "mixed")
    throw core::UsageError(
        "--output writes one stream per file: use --kind workflows, extractions, outcomes, "
        "sessions or prompts");
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (options.output != "-") {
    // Created exclusively: a mistyped --output must not silently truncate
    // a file that was there (a day's capture, a config).
    if (!options.force) {
      const int fd = ::open(options.output.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0 && errno == EEXIST)
        throw core::UsageError(
            options.output + ": exists already; choose a new file name, or --force to replace it");
      if (fd >= 0) ::close(fd);
    }
    file.open(options.output, std::ios::binary | std::ios::trunc);
    if (!file) throw std::runtime_error(options.output + ": cannot write the output file");
    out = &file;
  }
  fleet::Fleet fleet(fleet_options(options));
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

int produce_to_kafka(const ProduceOptions& options) {
  config::Config config;
  if (!options.config_path.empty()) config = load_config(options.config_path);
  auto producer_result = kafka::Producer::make(options.brokers, config.kafka.properties);
  if (!producer_result) throw core::UsageError(producer_result.error().message);
  kafka::Producer& producer = **producer_result;

  const Pacer pacer(options.rate);
  const auto started = Clock::now();
  std::uint64_t sent = 0, duplicates = 0, invalid = 0;
  core::PerKind<std::uint64_t> per_kind{};

  if (!options.file.empty()) {
    core::TopicKind kind;
    const auto parsed = core::parse_topic_kind(options.topic);
    if (parsed) kind = *parsed;
    if (!parsed) throw core::UsageError("--file needs --topic: " + core::stream_kind_names());
    std::ifstream in(options.file, std::ios::binary);
    if (!in) throw core::UsageError(options.file + ": cannot open the input file");
    std::string line;
    for (std::uint64_t number = 1; std::getline(in, line); ++number) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      // Keyed by line number: spread evenly over the partitions.
      producer.send(config.kafka.topic(kind), std::to_string(number), line);
      ++per_kind[core::index_of(kind)];
      pacer.wait_for(++sent);
    }
  } else {
    fleet::Fleet fleet(fleet_options(options));
    fleet::Message message;
    while (fleet.next(message)) {
      duplicates += message.duplicate;
      invalid += message.invalid;
      producer.send(config.kafka.topic(message.kind), message.key, message.payload);
      ++per_kind[core::index_of(message.kind)];
      pacer.wait_for(++sent);
    }
  }
  const bool flushed = producer.flush(60'000);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::string per_topic;  // "9,000 to agent.workflows, 1,000 to agent.outcomes"
  for (const auto& k : core::k_stream_kinds) {
    const std::uint64_t n = per_kind[core::index_of(k.kind)];
    if (n == 0) continue;
    if (!per_topic.empty()) per_topic += ", ";
    per_topic += with_commas(n) + " to " + config.kafka.topic(k.kind);
  }
  std::cerr << "produce: sent " << with_commas(sent) << " messages (" << with_commas(duplicates)
            << " duplicates, " << with_commas(invalid) << " invalid) to " << options.brokers
            << " in " << seconds << " s ("
            << with_commas(static_cast<std::uint64_t>(seconds > 0 ? sent / seconds : 0))
            << "/s): " << per_topic << "; delivered " << with_commas(producer.delivered())
            << ", failed " << with_commas(producer.failed()) << "\n";
  if (producer.failed() > 0)
    throw std::runtime_error("some messages were not delivered: " + producer.first_error());
  if (!flushed) throw std::runtime_error("timed out waiting for delivery reports");
  return 0;
}

}  // namespace

void add_produce(CLI::App& app, Action& run) {
  auto options = std::make_shared<ProduceOptions>();
  auto* cmd = app.add_subcommand(
      "produce",
      "A synthetic fleet of producer agents: realistic workflows, extraction events, the "
      "outcomes of the fixes agents try, the lifecycle of their sessions and the prompts their "
      "prompt improver rewrites, reproducible by "
      "--seed, to Kafka (--brokers) or to a JSON-lines file (--output). With --file and --topic, "
      "replays a JSON-lines file to Kafka instead.");
  auto* brokers =
      cmd->add_option("--brokers", options->brokers, "Kafka bootstrap servers (host:port,...)");
  auto* output = cmd->add_option("--output", options->output,
                                 "write JSON lines to this file (- for stdout) instead of Kafka");
  brokers->excludes(output);
  cmd->add_flag("--force", options->force, "let --output replace an existing file")->needs(output);
  cmd->add_option("--config", options->config_path,
                  "take topic names and kafka.properties from this config file");
  cmd->add_option("--kind", options->kind,
                  "workflows, extractions, outcomes, sessions, prompts or mixed (43% workflows, "
                  "43% extractions, 9% outcomes, 5% sessions: the lifecycle of the sessions the "
                  "extractions and outcomes come from; no prompts)")
      ->check(
          CLI::IsMember({"workflows", "extractions", "outcomes", "sessions", "prompts", "mixed"}));
  cmd->add_option("--count", options->count, "how many messages")
      ->check(CLI::Range(1ULL, 1ULL << 40));
  cmd->add_option("--rate", options->rate, "messages per second (default: as fast as possible)")
      ->check(CLI::Range(0.0, 1e9));
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
  cmd->add_option("--prompt-bytes", options->prompt_bytes,
                  "prompts: the improved prompt's mean size in bytes, sizes spread from half to "
                  "1.5 times it (default: 1 to 8 KB, most 2 to 5; the whole record is about 1 KB "
                  "more)")
      ->check(CLI::Range(200.0, 1e6));
  auto* file = cmd->add_option("--file", options->file, "replay this JSON-lines file to Kafka");
  std::vector<std::string> kind_names;
  for (const auto& k : core::k_stream_kinds) kind_names.emplace_back(k.name);
  cmd->add_option("--topic", options->topic, "the stream of --file: " + core::stream_kind_names())
      ->check(CLI::IsMember(kind_names))
      ->needs(file);
  file->needs(brokers);
  cmd->callback([&run, options] {
    run = [options] {
      if (options->brokers.empty() && options->output.empty())
        throw core::UsageError("produce needs --brokers (to Kafka) or --output (to a file)");
      return options->brokers.empty() ? produce_to_file(*options) : produce_to_kafka(*options);
    };
  });
}

}  // namespace patternd::app
