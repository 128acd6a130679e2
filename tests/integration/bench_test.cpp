// bench/run on tiny sizes: every scenario of the table runs against the real
// binary and broker and prints a figure, so the benchmark cannot rot between
// the times someone measures with it. (The figures themselves are not
// asserted: timing goals live in the benchmark, not in tests.)

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "support/helpers.hpp"

namespace patternd {
namespace {

TEST(Bench, RunPrintsEveryFigureOfTheTable) {
  testing::TempDir dir;
  const auto r = testing::run_command({"env", "BENCH_RUNS=1", "BENCH_MESSAGES=3000",
                                       "BENCH_BIG=4000", "BENCH_STORED=6000", "BENCH_LIVE_RATE=400",
                                       "BENCH_CACHE=" + dir.path().string(), "bash",
                                       testing::source_path("bench/run"), PATTERND_BINARY});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const std::string label : {"drain 3000 mixed into an empty database, msg/s",
                                  "batch write latency p50, ms",
                                  "batch write latency p99, ms",
                                  "slowest batch write, ms",
                                  "bytes written per message (write calls",
                                  "bytes to storage per message",
                                  "reload the same rows in one transaction, s",
                                  "worker's drain time / SQLite's reload time",
                                  "SQLite copying them",
                                  "drain 3000 into 6000 stored rows, msg/s",
                                  "ratio to the empty database's median",
                                  "live fleet at 400 msg/s: write latency p50, ms",
                                  "(target < 50)",
                                  "ingest (backfill) 3000 mixed, msg/s",
                                  "drain 4000, peak RSS MB",
                                  "drain 4000, msg/s",
                                  "error lookup p99, ms",
                                  "page of 50 extractions by agent and type p99",
                                  "session replay's first byte p99, ms",
                                  "ratio to without reads",
                                  "read errors (non-200)",
                                  "without the read indexes, msg/s",
                                  "with them / without them"}) {
    // The label, then a number (a median, possibly followed by [min - max]).
    const std::regex row(
        std::regex_replace(label, std::regex(R"([.*+?^${}()|\[\]\\/])"), R"(\$&)") +
        R"([^\n]*  [0-9]+(\.[0-9]+)?( \[|\n))");
    EXPECT_TRUE(std::regex_search(r.out, row)) << label << "\n" << r.out;
  }
  // The "stored rows" figure really had them stored (stored-6000-vN.db).
  std::string prefilled;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    if (entry.path().filename().string().rfind("stored-6000-v", 0) == 0) prefilled = entry.path();
  ASSERT_FALSE(prefilled.empty());
  const auto stored = testing::run_command({"sqlite3", prefilled,
                                            "SELECT (SELECT count(*) FROM workflow_history) + "
                                            "(SELECT count(*) FROM extraction_events) + "
                                            "(SELECT count(*) FROM outcomes)"});
  EXPECT_EQ(stored.out, "6000\n") << stored.err;
}

}  // namespace
}  // namespace patternd
