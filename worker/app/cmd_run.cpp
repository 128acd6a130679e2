// `patternd run --config FILE`: the worker (kafka/worker.hpp) until SIGTERM
// or SIGINT, which let it write what it consumed and leave the group.

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <thread>

#include "app/api_server.hpp"
#include "app/commands.hpp"
#include "app/common.hpp"
#include "app/signals.hpp"
#include "core/format.hpp"
#include "core/log.hpp"
#include "metrics/events.hpp"
#include "metrics/health.hpp"
#include "metrics/http_server.hpp"
#include "pipeline/processor.hpp"
#include "runner/kafka_source.hpp"
#include "runner/runner.hpp"
#include "store/store.hpp"

namespace patternd::app {
namespace {

std::atomic<bool> g_stop{false};

// Retention while the worker runs: a prune a few seconds after start-up,
// then every 24 hours, on a connection of its own. Its short transactions
// interleave with the worker's batches.
class DailyPrune {
 public:
  explicit DailyPrune(const config::Config& config) : m_config(config) {
    if (config.retention.days > 0) m_thread = std::thread([this] { loop(); });
  }
  ~DailyPrune() {  // when the worker is done, for whatever reason
    m_done = true;
    if (m_thread.joinable()) m_thread.join();
  }
  DailyPrune(const DailyPrune&) = delete;
  DailyPrune& operator=(const DailyPrune&) = delete;

 private:
  void loop() {
    using Clock = std::chrono::steady_clock;
    auto next = Clock::now() + std::chrono::seconds(5);
    std::unique_ptr<store::Store> store;
    while (!m_done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (Clock::now() < next) continue;
      try {
        if (!store) store = open_store(m_config);
        const core::TimestampMs horizon =
            store::retention_horizon(m_config.retention.days, core::now_ms());
        store::PruneOptions options;
        options.stop = &m_done;
        const auto report = store->prune(horizon, options);
        log::info("retention",
                  "pruned rows older than " + core::format_rfc3339(horizon) + ": " +
                      describe_prune(report),
                  {{"rows_deleted", report.total()}, {"transactions", report.transactions}});
        next = Clock::now() + std::chrono::hours(24);
      } catch (const std::exception& e) {
        log::warn("retention", std::string("prune failed (") + e.what() + "); retrying in an hour");
        next = Clock::now() + std::chrono::hours(1);
      }
    }
  }

  const config::Config& m_config;
  std::atomic<bool> m_done{false};
  std::thread m_thread;
};

int run_worker(const std::string& config_path) {
  const config::Loaded loaded = core::value_or_throw(config::load(config_path));
  const config::Config& config = loaded.config;
  log::configure(config.log.level, config.log.format);
  warn_about_unknown_variables(loaded.unknown_variables);
  const detect::Rules rules = load_rules(config);
  auto store = open_store(config);
  const bool rules_match = reconcile_rules_version(*store, rules);

  // SIGTERM/SIGINT only set a flag: readiness turns 503, the loop writes
  // what it consumed and leaves the group.
  set_on_termination_signals(g_stop);

  metrics::Metrics metrics(config.kafka, PATTERND_VERSION,
                           {store::k_error_labels.begin(), store::k_error_labels.end()});
  metrics::Health health(g_stop, rules_match);
  metrics::WorkerEvents events(metrics, health);
  pipeline::Processor processor(config, rules);
  runner::Options options;
  options.max_messages = static_cast<std::size_t>(config.batch.max_messages);
  options.max_wait = std::chrono::milliseconds(config.batch.max_wait_ms);
  runner::Runner runner(options, processor, *store, events);
  runner::KafkaSource kafka(config, *store, events);
  const DailyPrune retention(config);
  metrics::ReadMetrics read_metrics;
  const metrics::HttpServer http(
      config.metrics.listen,
      {[&metrics, &read_metrics] { return metrics.scrape() + read_metrics.scrape(); },
       [&health] { return health.readiness(); }});
  const std::string host = config.metrics.listen.substr(0, config.metrics.listen.rfind(':'));
  log::info("run",
            "consuming " + core::join(config.kafka.topics, ", ") + " from " + config.kafka.brokers +
                " as group " + config.kafka.group_id + " into " + store->location(),
            {{"version", PATTERND_VERSION},
             {"brokers", config.kafka.brokers},
             {"group_id", config.kafka.group_id},
             {"database", store->location()}});
  const std::string metrics_url = "http://" + host + ":" + std::to_string(http.port()) + "/metrics";
  log::info("run", "metrics on " + metrics_url + " (and /healthz, /readyz)",
            {{"metrics_url", metrics_url}});
  const ApiServer api = start_api(config, read_metrics, false);
  // On a failure, the source's destructor leaves the group; what was not
  // written is read again by the next owner.
  runner.run(kafka, g_stop);
  kafka.close();  // leaves the group; its revocation finds nothing in flight
  events.stopped();
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
