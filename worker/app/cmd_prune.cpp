// `patternd prune --config FILE [--older-than DAYS]`: retention by hand (store/prune.hpp); the
// worker runs the same daily.

#include <cstdio>
#include <iostream>
#include <optional>

#include "app/commands.hpp"
#include "app/common.hpp"
#include "store/store.hpp"

namespace patternd::app {

void add_prune(CLI::App& app, Action& run) {
  auto file = std::make_shared<std::string>();
  auto chunk = std::make_shared<std::int64_t>(5000);
  auto older_than = std::make_shared<std::optional<std::int64_t>>();
  auto* cmd = app.add_subcommand(
      "prune",
      "Delete raw rows older than retention.days (by event time; dead letters by rejection "
      "time), keeping the pattern aggregates and sessions. Runs in short transactions, so "
      "workers keep writing meanwhile; `run` does the same once a day.");
  cmd->add_option("--config", *file, "the YAML config file")->required();
  cmd->add_option("--chunk", *chunk, "rows per transaction (default 5000)")
      ->check(CLI::Range(1, 1'000'000));
  cmd->add_option("--older-than", *older_than,
                  "days to keep, for this run only (default: retention.days)")
      ->check(CLI::Range(1, 36'500));
  cmd->callback([&run, file, chunk, older_than] {
    run = [file, chunk, older_than] {
      config::Config config = load_config(*file);
      if (*older_than) config.retention.days = **older_than;
      if (config.retention.days == 0) {
        std::cout << "prune: retention.days is 0: everything is kept, nothing to prune\n";
        return 0;
      }
      auto store = open_store(config);
      const core::TimestampMs horizon =
          store::retention_horizon(config.retention.days, core::now_ms());
      store::PruneOptions options;
      options.chunk = *chunk;
      const auto report = store->prune(horizon, options);
      std::cout << "prune: older than " << core::format_rfc3339(horizon) << " ("
                << config.retention.days << " days): " << describe_prune(report) << "\n";
      return 0;
    };
  });
}

}  // namespace patternd::app
