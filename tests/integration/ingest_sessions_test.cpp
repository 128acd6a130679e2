// `patternd ingest --topic sessions` end to end (SPEC section 12, issue 18):
// the lifecycle events of a 10,000-session fleet give the same session rows
// in any order, cut in any batches, sent any number of times; a session is
// active while it has a `started` event and no terminal one. Every test runs
// on both backends (support/test_store.hpp).

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "core/time.hpp"
#include "support/helpers.hpp"
#include "support/test_store.hpp"

namespace patternd {
namespace {

using testing::CommandResult;
using testing::run_patternd;
using testing::TempDir;
using testing::TestStore;

constexpr const char* k_start = "2026-11-01T00:00:00Z";
// --kind sessions tells about 4.9 lifecycle events a session (worker/fleet):
// 54,000 messages, 5% of them duplicates, are a little over 10,000 sessions.
constexpr int k_count = 54000;
constexpr std::size_t k_sessions = 10000;
// Sessions the fleet never makes (its sessions that do not end report
// `running` too, and it starts and ends each once): only `started`, a
// `killed` without a `started`, and restarted ones with two of each.
constexpr int k_only_started = 25;
constexpr int k_killed_unstarted = 5;
constexpr int k_restarted = 10;

CommandResult ingest(const std::string& config, const std::string& input,
                     const std::string& stdin_text = "", const std::string& batch_size = "20000") {
  return run_patternd(
      {"ingest", "--config", config, "--topic", "sessions", "--batch-size", batch_size, input},
      stdin_text);
}

std::string text(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

std::string all_tables(const std::string& db) {
  std::string out;
  for (const auto& table : testing::table_names(db))
    out += "== " + table + "\n" + testing::dump_table(db, table);
  return out;
}

// Two dumps (a row a line) hold the same rows; if not, the failure shows the
// rows only one of them has. (EXPECT_EQ would print both dumps and gtest's
// diff of strings this long takes more memory than a test machine has.)
::testing::AssertionResult same_rows(const std::string& actual, const std::string& expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  auto rows = [](const std::string& dump) {
    std::vector<std::string> out;
    std::istringstream in(dump);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    std::sort(out.begin(), out.end());
    return out;
  };
  const auto a = rows(actual), e = rows(expected);
  std::vector<std::string> only_actual, only_expected;
  std::set_difference(a.begin(), a.end(), e.begin(), e.end(), std::back_inserter(only_actual));
  std::set_difference(e.begin(), e.end(), a.begin(), a.end(), std::back_inserter(only_expected));
  auto failure = ::testing::AssertionFailure()
                 << a.size() << " rows, " << e.size() << " expected; " << only_actual.size()
                 << " not expected, " << only_expected.size() << " missing";
  for (std::size_t i = 0; i < std::min<std::size_t>(5, only_actual.size()); ++i)
    failure << "\n  not expected: " << only_actual[i].substr(0, 1000);
  for (std::size_t i = 0; i < std::min<std::size_t>(5, only_expected.size()); ++i)
    failure << "\n  missing:      " << only_expected[i].substr(0, 1000);
  return failure;
}

std::int64_t count(const std::string& db_path, const std::string& sql) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  return db.execAndGet(sql).getInt64();
}

template <typename T>
std::string text_of(const std::optional<T>& value) {
  return value ? std::to_string(*value) : "NULL";
}

bool is_terminal(const std::string& state) {
  return state == "completed" || state == "failed" || state == "killed";
}

// What the distinct lifecycle events of one session say, read from the input
// itself (not from patternd).
struct Story {
  std::set<std::string> states;
  std::optional<core::TimestampMs> started_at;  // the earliest `started`
  std::optional<core::TimestampMs> ended_at;    // the latest terminal event's
  std::string end_state;
  std::optional<std::int64_t> exit_code;
  std::optional<std::int64_t> lines;       // the most processed
  std::optional<std::string> environment;  // the earliest event's that has one
  core::TimestampMs environment_time = 0;
  std::string latest_state;  // the latest event's
  core::TimestampMs latest_time = 0;
  bool latest_tied = false;  // two events at that time: the identity decides
  int events = 0;
  bool active() const { return started_at && !ended_at; }
};

std::map<std::string, Story> stories(const std::vector<std::string>& lines) {
  std::map<std::string, Story> out;
  for (const std::string& line : std::set<std::string>(lines.begin(), lines.end())) {
    const auto e = nlohmann::json::parse(line);
    Story& s = out[e.at("session_id").get<std::string>()];
    const std::string state = e.at("state").get<std::string>();
    const auto time = core::parse_rfc3339(e.at("timestamp").get<std::string>());
    if (!time) throw std::runtime_error("no timestamp in " + line);
    s.states.insert(state);
    s.events += 1;
    if (s.events == 1 || *time > s.latest_time) {
      s.latest_state = state;
      s.latest_time = *time;
      s.latest_tied = false;
    } else if (*time == s.latest_time) {
      s.latest_tied = true;
    }
    if (state == "started" && (!s.started_at || *time < *s.started_at)) s.started_at = *time;
    if (is_terminal(state) && (!s.ended_at || *time > *s.ended_at)) {
      s.ended_at = *time;
      s.end_state = state;
      s.exit_code.reset();
      if (e.contains("exit_code")) s.exit_code = e.at("exit_code").get<std::int64_t>();
    }
    if (e.contains("lines_processed"))
      s.lines = std::max(s.lines.value_or(0), e.at("lines_processed").get<std::int64_t>());
    if (e.contains("environment") && (!s.environment || *time < s.environment_time)) {
      s.environment = e.at("environment").get<std::string>();
      s.environment_time = *time;
    }
  }
  return out;
}

class IngestSessions : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<TestStore> store_in(const TempDir& dir) const {
    return testing::store_for(GetParam(), dir, "sessions");
  }
  static std::string config_in(const TestStore& store, const TempDir& dir) {
    return testing::write_config(dir, "patternd.yaml", "", store.config_yaml());
  }

