#pragma once
// Start-up steps shared by subcommands: configuration, rules, database.
// Failures here are configuration errors: they throw core::UsageError.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/format.hpp"
#include "detect/rules.hpp"
#include "pipeline/observer.hpp"
#include "store/store.hpp"

namespace patternd::app {

// Loads the configuration and warns, once, about PATTERND_* variables that
// name no setting (stderr, in the log's format).
config::Config load_config(const std::string& path);

// That warning, for `run`: it loads with config::load and configures the log
// from the configuration before it warns, so a JSON log gets a JSON line.
// Says nothing when `unknown` is empty.
void warn_about_unknown_variables(const std::vector<config::UnknownVariable>& unknown);
detect::Rules load_rules(const config::Config& config);

// Opens the store for writing (creating and migrating the database if
// needed; a failure is a runtime error, except another application's
// database at storage.path, a configuration error), or an existing one
// read-only (a failure, such as no database yet, is a usage error).
std::unique_ptr<store::Store> open_store(const config::Config& config);
std::unique_ptr<store::Store> open_store_read_only(const config::Config& config);

// Records the rules version on a database that has none; warns on stderr when
// the stored version differs (the pattern tables follow other rules until
// `patternd redetect`). Returns true when they match.
bool reconcile_rules_version(store::Store& store, const detect::Rules& rules);

// What one-shot commands (ingest, dead-letters replay) watch of the runner:
// the outcome of every batch added up; transient database errors (another
// writer holding the lock, a full disk) retried with the writer's backoff,
// saying so on stderr as "COMMAND: ...", for up to `limit`; a progress line
// every 2 s unless quiet.
class CommandProgress : public pipeline::Observer {
 public:
  CommandProgress(std::string command, std::chrono::seconds limit, bool quiet);
  ~CommandProgress() override { end_line(); }
  // Ends a progress line on a terminal (before a summary is printed).
  void end_line();

  void batch_written(const pipeline::Batch& batch, const pipeline::BatchOutcome& outcome) override;
  bool write_retry(std::string_view kind, std::string_view error,
                   std::chrono::milliseconds delay) override;

  // Read after the runner is done.
  std::uint64_t messages() const { return m_messages; }
  const pipeline::TopicOutcome& totals() const { return m_totals; }
  std::uint64_t dead_letters_cleared() const { return m_cleared; }
  const std::map<std::string, std::uint64_t>& dead_letter_classes() const { return m_classes; }
  double seconds() const;

 private:
  using Clock = std::chrono::steady_clock;
  const std::string m_command;
  const std::chrono::seconds m_limit;
  const bool m_quiet;
  const bool m_tty;
  const Clock::time_point m_started;
  Clock::time_point m_last_progress, m_failing_since{};
  std::uint64_t m_messages = 0, m_cleared = 0;
  pipeline::TopicOutcome m_totals;
  std::map<std::string, std::uint64_t> m_classes;
};

using core::with_commas;

// "1,234 rows deleted (... workflows, ...) in 3 transactions"
std::string describe_prune(const store::PruneReport& report);

}  // namespace patternd::app
