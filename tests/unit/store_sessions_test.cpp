// The sessions stream's effect on agent_sessions (schema/009): the same
// lifecycle events in every order give the same row, duplicates change
// nothing, and a session is active from `started` until a terminal event.

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "unit/store_batch_writer_fixture.hpp"

namespace patternd::store {
namespace {

using core::TopicKind;

class StoreSessions : public BatchWriterFixture {
 protected:
  static std::string lifecycle(const std::string& session, const std::string& state,
                               const std::string& at, const std::string& extra = "") {
    return R"({"session_id": ")" + session + R"(", "agent_name": "codex", "state": ")" + state +
           R"(", "timestamp": ")" + at + "\"" + extra + "}";
  }

  std::string row(const std::string& session) {
    return dump(
        "SELECT agent_name, first_event, last_event, state_changes, started_at, ended_at, "
        "exit_code, end_state, state, lines_processed, environment, stdout_log_path, "
        "extraction_config_version, environment_config_version FROM agent_sessions "
        "WHERE session_id = '" +
        session + "'");
  }

  std::string dump(const std::string& sql) {
    SQLite::Statement q(m_db->sql(), sql);
    std::string out;
    while (q.executeStep()) {
      for (int i = 0; i < q.getColumnCount(); ++i)
        out += (q.getColumn(i).isNull() ? std::string("NULL") : q.getColumn(i).getString()) + "|";
      out += "\n";
    }
    return out;
  }

  bool active(const std::string& session) {
    return count("SELECT count(*) FROM agent_sessions WHERE session_id = '" + session +
                 "' AND started_at IS NOT NULL AND ended_at IS NULL") == 1;
  }
};

TEST_F(StoreSessions, FourLifecycleEventsInEveryOrderGiveTheSameRow) {
  // The config versions come from different events: each field from the
  // earliest that carries it. Two events share a time (ties: identity).
  std::vector<std::string> events = {
      lifecycle("s", "started", "2026-11-20T10:00:00Z",
                R"(, "environment": "ci", "stdout_log_path": "/logs/s.out")"),
      lifecycle(
          "s", "running", "2026-11-20T10:01:00Z",
          R"(, "lines_processed": 700, "extraction_config_version": "v3", "environment": "dev")"),
      lifecycle("s", "paused", "2026-11-20T10:01:00Z",
                R"(, "lines_processed": 650, "environment_config_version": "e1")"),
      lifecycle("s", "completed", "2026-11-20T10:05:00Z",
                R"(, "exit_code": 0, "lines_processed": 1200, "extraction_config_version": "v4")"),
  };
  std::sort(events.begin(), events.end());
  std::string first;
  int orders = 0;
  do {
    m_db->sql().exec("DELETE FROM agent_sessions; DELETE FROM session_state_changes");
    for (const auto& e : events) m_writer->write(batch(TopicKind::sessions, {e}));
    const std::string got = row("s");
    if (orders++ == 0) {
      first = got;
      // By hand: started 10:00, ended 10:05 with 0, completed, environment
      // and log from `started`, config versions from the earliest carrier.
      EXPECT_EQ(got,
                "codex|1795168800000|1795169100000|4|1795168800000|1795169100000|0|completed|"
                "completed|1200|ci|/logs/s.out|v3|e1|\n");
    }
    EXPECT_EQ(got, first) << "order " << orders;
  } while (std::next_permutation(events.begin(), events.end()));
  EXPECT_EQ(orders, 24);
  EXPECT_FALSE(active("s"));

  // Delivered again, all of them: nothing changes, each counted a duplicate.
  const auto again = m_writer->write(batch(TopicKind::sessions, events));
  EXPECT_EQ(again.topic(TopicKind::sessions).duplicates, 4u);
  EXPECT_EQ(row("s"), first);
  EXPECT_EQ(count("SELECT count(*) FROM session_state_changes"), 4);
}

TEST_F(StoreSessions, ASessionIsActiveFromStartedUntilATerminalEvent) {
  m_writer->write(
      batch(TopicKind::sessions,
            {lifecycle("only-started", "started", "2026-11-20T10:00:00Z"),
             lifecycle("killed", "started", "2026-11-20T10:00:00Z"),
             lifecycle("killed", "killed", "2026-11-20T10:03:00Z", R"(, "exit_code": 137)"),
             lifecycle("never-started", "running", "2026-11-20T10:00:00Z")}));
  EXPECT_TRUE(active("only-started"));
  EXPECT_FALSE(active("killed"));
  EXPECT_FALSE(active("never-started"));
  EXPECT_EQ(count("SELECT exit_code FROM agent_sessions WHERE session_id = 'killed'"), 137);
  // Extraction events keep maintaining the same row.
  m_writer->write(batch(
      TopicKind::extractions,
      {R"({"agent_name": "codex", "session_id": "only-started", "event_type": "command", "timestamp": "2026-11-20T10:01:00Z"})"}));
  EXPECT_EQ(count("SELECT event_count * 10 + state_changes FROM agent_sessions WHERE "
                  "session_id = 'only-started'"),
            11);
  EXPECT_TRUE(active("only-started"));
}

}  // namespace
}  // namespace patternd::store
