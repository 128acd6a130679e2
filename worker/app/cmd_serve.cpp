// `patternd serve --config FILE`: the read API alone (no Kafka, read-only),
// until SIGTERM/SIGINT. Any number of them may read one database while
// workers write it.

#include <csignal>

#include "app/api_server.hpp"
#include "app/commands.hpp"
#include "app/common.hpp"
#include "app/signals.hpp"
#include "core/log.hpp"
#include "core/result.hpp"

namespace patternd::app {
namespace {

int serve(const std::string& config_path) {
  const sigset_t signals = block_termination_signals();
  const config::Loaded loaded = core::value_or_throw(config::load(config_path));
  const config::Config& config = loaded.config;
  log::configure(config.log.level, config.log.format);
  warn_about_unknown_variables(loaded.unknown_variables);
  if (config.api.listen.empty())
    throw core::UsageError(config_path + ": api.listen is empty, so there is nothing to serve");
  // Not fatal: a worker may not have created it yet. Said now, so that a
  // wrong path is not only a stream of 503s.
  if (auto reader = store::open_reader(config); !reader)
    log::warn("serve", reader.error().message + "; answering 503 until it can be read");
  metrics::ReadMetrics read_metrics;
  const ApiServer api = start_api(config, read_metrics, true);
  int signal = 0;
  sigwait(&signals, &signal);
  log::info("serve", std::string("stopping on ") + (signal == SIGINT ? "SIGINT" : "SIGTERM"));
  return 0;
}

}  // namespace

void add_serve(CLI::App& app, Action& run) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve the read API (/v1/...) on api.listen, read-only and without Kafka, until "
      "SIGTERM/SIGINT");
  cmd->add_option("--config", *file, "the YAML config file")->required();
  cmd->callback([&run, file] { run = [file] { return serve(*file); }; });
}

}  // namespace patternd::app
