// `patternd check-config FILE` and `patternd migrate --config FILE`.

#include <iostream>

#include "app/commands.hpp"
#include "app/common.hpp"
#include "kafka/properties.hpp"

namespace patternd::app {

void add_check_config(CLI::App& app, Action& run) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "check-config",
      "Validate a config file (and the rules file it names); print the effective config");
  cmd->add_option("FILE", *file, "the YAML config file")->required();
  cmd->callback([&run, file] {
    run = [file] {
      const config::Config config = load_config(*file);
      if (auto valid = kafka::validate_properties(config.kafka.properties); !valid)
        throw core::UsageError(*file + ": " + valid.error().message);
      const detect::Rules rules = load_rules(config);
      std::cout << "# effective configuration of " << *file
                << " (defaults, the file, then PATTERND_* variables; secrets masked)\n"
                << config::to_yaml(config) << "# detection rules: " << config.detection.rules
                << " (" << rules.category_count() << " categories, " << rules.tool_count()
                << " tools, " << rules.target_count() << " targets; version "
                << rules.version().substr(0, 12) << ")\n";
      return 0;
    };
  });
}

void add_migrate(CLI::App& app, Action& run) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("migrate", "Create or upgrade the database schema, then exit");
  cmd->add_option("--config", *file, "the YAML config file")->required();
  cmd->callback([&run, file] {
    run = [file] {
      const config::Config config = load_config(*file);
      auto migrated = store::migrate(config);
      if (!migrated && migrated.error().foreign) throw core::UsageError(migrated.error().message);
      if (!migrated) throw std::runtime_error(migrated.error().message);
      const auto& m = migrated->report;
      if (m.from_version == m.to_version) {
        std::cout << migrated->location << ": schema is at version " << m.to_version
                  << " (up to date)\n";
      } else {
        std::cout << migrated->location << ": schema migrated from version " << m.from_version
                  << " to " << m.to_version << "\n";
      }
      return 0;
    };
  });
}

}  // namespace patternd::app
