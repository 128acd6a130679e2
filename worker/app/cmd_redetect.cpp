// `patternd redetect --config FILE`: rebuild the pattern tables from the raw
// rows with the current rules.

#include <chrono>
#include <iostream>

#include "app/commands.hpp"
#include "app/common.hpp"
#include "store/store.hpp"

namespace patternd::app {

void add_redetect(CLI::App& app, Action& run) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "redetect",
      "Rebuild the pattern tables from the stored raw rows with the current rules (after a "
      "rules change). Run it with the workers stopped; it is one transaction.");
  cmd->add_option("--config", *file, "the YAML config file")->required();
  cmd->callback([&run, file] {
    run = [file] {
      const config::Config config = load_config(*file);
      const detect::Rules rules = load_rules(config);
      auto store = open_store(config);
      const std::string before = store->meta(store::k_meta_rules_version).value_or("(none)");
      const auto started = std::chrono::steady_clock::now();
      const auto summary = store->redetect(rules, [](std::uint64_t rows) {
        std::cerr << "redetect: " << with_commas(rows) << " rows\n";
      });
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::cout << "redetect: rebuilt from " << with_commas(summary.workflows) << " workflows and "
                << with_commas(summary.error_events) << " error events in " << seconds << " s\n"
                << "  operation occurrences  " << with_commas(summary.operation_occurrences) << "\n"
                << "  failure occurrences    " << with_commas(summary.failure_occurrences) << "\n"
                << "  outcomes with an error " << with_commas(summary.outcomes) << "\n"
                << "  rules version          " << before.substr(0, 12) << " -> "
                << rules.version().substr(0, 12) << "\n";
      return 0;
    };
  });
}

}  // namespace patternd::app