  void SetUp() override {
    const std::string produced = m_data.file("produced.jsonl");
    const CommandResult r = run_patternd(
        {"produce", "--kind", "sessions", "--count", std::to_string(k_count), "--seed", "18",
         "--duplicates", "0.05", "--invalid", "0", "--start", k_start, "--output", produced});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    m_lines = testing::read_lines(produced);
    ASSERT_EQ(m_lines.size(), static_cast<std::size_t>(k_count));

    const core::TimestampMs start = *core::parse_rfc3339(k_start);
    const std::string agents[3] = {"codex", "ci-fixer", "deploy-bot"};
    for (int i = 0; i < k_only_started; ++i) {
      const std::string id = "sess_only_started_" + std::to_string(i);
      m_lines.push_back(
          nlohmann::json{{"session_id", id},
                         {"agent_name", agents[i % 3]},
                         {"state", "started"},
                         {"timestamp", core::format_rfc3339(start + 3'600'000LL * i + 17)},
                         {"environment", "ci"},
                         {"stdout_log_path", "/var/log/agents/" + id + ".out"}}
              .dump());
    }
    for (int i = 0; i < k_killed_unstarted; ++i) {
      m_lines.push_back(
          nlohmann::json{{"session_id", "sess_killed_unstarted_" + std::to_string(i)},
                         {"agent_name", agents[i % 3]},
                         {"state", "killed"},
                         {"timestamp", core::format_rfc3339(start + 7'200'000LL * i + 29)},
                         {"exit_code", 137},
                         {"lines_processed", 40 + i},
                         {"metadata", {{"reason", "out of memory"}}}}
              .dump());
    }
    // started, running, killed or failed, started again, completed (or the
    // other way round): the earliest start and the latest end count.
    for (int i = 0; i < k_restarted; ++i) {
      const std::string id = "sess_restarted_" + std::to_string(i);
      const core::TimestampMs t = start + 5'000'000LL * i + 41;
      const bool killed_last = i % 2 == 1;
      auto event = [&](const std::string& state, core::TimestampMs at) {
        return nlohmann::json{{"session_id", id},
                              {"agent_name", agents[i % 3]},
                              {"state", state},
                              {"timestamp", core::format_rfc3339(at)}};
      };
      auto started = event("started", t);
      started["environment"] = "staging";
      auto running = event("running", t + 1000);
      running["lines_processed"] = 100 + i;
      auto first_end = event(killed_last ? "failed" : "killed", t + 2000);
      first_end["exit_code"] = killed_last ? 1 : 137;
      auto restarted = event("started", t + 3000);
      restarted["environment"] = "dev";
      auto last_end = event(killed_last ? "killed" : "completed", t + 4000);
      last_end["exit_code"] = killed_last ? 143 : 0;
      last_end["lines_processed"] = 300 + i;
      for (const auto& e : {started, running, first_end, restarted, last_end})
        m_lines.push_back(e.dump());
    }
    m_input = m_data.file("sessions.jsonl");
    testing::write_file(m_input, text(m_lines));
    m_stories = stories(m_lines);
    m_distinct_events = std::set<std::string>(m_lines.begin(), m_lines.end()).size();
  }

