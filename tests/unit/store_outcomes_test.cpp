// The outcomes stream's tables (schema/008) by hand: failure_fixes per
// (signature, approach), outcome_stats, the session's count, the example fix,
// Wilson confidence, and the same tables whatever the order of arrival.

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "core/statistics.hpp"
#include "store/prune.hpp"
#include "store/redetect.hpp"
#include "unit/store_batch_writer_fixture.hpp"

namespace patternd::store {
namespace {

using core::TopicKind;

class StoreOutcomes : public BatchWriterFixture {
 protected:
  static std::string outcome(const std::string& id, const std::string& agent,
                             const std::string& pattern, bool success, const std::string& at,
                             const std::string& error, const std::string& fix = "",
                             int duration_ms = -1, const std::string& session = "sess-1") {
    std::string s = R"({"outcome_id": ")" + id + R"(", "agent_name": ")" + agent +
                    R"(", "session_id": ")" + session + R"(", "timestamp": ")" + at +
                    R"(", "pattern": ")" + pattern + R"(", "success": )" +
                    (success ? "true" : "false");
    if (!error.empty()) s += R"(, "error": ")" + error + "\"";
    if (!fix.empty()) s += R"(, "fix": ")" + fix + "\"";
    if (duration_ms >= 0) s += R"(, "duration_ms": )" + std::to_string(duration_ms);
    return s + "}";
  }

  // The corpus: one TypeError seen with different ids, paths and lines.
  // guard_null 3 of 3, retry_logic 40 of 45 (two agents), increase_timeout
  // 0 of 2, and two outcomes that name no error.
  static std::vector<std::string> corpus() {
    std::vector<std::string> out;
    const auto error = [](int i) {
      return "TypeError: Cannot read properties of undefined (reading 'f" + std::to_string(i) +
             "') at /app/src/m" + std::to_string(i) + ".js:" + std::to_string(10 + i) + ":5";
    };
    for (int i = 0; i < 3; ++i)
      out.push_back(outcome("g" + std::to_string(i), "codex", "guard_null", true,
                            "2026-11-20T10:0" + std::to_string(i) + ":00Z", error(i),
                            "guard response.data #" + std::to_string(i), 100 * (i + 1)));
    for (int i = 0; i < 45; ++i)
      out.push_back(outcome("r" + std::to_string(i), i % 3 == 0 ? "ci-fixer" : "codex",
                            "retry_logic", i < 40,
                            "2026-11-20T11:" + std::to_string(10 + i) + ":00Z", error(i + 7),
                            i == 44 ? "" : "retry #" + std::to_string(i), 10));
    out.push_back(outcome("t0", "codex", "increase_timeout", false, "2026-11-20T12:00:00Z",
                          error(1), "timeout 30s"));
    out.push_back(outcome("t1", "codex", "increase_timeout", false, "2026-11-20T11:59:00Z",
                          error(2), "timeout 60s"));
    out.push_back(outcome("n0", "codex", "retry_logic", true, "2026-11-20T09:00:00Z", ""));
    out.push_back(outcome("n1", "ci-fixer", "pin_dependency", false, "2026-11-20T09:30:00Z", "", "",
                          5, "sess-2"));
    return out;
  }

  static constexpr const char* k_signature =
      "TypeError: Cannot read properties of undefined (reading <str>) at <path>";
};

