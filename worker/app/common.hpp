#pragma once
// Start-up steps shared by subcommands: configuration, rules, database.
// Failures here are configuration errors: they throw core::UsageError.

#include <chrono>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/format.hpp"
#include "detect/rules.hpp"
#include "store/batch_writer.hpp"
#include "store/database.hpp"
#include "store/prune.hpp"

namespace patternd::app {

config::Config load_config(const std::string& path);
detect::Rules load_rules(const config::Config& config);

// Opens (and migrates) the database; a failure is a runtime error, except
// another application's database at storage.path (a configuration error).
std::unique_ptr<store::Database> open_database(const config::Config& config);

// Records the rules version on a database that has none; warns on stderr when
// the stored version differs (the pattern tables follow other rules until
// `patternd redetect`). Returns true when they match.
bool reconcile_rules_version(store::Database& db, const detect::Rules& rules);

// For one-shot commands (ingest, dead-letters replay): retry transient
// database errors (another writer holding the lock, a full disk) with the
// writer's backoff, saying so on stderr as "COMMAND: ...", for up to `limit`.
store::BatchWriter::RetryWait patient_retry(std::string command, std::chrono::seconds limit);

using core::with_commas;

// "1,234 rows deleted (... workflows, ...) in 3 transactions"
std::string describe_prune(const store::PruneReport& report);

}  // namespace patternd::app
