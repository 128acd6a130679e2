// `patternd backup --config FILE OUT.db`: a consistent copy of the database
// while workers keep writing (store/backup.hpp).

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "app/commands.hpp"
#include "app/common.hpp"
#include "store/store.hpp"

namespace patternd::app {

void add_backup(CLI::App& app, Action& run) {
  auto file = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "backup",
      "Copy the database to OUT (a new file) while workers keep running: one consistent "
      "snapshot, checked with PRAGMA integrity_check. To restore, stop the workers and put the "
      "copy in place of storage.path (removing its -wal and -shm files). SQLite only: a "
      "PostgreSQL store is backed up with pg_dump.");
  cmd->add_option("--config", *file, "the YAML config file")->required();
  cmd->add_option("OUT", *out, "the backup file to create (must not exist)")->required();
  cmd->callback([&run, file, out] {
    run = [file, out] {
      const config::Config config = load_config(*file);
      if (out->empty())
        throw core::UsageError("OUT: expected the name of the backup file to create, got \"\"");
      if (std::filesystem::exists(*out))
        throw core::UsageError(*out + ": exists already; choose a new file name");
      auto store = open_store_read_only(config);
      const auto report = store->backup(*out);
      if (!report && report.error().out_exists) throw core::UsageError(report.error().message);
      if (!report) throw std::runtime_error(report.error().message);
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.1f", report->seconds);
      std::cout << "backup: " << *out << ": "
                << with_commas(static_cast<std::uint64_t>(report->bytes))
                << " bytes, integrity ok, offsets of " << report->partitions
                << " partitions covering "
                << with_commas(static_cast<std::uint64_t>(report->messages_covered))
                << " Kafka messages, in " << seconds << " s\n";
      return 0;
    };
  });
}

}  // namespace patternd::app