TEST_F(StoreOutcomes, FixesPerSignatureAndApproachAreCountedByHand) {
  const auto all = corpus();
  const auto written = m_writer->write(batch(TopicKind::outcomes, all));
  EXPECT_EQ(written.topic(TopicKind::outcomes).persisted, all.size());

  SQLite::Statement q(m_db->sql(), R"sql(
SELECT signature, pattern, error_type, attempts, successes, duration_ms_sum, duration_count,
       first_seen, last_seen, fix_example, fix_example_rank, agent_count, confidence
FROM failure_fixes ORDER BY confidence DESC)sql");
  struct Row {
    std::string pattern;
    std::int64_t attempts, successes, duration_sum, duration_count;
    std::string first_seen, last_seen, example;
    int rank;
    std::int64_t agents;
    double confidence;
  };
  // Wilson lower bounds at z = 1.96, by hand:
  // 40/45: (40 + 1.9208 - 1.96 sqrt(40*5/45 + 0.9604)) / 48.8416 = 0.765006
  // 3/3:   (3 + 1.9208 - 1.96 * 0.98) / 6.8416 = 3 / 6.8416 = 0.438494
  // 0/2:   (0 + 1.9208 - 1.96 * 0.98) / 5.8416 = 0
  const std::vector<Row> expected = {
      {"retry_logic", 45, 40, 450, 45, "2026-11-20T11:10:00Z", "2026-11-20T11:54:00Z", "retry #0",
       0, 2, 0.765006245},
      {"guard_null", 3, 3, 600, 3, "2026-11-20T10:00:00Z", "2026-11-20T10:02:00Z",
       "guard response.data #0", 0, 1, 0.438493920},
      // No success: the example is the earliest failed attempt's text.
      {"increase_timeout", 2, 0, 0, 0, "2026-11-20T11:59:00Z", "2026-11-20T12:00:00Z",
       "timeout 60s", 1, 1, 0.0},
  };
  for (const Row& row : expected) {
    ASSERT_TRUE(q.executeStep()) << row.pattern;
    EXPECT_EQ(q.getColumn(0).getString(), k_signature);
    EXPECT_EQ(q.getColumn(1).getString(), row.pattern);
    EXPECT_EQ(q.getColumn(2).getString(), "TypeError");
    EXPECT_EQ(q.getColumn(3).getInt64(), row.attempts) << row.pattern;
    EXPECT_EQ(q.getColumn(4).getInt64(), row.successes) << row.pattern;
    EXPECT_EQ(q.getColumn(5).getInt64(), row.duration_sum) << row.pattern;
    EXPECT_EQ(q.getColumn(6).getInt64(), row.duration_count) << row.pattern;
    EXPECT_EQ(core::format_rfc3339(q.getColumn(7).getInt64()),
              row.first_seen.substr(0, 19) + ".000Z");
    EXPECT_EQ(core::format_rfc3339(q.getColumn(8).getInt64()),
              row.last_seen.substr(0, 19) + ".000Z");
    EXPECT_EQ(q.getColumn(9).getString(), row.example) << row.pattern;
    EXPECT_EQ(q.getColumn(10).getInt(), row.rank) << row.pattern;
    EXPECT_EQ(q.getColumn(11).getInt64(), row.agents) << row.pattern;
    EXPECT_NEAR(q.getColumn(12).getDouble(), row.confidence, 1e-9) << row.pattern;
    // The stored column and the function used for sums made on read agree.
    EXPECT_DOUBLE_EQ(q.getColumn(12).getDouble(),
                     core::wilson_lower_bound(row.successes, row.attempts));
  }
  EXPECT_FALSE(q.executeStep()) << "the outcomes without an error are in no failure_fixes row";

  // Per approach over all outcomes, with or without an error.
  EXPECT_EQ(count("SELECT attempts FROM outcome_stats WHERE pattern = 'retry_logic'"), 46);
  EXPECT_EQ(count("SELECT successes FROM outcome_stats WHERE pattern = 'retry_logic'"), 41);
  EXPECT_EQ(count("SELECT agent_count FROM outcome_stats WHERE pattern = 'retry_logic'"), 2);
  EXPECT_EQ(count("SELECT attempts FROM outcome_agent_stats WHERE pattern = 'retry_logic' "
                  "AND agent_name = 'ci-fixer'"),
            15);
  EXPECT_EQ(count("SELECT count(*) FROM outcome_stats"), 4);
  EXPECT_EQ(count("SELECT duration_ms_sum FROM outcome_stats WHERE pattern = 'pin_dependency'"), 5);
  // Every outcome but one is in sess-1; a session row exists for each.
  EXPECT_EQ(count("SELECT feedback_outcomes FROM agent_sessions WHERE session_id = 'sess-1'"),
            static_cast<std::int64_t>(all.size()) - 1);
  EXPECT_EQ(count("SELECT event_count FROM agent_sessions WHERE session_id = 'sess-1'"), 0);
  EXPECT_EQ(count("SELECT sum(outcomes) FROM activity_minutes"),
            static_cast<std::int64_t>(all.size()));
}

