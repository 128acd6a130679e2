// Every series with a known label set exists from the first scrape, at 0, so
// that rate() and alerts work before anything happens.

#include "metrics/metrics.hpp"

#include <gtest/gtest.h>

namespace patternd::metrics {
namespace {

TEST(MetricsMetrics, EveryKnownLabelValueIsPresentAtZeroBeforeAnythingHappens) {
  config::Kafka kafka;
  Metrics metrics(kafka, "test", {"busy", "disk_full", "readonly", "io"});
  const std::string text = metrics.scrape();
  for (
      const char* series : {
          R"(patternd_db_errors_total{kind="busy"} 0)",
          R"(patternd_db_errors_total{kind="disk_full"} 0)",
          R"(patternd_db_errors_total{kind="io"} 0)",
          R"(patternd_messages_dead_lettered_total{reason="duplicate_key",topic="agent.workflows"} 0)",
          R"(patternd_messages_dead_lettered_total{reason="invalid_json",topic="agent.extractions"} 0)",
          R"(patternd_messages_persisted_total{topic="agent.workflows"} 0)",
          R"(patternd_rebalances_total{type="revoke"} 0)",
          R"(patternd_pattern_occurrences_new_total{kind="failure"} 0)",
      })
    EXPECT_NE(text.find(series), std::string::npos) << series << " missing from\n" << text;
}

TEST(MetricsMetrics, ADatabaseErrorMovesItsOwnSeries) {
  config::Kafka kafka;
  Metrics metrics(kafka, "test", {"busy", "io"});
  metrics.db_error("busy");
  metrics.db_error("busy");
  const std::string text = metrics.scrape();
  EXPECT_NE(text.find(R"(patternd_db_errors_total{kind="busy"} 2)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(patternd_db_errors_total{kind="io"} 0)"), std::string::npos) << text;
}

}  // namespace
}  // namespace patternd::metrics
