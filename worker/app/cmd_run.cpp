// `patternd run --config FILE`: the worker (kafka/worker.hpp) until SIGTERM
// or SIGINT, which let it write what it consumed and leave the group.

#include <atomic>
#include <csignal>

#include "app/commands.hpp"
#include "app/common.hpp"
#include "app/signals.hpp"
#include "core/log.hpp"
#include "kafka/worker.hpp"

namespace patternd::app {
namespace {

std::atomic<bool> g_stop{false};

int run_worker(const std::string& config_path) {
  const config::Config config = load_config(config_path);
  log::configure(config.log.level, config.log.format);
  const detect::Rules rules = load_rules(config);
  auto db = open_database(config);
  const bool rules_match = reconcile_rules_version(*db, rules);

  // SIGTERM/SIGINT only set a flag: readiness turns 503, the loop writes
  // what it consumed and leaves the group.
  set_on_termination_signals(g_stop);

  metrics::Metrics metrics(config.kafka, PATTERND_VERSION);
  kafka::Worker worker(config, rules, *db, metrics, g_stop, rules_match);
  const metrics::HttpServer http(config.metrics.listen,
                                 {[&metrics] { return metrics.scrape(); },
                                  [&worker] { return worker.readiness(); }});
  const std::string host = config.metrics.listen.substr(0, config.metrics.listen.rfind(':'));
  log::info("run",
            "consuming " + config.kafka.topic_workflows + " and " +
                config.kafka.topic_extractions + " from " + config.kafka.brokers + " as group " +
                config.kafka.group_id + " into " + config.storage.path,
            {{"version", PATTERND_VERSION},
             {"brokers", config.kafka.brokers},
             {"group_id", config.kafka.group_id},
             {"database", config.storage.path}});
  const std::string metrics_url = "http://" + host + ":" + std::to_string(http.port()) + "/metrics";
  log::info("run", "metrics on " + metrics_url + " (and /healthz, /readyz)",
            {{"metrics_url", metrics_url}});
  worker.run();
  return 0;
}

}  // namespace

void add_run(CLI::App& app, Action& run) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "run", "Run the worker: consume both topics in the consumer group until SIGTERM/SIGINT");
  cmd->add_option("--config", *file, "the YAML config file")->required();
  cmd->callback([&run, file] { run = [file] { return run_worker(*file); }; });
}

}  // namespace patternd::app
