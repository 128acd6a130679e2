// patternd: argv -> subcommand -> exit code.
//   0 success, 1 runtime failure, 2 usage or configuration error.

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "app/commands.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

int main(int argc, char** argv) {
  using namespace patternd;
  CLI::App cli{
      "patternd: a Kafka ingestion worker that gives fleets of AI coding agents a durable "
      "memory.\nIt learns recurring operations (worth automating) and recurring failures from "
      "agent events, and stores them exactly once, in SQLite or PostgreSQL.",
      "patternd"};
  cli.set_version_flag("--version", std::string("patternd ") + PATTERND_VERSION);
  cli.require_subcommand(1);
  cli.failure_message(CLI::FailureMessage::help);

  app::Action run;
  app::add_run(cli, run);
  app::add_ingest(cli, run);
  app::add_report(cli, run);
  app::add_redetect(cli, run);
  app::add_migrate(cli, run);
  app::add_check_config(cli, run);
  app::add_produce(cli, run);
  app::add_dev_broker(cli, run);
  app::add_backup(cli, run);
  app::add_dead_letters(cli, run);
  app::add_prune(cli, run);
  app::add_serve(cli, run);
  app::add_query(cli, run);
  app::add_replay(cli, run);
  app::add_mcp(cli, run);

  // CLI11 answers an unknown command with "A subcommand is required": name
  // it and list the commands instead.
  if (argc > 1 && argv[1][0] != '-') {
    std::string commands;
    bool known = false;
    for (const CLI::App* command : cli.get_subcommands([](const CLI::App*) { return true; })) {
      known = known || command->check_name(argv[1]);
      commands += (commands.empty() ? "" : ", ") + command->get_name();
    }
    if (!known) {
      std::cerr << "patternd: unknown command \"" << argv[1] << "\"; the commands are " << commands
                << " (patternd --help describes them)\n";
      return 2;
    }
  }
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    return run();
  } catch (const core::UsageError& e) {
    std::cerr << "patternd: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    // In the log's format: `run` may have switched it to JSON lines.
    log::error("patternd", e.what());
    return 1;
  }
}
