#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/time.hpp"
#include "unit/store_batch_writer_fixture.hpp"

namespace patternd::store {
namespace {

using core::TopicKind;

class StoreAccumulator : public BatchWriterFixture {};

TEST_F(StoreAccumulator, TheStatsViewDerivesConfidenceAndSavingsByHand) {
  // 10 runs of one pattern, 8 successes, costs 0.10 .. 1.00 (avg 0.55),
  // 3 of them today, 7 of them 40 days ago (outside the 30-day window).
  std::vector<std::string> payloads;
  const core::TimestampMs now = core::now_ms();
  for (int i = 1; i <= 10; ++i) {
    const core::TimestampMs at = i <= 3 ? now - 60'000 : now - 40LL * 86'400'000;
    payloads.push_back(workflow("w" + std::to_string(i), "Lint the backend with ruff", 0.1 * i,
                                i <= 8 ? "completed" : "failed", 0, core::format_rfc3339(at)));
  }
  m_writer->write(batch(TopicKind::workflows, payloads));

  SQLite::Statement q(m_db->sql(),
                      "SELECT occurrences, successes, avg_cost_usd, tool_cost_usd, "
                      "savings_per_run_usd, runs_last_30_days, savings_last_30_days_usd, "
                      "confidence, avg_tokens, avg_duration_seconds FROM operation_pattern_stats "
                      "WHERE pattern_signature = 'lint:ruff:backend'");
  ASSERT_TRUE(q.executeStep());
  EXPECT_EQ(q.getColumn(0).getInt64(), 10);
  EXPECT_EQ(q.getColumn(1).getInt64(), 8);
  EXPECT_NEAR(q.getColumn(2).getDouble(), 0.55, 1e-12);    // 5.50 / 10
  EXPECT_NEAR(q.getColumn(3).getDouble(), 0.0275, 1e-12);  // 5% of 0.55
  EXPECT_NEAR(q.getColumn(4).getDouble(), 0.5225, 1e-12);  // 0.55 - 0.0275
  EXPECT_EQ(q.getColumn(5).getInt64(), 3);
  EXPECT_NEAR(q.getColumn(6).getDouble(), 1.5675, 1e-12);  // 3 x 0.5225
  // Wilson lower bound, z = 1.96, p = 0.8, n = 10:
  // (0.8 + 0.19208 - 1.96 * sqrt((0.16 + 0.09604) / 10)) / 1.38416 = 0.490157
  EXPECT_NEAR(q.getColumn(7).getDouble(), 0.4901568467, 1e-9);
  EXPECT_NEAR(q.getColumn(8).getDouble(), 1000.0, 1e-12);
  EXPECT_NEAR(q.getColumn(9).getDouble(), 60.0, 1e-12);
}

TEST_F(StoreAccumulator, WilsonBoundsAtTheEdges) {
  // One success of one run: (1 + 1.9208 - 1.96 * 0.98) / 4.8416 = 1 / 4.8416.
  m_writer->write(batch(TopicKind::workflows, {workflow("one", "Run mypy", 1.0)}));
  // No success in four runs: the bound is 0.
  m_writer->write(batch(TopicKind::workflows, {workflow("f1", "Run black", 1.0, "failed"),
                                               workflow("f2", "Run black", 1.0, "cancelled"),
                                               workflow("f3", "Run black", 1.0, "completed", 1),
                                               workflow("f4", "Run black", 1.0, "failed")}));
  EXPECT_NEAR(m_db->sql()
                  .execAndGet("SELECT confidence FROM operation_pattern_stats WHERE "
                              "pattern_signature = 'typecheck:mypy:any'")
                  .getDouble(),
              1.0 / 4.8416, 1e-12);
  EXPECT_NEAR(m_db->sql()
                  .execAndGet("SELECT confidence FROM operation_pattern_stats WHERE "
                              "pattern_signature = 'format:black:any'")
                  .getDouble(),
              0.0, 1e-12);
}

TEST_F(StoreAccumulator, FailuresCountDistinctAgentsAndSessionsAndKeepTheEarliestExample) {
  auto error = [](const std::string& id, const std::string& agent, const std::string& session,
                  const std::string& at, const std::string& text) {
    return R"({"event_id": ")" + id + R"(", "agent_name": ")" + agent + R"(", "session_id": ")" +
           session + R"(", "event_type": "error", "timestamp": ")" + at +
           R"(", "matched_value": ")" + text + R"("})";
  };
  m_writer->write(
      batch(TopicKind::extractions,
            {error("e1", "codex", "s1", "2026-11-20T10:00:05Z", "KeyError: 'a' at line 3"),
             error("e2", "codex", "s2", "2026-11-20T10:00:01Z", "KeyError: 'b' at line 9")}));
  m_writer->write(
      batch(TopicKind::extractions,
            {error("e3", "ci-fixer", "s1", "2026-11-20T10:00:03Z", "KeyError: 'c' at line 1"),
             error("e1", "codex", "s1", "2026-11-20T10:00:05Z", "KeyError: 'a' at line 3")}));
  SQLite::Statement q(m_db->sql(),
                      "SELECT signature, error_type, example, frequency, agent_count, "
                      "session_count FROM failure_patterns");
  ASSERT_TRUE(q.executeStep());
  EXPECT_EQ(q.getColumn(0).getString(), "KeyError: <str> at line <n>");
  EXPECT_EQ(q.getColumn(1).getString(), "KeyError");
  EXPECT_EQ(q.getColumn(2).getString(), "KeyError: 'b' at line 9");
  EXPECT_EQ(q.getColumn(3).getInt64(), 3);
  EXPECT_EQ(q.getColumn(4).getInt64(), 2);
  EXPECT_EQ(q.getColumn(5).getInt64(), 2);
  EXPECT_FALSE(q.executeStep());

  SQLite::Statement s(m_db->sql(),
                      "SELECT agent_name, event_count, error_count FROM agent_sessions WHERE "
                      "session_id = 's1'");
  ASSERT_TRUE(s.executeStep());
  EXPECT_EQ(s.getColumn(0).getString(), "ci-fixer");  // its earliest event's agent
  EXPECT_EQ(s.getColumn(1).getInt64(), 2);
  EXPECT_EQ(s.getColumn(2).getInt64(), 2);
}

}  // namespace
}  // namespace patternd::store
