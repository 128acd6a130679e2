#include "app/common.hpp"

#include <iostream>
#include <thread>

#include "core/log.hpp"

namespace patternd::app {

config::Config load_config(const std::string& path) {
  return core::value_or_throw(config::load(path));
}

detect::Rules load_rules(const config::Config& config) {
  return core::value_or_throw(detect::Rules::load(config.detection.rules));
}

std::unique_ptr<store::Database> open_database(const config::Config& config) {
  auto db = store::Database::open(config.storage);
  if (!db && db.error().foreign) throw core::UsageError(db.error().message);
  if (!db) throw std::runtime_error(db.error().message);
  return std::move(db).value();
}

bool reconcile_rules_version(store::Database& db, const detect::Rules& rules) {
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

store::BatchWriter::RetryWait patient_retry(std::string command, std::chrono::seconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  return [command = std::move(command), give_up](const store::StoreError& e,
                                                 std::chrono::milliseconds delay) {
    if (std::chrono::steady_clock::now() + delay > give_up) return false;
    std::cerr << command << ": database busy or unavailable (" << e.what() << "); retrying in "
              << delay.count() << " ms\n";
    std::this_thread::sleep_for(delay);
    return true;
  };
}

std::string describe_prune(const store::PruneReport& r) {
  return with_commas(static_cast<std::uint64_t>(r.total())) + " rows deleted (" +
         with_commas(static_cast<std::uint64_t>(r.workflows)) + " workflows, " +
         with_commas(static_cast<std::uint64_t>(r.occurrences)) + " pattern occurrences, " +
         with_commas(static_cast<std::uint64_t>(r.events)) + " extraction events, " +
         with_commas(static_cast<std::uint64_t>(r.code_blocks)) + " code blocks, " +
         with_commas(static_cast<std::uint64_t>(r.dead_letters)) + " dead letters) in " +
         with_commas(static_cast<std::uint64_t>(r.transactions)) + " transactions";
}

}  // namespace patternd::app
