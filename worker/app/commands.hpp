#pragma once
// The subcommands of `patternd`. Each registers itself on the CLI11 app and,
// when chosen, sets `run` to its action. Actions return the exit code; they
// throw core::UsageError for usage and configuration errors (exit 2) and any
// other exception for runtime failures (exit 1).

#include <CLI/CLI.hpp>
#include <functional>

namespace patternd::app {

using Action = std::function<int()>;

void add_check_config(CLI::App& app, Action& run);
void add_migrate(CLI::App& app, Action& run);
void add_ingest(CLI::App& app, Action& run);
void add_report(CLI::App& app, Action& run);
void add_redetect(CLI::App& app, Action& run);
void add_produce(CLI::App& app, Action& run);
void add_dev_broker(CLI::App& app, Action& run);
void add_run(CLI::App& app, Action& run);
void add_backup(CLI::App& app, Action& run);
void add_dead_letters(CLI::App& app, Action& run);
void add_prune(CLI::App& app, Action& run);
void add_serve(CLI::App& app, Action& run);
void add_query(CLI::App& app, Action& run);
void add_replay(CLI::App& app, Action& run);
void add_mcp(CLI::App& app, Action& run);

}  // namespace patternd::app