TEST_F(StoreOutcomes, TheSameOutcomesInAnyOrderAndAnyBatchesGiveTheSameTables) {
  auto all = corpus();
  m_writer->write(batch(TopicKind::outcomes, all));
  const std::string once = testing::canonical_database(m_config.storage.path);

  testing::TempDir other_dir;
  config::Config other = m_config;
  other.storage.path = other_dir.file("t.db");
  auto db = std::move(Database::open(other.storage)).value();
  BatchWriter writer(*db, other.kafka);
  std::mt19937 rng(7);
  for (int round = 0; round < 2; ++round) {  // the second round is all duplicates
    std::shuffle(all.begin(), all.end(), rng);
    for (std::size_t i = 0; i < all.size(); i += 7) {
      const std::vector<std::string> part(
          all.begin() + static_cast<std::ptrdiff_t>(i),
          all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), i + 7)));
      const auto written = writer.write(batch(TopicKind::outcomes, part));
      if (round == 1) EXPECT_EQ(written.topic(TopicKind::outcomes).duplicates, part.size());
    }
  }
  EXPECT_EQ(testing::canonical_database(other.storage.path), once);
}

TEST_F(StoreOutcomes, AnOutcomeAndAnExtractionErrorLandOnOneSignature) {
  m_writer->write(batch(
      TopicKind::extractions,
      {R"({"agent_name": "codex", "session_id": "sess-9", "event_type": "error", "timestamp": "2026-11-20T09:00:00Z", "matched_value": "TypeError: Cannot read properties of undefined (reading 'id') at /srv/a.js:1:2"})"}));
  m_writer->write(
      batch(TopicKind::outcomes, {outcome("x", "codex", "guard_null", true, "2026-11-20T09:05:00Z",
                                          "TypeError: Cannot read properties of undefined (reading "
                                          "'name') at /app/b.js:77:9",
                                          "", -1, "sess-9")}));
  EXPECT_EQ(count("SELECT count(*) FROM failure_patterns f JOIN failure_fixes x ON x.signature = "
                  "f.signature"),
            1);
  // The session has its event and its outcome; its first event is the error's.
  EXPECT_EQ(count("SELECT event_count * 10 + feedback_outcomes FROM agent_sessions"), 11);
}

TEST_F(StoreOutcomes, RedetectRebuildsTheFixesItFindsInTheRawOutcomes) {
  m_writer->write(batch(TopicKind::outcomes, corpus()));
  const auto fixes = [&] {
    return testing::dump_table(m_config.storage.path, "failure_fixes") +
           testing::dump_table(m_config.storage.path, "failure_fix_agents");
  };
  const std::string before = fixes();
  EXPECT_NE(before.find("increase_timeout"), std::string::npos) << before;
  m_db->sql().exec("UPDATE failure_fixes SET attempts = 999, fix_example = 'wrong'");
  const auto summary = redetect(*m_db, *m_rules, nullptr);
  EXPECT_EQ(summary.outcomes, 50u);  // the corpus's outcomes with an error
  EXPECT_EQ(fixes(), before);
}

TEST_F(StoreOutcomes, RetentionDeletesRawOutcomesAndKeepsWhatWasLearned) {
  const auto all = corpus();
  m_writer->write(batch(TopicKind::outcomes, all));
  const auto learned = [&] {
    return testing::dump_table(m_config.storage.path, "failure_fixes") +
           testing::dump_table(m_config.storage.path, "outcome_stats") +
           testing::dump_table(m_config.storage.path, "outcome_agent_stats");
  };
  const std::string before = learned();
  PruneOptions options;
  options.pause = std::chrono::milliseconds(0);
  const PruneReport report = prune(*m_db, core::now_ms(), options);
  // All are older than now; the newest raw row stays (ids are never reused).
  EXPECT_EQ(report.outcomes, static_cast<std::int64_t>(all.size()) - 1);
  EXPECT_EQ(count("SELECT count(*) FROM outcomes"), 1);
  EXPECT_EQ(learned(), before);
}

}  // namespace
}  // namespace patternd::store
