// `patternd report --config FILE [--top N] [--format table|json]`.

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/commands.hpp"
#include "app/common.hpp"
#include "core/text.hpp"
#include "store/store.hpp"

namespace patternd::app {
namespace {

struct ReportOptions {
  std::string config_path;
  std::size_t top = 10;
  std::string format = "table";
};

nlohmann::json to_json(const store::Report& r) {
  using nlohmann::json;
  json operations = json::array();
  for (const auto& o : r.operations)
    operations.push_back({{"signature", o.signature},
                          {"category", o.category},
                          {"tool", o.tool},
                          {"target", o.target},
                          {"occurrences", o.occurrences},
                          {"successes", o.successes},
                          {"confidence", o.confidence},
                          {"avg_tokens", o.avg_tokens},
                          {"avg_cost_usd", o.avg_cost_usd},
                          {"tool_cost_usd", o.tool_cost_usd},
                          {"savings_per_run_usd", o.savings_per_run_usd},
                          {"runs_last_30_days", o.runs_last_30_days},
                          {"savings_last_30_days_usd", o.savings_last_30_days_usd},
                          {"avg_duration_seconds", o.avg_duration_seconds},
                          {"first_seen", core::format_rfc3339(o.first_seen)},
                          {"last_seen", core::format_rfc3339(o.last_seen)}});
  json failures = json::array();
  for (const auto& f : r.failures) {
    json fixes = json::array();
    for (const auto& x : f.top_fixes)
      fixes.push_back({{"pattern", x.pattern},
                       {"fix_example", x.fix_example ? json(*x.fix_example) : json(nullptr)},
                       {"attempts", x.attempts},
                       {"successes", x.successes},
                       {"confidence", x.confidence}});
    failures.push_back({{"signature", f.signature},
                        {"error_type", f.error_type},
                        {"example", f.example},
                        {"frequency", f.frequency},
                        {"agents", f.agent_count},
                        {"sessions", f.session_count},
                        {"first_seen", core::format_rfc3339(f.first_seen)},
                        {"last_seen", core::format_rfc3339(f.last_seen)},
                        {"fixes", std::move(fixes)}});
  }
  json reasons = json::object();
  for (const auto& [reason, count] : r.dead_letters_by_reason) reasons[reason] = count;
  return {{"rules_version", r.rules_version},
          {"counts",
           {{"workflows", r.workflows},
            {"extraction_events", r.extraction_events},
            {"sessions", r.sessions},
            {"code_blocks", r.code_blocks},
            {"operation_patterns", r.operation_patterns},
            {"failure_patterns", r.failure_patterns},
            {"dead_letters", r.dead_letters}}},
          {"dead_letters_by_reason", reasons},
          {"operation_patterns", operations},
          {"failure_patterns", failures}};
}

// Escaped first (the text comes from events: it may hold terminal escapes),
// then cut to the column.
std::string clip(const std::string& raw, std::size_t width) {
  const std::string text = core::escape_for_terminal(raw);
  if (text.size() <= width) return text;
  std::size_t cut = width - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

void print_table(const store::Report& r) {
  std::printf("Operation patterns (top %zu of %lld)  rules %s\n", r.operations.size(),
              static_cast<long long>(r.operation_patterns),
              core::escape_for_terminal(r.rules_version.substr(0, 12)).c_str());
  std::printf("  %-34s %8s %6s %10s %10s %10s %12s\n", "signature", "runs", "conf", "avg cost",
              "saves/run", "runs 30d", "saved 30d");
  for (const auto& o : r.operations)
    std::printf("  %-34s %8lld %6.3f %9.4f$ %9.4f$ %10lld %11.2f$\n", clip(o.signature, 34).c_str(),
                static_cast<long long>(o.occurrences), o.confidence, o.avg_cost_usd,
                o.savings_per_run_usd, static_cast<long long>(o.runs_last_30_days),
                o.savings_last_30_days_usd);

  std::printf("\nFailure signatures (top %zu of %lld)\n", r.failures.size(),
              static_cast<long long>(r.failure_patterns));
  std::printf("  %8s %7s %9s  %-24s %s\n", "count", "agents", "sessions", "type", "signature");
  for (const auto& f : r.failures) {
    std::printf("  %8lld %7lld %9lld  %-24s %s\n", static_cast<long long>(f.frequency),
                static_cast<long long>(f.agent_count), static_cast<long long>(f.session_count),
                clip(f.error_type, 24).c_str(), clip(f.signature, 90).c_str());
    // What worked against it, best first (Wilson confidence).
    for (const auto& x : f.top_fixes)
      std::printf("  %36s fix %-20s %lld/%lld  conf %.3f  %s\n", "", clip(x.pattern, 20).c_str(),
                  static_cast<long long>(x.successes), static_cast<long long>(x.attempts),
                  x.confidence, clip(x.fix_example.value_or("-"), 60).c_str());
  }

  std::printf("\nStored: %s workflows, %s extraction events, %s sessions, %s code blocks\n",
              with_commas(static_cast<std::uint64_t>(r.workflows)).c_str(),
              with_commas(static_cast<std::uint64_t>(r.extraction_events)).c_str(),
              with_commas(static_cast<std::uint64_t>(r.sessions)).c_str(),
              with_commas(static_cast<std::uint64_t>(r.code_blocks)).c_str());
  std::printf("Dead letters: %s", with_commas(static_cast<std::uint64_t>(r.dead_letters)).c_str());
  const char* separator = " (";
  for (const auto& [reason, count] : r.dead_letters_by_reason) {
    std::printf("%s%s %lld", separator, core::escape_for_terminal(reason).c_str(),
                static_cast<long long>(count));
    separator = ", ";
  }
  std::printf("%s\n", r.dead_letters_by_reason.empty() ? "" : ")");
}

}  // namespace

void add_report(CLI::App& app, Action& run) {
  auto options = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand(
      "report",
      "Top operation patterns (with savings and confidence), top failure signatures, session "
      "and dead-letter counts");
  cmd->add_option("--config", options->config_path, "the YAML config file")->required();
  cmd->add_option("--top", options->top, "how many patterns of each kind")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--format", options->format, "table (for people) or json (for programs)")
      ->check(CLI::IsMember({"table", "json"}));
  cmd->callback([&run, options] {
    run = [options] {
      const config::Config config = load_config(options->config_path);
      auto store = store::open_store(config, store::Access::read_only);
      if (!store) throw std::runtime_error(store.error().message);
      const store::Report report = (*store)->report(options->top);
      if (options->format == "json") {
        std::cout << to_json(report).dump(2) << "\n";
      } else {
        print_table(report);
      }
      return 0;
    };
  });
}

}  // namespace patternd::app
