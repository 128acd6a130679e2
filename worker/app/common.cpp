#include "app/common.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <iostream>
#include <thread>

#include "core/log.hpp"

namespace patternd::app {

config::Config load_config(const std::string& path) {
  config::Loaded loaded = core::value_or_throw(config::load(path));
  warn_about_unknown_variables(loaded.unknown_variables);
  return std::move(loaded.config);
}

void warn_about_unknown_variables(const std::vector<config::UnknownVariable>& unknown) {
  if (unknown.empty()) return;
  std::string described, names;
  for (const auto& variable : unknown) {
    described += (described.empty() ? "" : ", ") + variable.name;
    if (!variable.closest_known.empty())
      described += " (did you mean " + variable.closest_known + "?)";
    names += (names.empty() ? "" : ",") + variable.name;
  }
  log::warn("config", "unknown environment variables ignored: " + described,
            {{"unknown_variables", names}});
}

detect::Rules load_rules(const config::Config& config) {
  return core::value_or_throw(detect::Rules::load(config.detection.rules));
}

std::unique_ptr<store::Store> open_store(const config::Config& config) {
  auto store = store::open_store(config, store::Access::write);
  if (!store && store.error().foreign) throw core::UsageError(store.error().message);
  if (!store) throw std::runtime_error(store.error().message);
  return std::move(store).value();
}

std::unique_ptr<store::Store> open_store_read_only(const config::Config& config) {
  auto store = store::open_store(config, store::Access::read_only);
  if (!store) throw core::UsageError(store.error().message);
  return std::move(store).value();
}

bool reconcile_rules_version(store::Store& db, const detect::Rules& rules) {
  const auto stored = db.meta(store::k_meta_rules_version);
  if (!stored) {
    db.set_meta(store::k_meta_rules_version, rules.version());
    return true;
  }
  if (*stored == rules.version()) return true;
  log::warn("rules",
            "the detection rules (" + rules.version().substr(0, 12) +
                ") differ from the rules the pattern tables follow (" + stored->substr(0, 12) +
                "); new occurrences use the current rules. Run `patternd redetect` with the "
                "workers stopped to rebuild the pattern tables.",
            {{"rules_version", rules.version()}, {"stored_rules_version", *stored}});
  return false;
}

CommandProgress::CommandProgress(std::string command, std::chrono::seconds limit, bool quiet)
    : m_command(std::move(command)),
      m_limit(limit),
      m_quiet(quiet),
      m_tty(isatty(STDERR_FILENO) != 0),
      m_started(Clock::now()),
      m_last_progress(m_started) {}

void CommandProgress::end_line() {
  if (m_tty && !m_quiet && m_last_progress != m_started) std::fputc('\n', stderr);
  m_last_progress = m_started;
}

double CommandProgress::seconds() const {
  return std::chrono::duration<double>(Clock::now() - m_started).count();
}

void CommandProgress::batch_written(const pipeline::Batch& batch,
                                    const pipeline::BatchOutcome& outcome) {
  m_failing_since = {};
  for (const auto& t : outcome.topics) m_totals += t;
  m_cleared += outcome.dead_letters_cleared;
  for (const auto& [key, n] : outcome.dead_letter_classes)
    m_classes[std::string(core::to_string(key.second))] += n;
  m_messages += batch.messages.size();
  if (m_quiet || Clock::now() - m_last_progress <= std::chrono::seconds(2)) return;
  m_last_progress = Clock::now();
  const double elapsed = seconds();
  std::fprintf(
      stderr, "%s%s: %s messages (%s/s)%s", m_tty ? "\r" : "", m_command.c_str(),
      with_commas(m_messages).c_str(),
      with_commas(static_cast<std::uint64_t>(static_cast<double>(m_messages) / elapsed)).c_str(),
      m_tty ? "" : "\n");
}

bool CommandProgress::write_retry(std::string_view, std::string_view error,
                                  std::chrono::milliseconds delay) {
  const auto now = Clock::now();
  if (m_failing_since == Clock::time_point{}) m_failing_since = now;
  if (now + delay > m_failing_since + m_limit) return false;
  std::cerr << m_command << ": database busy or unavailable (" << error << "); retrying in "
            << delay.count() << " ms\n";
  return true;
}

std::string describe_prune(const store::PruneReport& r) {
  return with_commas(static_cast<std::uint64_t>(r.total())) + " rows deleted (" +
         with_commas(static_cast<std::uint64_t>(r.workflows)) + " workflows, " +
         with_commas(static_cast<std::uint64_t>(r.occurrences)) + " pattern occurrences, " +
         with_commas(static_cast<std::uint64_t>(r.events)) + " extraction events, " +
         with_commas(static_cast<std::uint64_t>(r.outcomes)) + " outcomes, " +
         with_commas(static_cast<std::uint64_t>(r.state_changes)) + " session state changes, " +
         with_commas(static_cast<std::uint64_t>(r.prompts)) + " prompts, " +
         with_commas(static_cast<std::uint64_t>(r.code_blocks)) + " code blocks, " +
         with_commas(static_cast<std::uint64_t>(r.dead_letters)) + " dead letters) in " +
         with_commas(static_cast<std::uint64_t>(r.transactions)) + " transactions";
}

}  // namespace patternd::app