  // The input shuffled, every 7th line sent again, shuffled once more.
  std::vector<std::string> shuffled_with_duplicates() const {
    std::mt19937 rng(2026);
    std::vector<std::string> lines = m_lines;
    std::shuffle(lines.begin(), lines.end(), rng);
    for (std::size_t i = 0, n = lines.size(); i < n; i += 7) lines.push_back(lines[i]);
    std::shuffle(lines.begin(), lines.end(), rng);
    return lines;
  }

  TempDir m_data;
  std::vector<std::string> m_lines;
  std::string m_input;
  std::map<std::string, Story> m_stories;
  std::size_t m_distinct_events = 0;
};

TEST_P(IngestSessions, ShuffledDuplicatedAndSplitRunsGiveTheSessionRowsOfOneRun) {
  ASSERT_GE(m_stories.size(), k_sessions);

  TempDir single;
  const auto single_store = store_in(single);
  const std::string single_config = config_in(*single_store, single);
  const CommandResult once = ingest(single_config, m_input);
  ASSERT_EQ(once.exit_code, 0) << once.err;
  const std::string single_db = single_store->sqlite_copy();
  // One row per session, one state change per distinct event.
  EXPECT_EQ(count(single_db, "SELECT count(*) FROM agent_sessions"),
            static_cast<std::int64_t>(m_stories.size()));
  EXPECT_EQ(count(single_db, "SELECT count(*) FROM session_state_changes"),
            static_cast<std::int64_t>(m_distinct_events));
  EXPECT_EQ(count(single_db, "SELECT sum(state_changes) FROM agent_sessions"),
            static_cast<std::int64_t>(m_distinct_events));

  // The same events shuffled, with more duplicates, split into three parts
  // ingested in separate runs with a small batch size (so batches cut
  // differently), the middle one through standard input.
  TempDir split;
  const auto split_store = store_in(split);
  const std::string split_config = config_in(*split_store, split);
  const std::vector<std::string> lines = shuffled_with_duplicates();
  ASSERT_GT(lines.size(), m_lines.size());
  std::vector<std::string> parts[3];
  for (std::size_t i = 0; i < lines.size(); ++i) parts[i % 3].push_back(lines[i]);
  for (int part : {2, 1, 0}) {
    CommandResult r;
    if (part == 1) {
      r = ingest(split_config, "-", text(parts[part]), "97");
    } else {
      const std::string path = split.file("part" + std::to_string(part) + ".jsonl");
      testing::write_file(path, text(parts[part]));
      r = ingest(split_config, path, "", "97");
    }
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string split_db = split_store->sqlite_copy();

  // The session rows, every column but the row id (the *_rank columns too).
  const std::string sessions = testing::dump_table(single_db, "agent_sessions", {"id"});
  ASSERT_NE(sessions.find("session_id=sess_only_started_0|"), std::string::npos);
  EXPECT_TRUE(same_rows(testing::dump_table(split_db, "agent_sessions", {"id"}), sessions));
  EXPECT_TRUE(same_rows(testing::dump_table(split_db, "session_state_changes", {"id"}),
                        testing::dump_table(single_db, "session_state_changes", {"id"})));
  // Stronger: every fact in every table is the same.
  EXPECT_TRUE(
      same_rows(testing::canonical_database(split_db), testing::canonical_database(single_db)));

  // The whole input once more: nothing new, nothing changes, row ids included.
  const std::string before = all_tables(single_db);
  const CommandResult again = ingest(single_config, m_input);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("persisted     0\n"), std::string::npos) << again.err;
  EXPECT_TRUE(same_rows(all_tables(single_store->sqlite_copy()), before));
}

TEST_P(IngestSessions, ASessionWithOnlyStartedIsActiveAndAnEndedOneIsNot) {
  // Out of order and with duplicates: the rows must still follow the events.
  TempDir dir;
  const auto store = store_in(dir);
  const std::string config = config_in(*store, dir);
  const CommandResult r = ingest(config, "-", text(shuffled_with_duplicates()), "997");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string db_path = store->sqlite_copy();
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);

  // Active as the schema defines it (and as the read API's index reads it).
  std::set<std::string> active;
  SQLite::Statement q(
      db,
      "SELECT session_id FROM agent_sessions WHERE started_at IS NOT NULL AND ended_at IS NULL");
  while (q.executeStep()) active.insert(q.getColumn(0).getString());
  std::set<std::string> expected_active;
  for (const auto& [id, story] : m_stories)
    if (story.active()) expected_active.insert(id);
  EXPECT_EQ(active, expected_active);

  // Each session's row against what its events say (mismatches collected:
  // a bug shows in thousands of sessions, the failure names the first few).
  SQLite::Statement row(db,
                        "SELECT started_at, ended_at, end_state, exit_code, state, state_changes, "
                        "lines_processed, environment FROM agent_sessions WHERE session_id = ?");
  std::vector<std::string> mismatches;
  std::size_t only_started = 0, killed = 0, ended = 0, killed_unstarted = 0, restarted = 0;
  for (const auto& [id, story] : m_stories) {
    row.reset();
    row.bind(1, id);
    if (!row.executeStep()) {
      mismatches.push_back(id + ": no row");
      continue;
    }
    auto column = [&](int c) {
      return row.getColumn(c).isNull() ? std::string("NULL") : row.getColumn(c).getString();
    };
    const std::string got = "started_at=" + column(0) + " ended_at=" + column(1) +
                            " end_state=" + column(2) + " exit_code=" + column(3) +
                            " state=" + column(4) + " state_changes=" + column(5) +
                            " lines_processed=" + column(6) + " environment=" + column(7);
    const std::string want = "started_at=" + text_of(story.started_at) +
                             " ended_at=" + text_of(story.ended_at) +
                             " end_state=" + (story.ended_at ? story.end_state : "NULL") +
                             " exit_code=" + text_of(story.exit_code) +
                             " state=" + (story.latest_tied ? column(4) : story.latest_state) +
                             " state_changes=" + std::to_string(story.events) +
                             " lines_processed=" + text_of(story.lines) +
                             " environment=" + story.environment.value_or("NULL");
    if (got != want) mismatches.push_back(id + ":\n    got  " + got + "\n    want " + want);
    // Active exactly when the events say so (checked above as a set too).
    const bool row_active = column(0) != "NULL" && column(1) == "NULL";
    if (row_active != story.active())
      mismatches.push_back(id + (row_active ? ": active" : ": not active"));

    if (story.states == std::set<std::string>{"started"}) ++only_started;
    if (story.ended_at) ++ended;
    if (story.states.count("killed")) ++killed;
    if (story.states.count("killed") && !story.started_at) ++killed_unstarted;
    if (id.rfind("sess_restarted_", 0) == 0) ++restarted;
  }
  std::string first;
  for (std::size_t i = 0; i < std::min<std::size_t>(10, mismatches.size()); ++i)
    first += "\n  " + mismatches[i];
  EXPECT_TRUE(mismatches.empty()) << mismatches.size() << " mismatches, the first:" << first;
  EXPECT_EQ(count(db_path, "SELECT count(*) FROM agent_sessions"),
            static_cast<std::int64_t>(m_stories.size()));

  // The same two claims in the database's own terms: a session whose only
  // state changes are `started` is active; one with a terminal state change
  // (killed among them) has ended and is not.
  const std::string only_started_sql =
      "FROM agent_sessions s WHERE s.state_changes > 0 AND NOT EXISTS (SELECT 1 FROM "
      "session_state_changes c WHERE c.session_id = s.session_id AND c.state <> 'started')";
  EXPECT_EQ(count(db_path, "SELECT count(*) " + only_started_sql),
            static_cast<std::int64_t>(k_only_started));
  EXPECT_EQ(count(db_path, "SELECT count(*) " + only_started_sql +
                               " AND (s.started_at IS NULL OR s.ended_at IS "
                               "NOT NULL OR s.state <> 'started')"),
            0);
  const std::string ended_sql =
      "FROM agent_sessions s WHERE EXISTS (SELECT 1 FROM session_state_changes c WHERE "
      "c.session_id = s.session_id AND c.state IN ('completed', 'failed', 'killed'))";
  EXPECT_EQ(count(db_path, "SELECT count(*) " + ended_sql), static_cast<std::int64_t>(ended));
  EXPECT_EQ(count(db_path, "SELECT count(*) " + ended_sql +
                               " AND (s.ended_at IS NULL OR s.end_state IS NULL)"),
            0);
  EXPECT_EQ(count(db_path,
                  "SELECT count(*) FROM agent_sessions s WHERE EXISTS (SELECT 1 FROM "
                  "session_state_changes c WHERE c.session_id = s.session_id AND c.state = "
                  "'killed')"),
            static_cast<std::int64_t>(killed));

  // Not vacuous: there are sessions of each kind, the fleet's among them.
  EXPECT_EQ(only_started, static_cast<std::size_t>(k_only_started));
  EXPECT_EQ(killed_unstarted, static_cast<std::size_t>(k_killed_unstarted));
  EXPECT_EQ(restarted, static_cast<std::size_t>(k_restarted));
  EXPECT_GT(killed, killed_unstarted);
  EXPECT_GT(expected_active.size(), only_started);
  EXPECT_GT(ended, killed);
}

INSTANTIATE_TEST_SUITE_P(Backends, IngestSessions, ::testing::ValuesIn(testing::backend_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace patternd
