// `patternd ingest`, `report` and `redetect` end to end: the real binary,
// generated fleets of events, on both backends (a SQLite file, and a
// throwaway PostgreSQL server: support/test_store.hpp), and the two backends
// against each other.

#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

#include "support/helpers.hpp"
#include "support/test_store.hpp"

namespace patternd {
namespace {

using testing::CommandResult;
using testing::run_patternd;
using testing::TempDir;
using testing::TestStore;

constexpr const char* k_start = "2026-11-01T00:00:00Z";

void produce(const std::string& kind, const std::string& path, int count, int seed,
             const std::string& invalid = "0.01") {
  const CommandResult r = run_patternd(
      {"produce", "--kind", kind, "--count", std::to_string(count), "--seed", std::to_string(seed),
       "--duplicates", "0.05", "--invalid", invalid, "--start", k_start, "--output", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

CommandResult ingest(const std::string& config, const std::string& topic, const std::string& input,
                     const std::string& stdin_text = "", const std::string& batch_size = "20000") {
  return run_patternd(
      {"ingest", "--config", config, "--topic", topic, "--batch-size", batch_size, input},
      stdin_text);
}

std::string report_json(const std::string& config) {
  const CommandResult r =
      run_patternd({"report", "--config", config, "--top", "100000", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

std::string all_tables(const std::string& db) {
  std::string out;
  for (const auto& table : testing::table_names(db))
    out += "== " + table + "\n" + testing::dump_table(db, table);
  return out;
}

// A test that runs on the backend named by its parameter.
class OnBackend : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<TestStore> store_in(const TempDir& dir) const {
    return testing::store_for(GetParam(), dir, "ingest");
  }
  // write_config(), storing in `store`.
  static std::string config_in(const TestStore& store, const TempDir& dir,
                               const std::string& name = "patternd.yaml",
                               const std::string& rules = "", const std::string& extra = "") {
    return testing::write_config(dir, name, rules, extra + store.config_yaml());
  }
};

std::string backend_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

class Ingest : public OnBackend {
 protected:
  void SetUp() override {
    m_workflows = m_data.file("workflows.jsonl");
    m_extractions = m_data.file("extractions.jsonl");
    produce("workflows", m_workflows, 6000, 11);
    produce("extractions", m_extractions, 6000, 12);
    m_outcomes = m_data.file("outcomes.jsonl");
    produce("outcomes", m_outcomes, 3000, 13);
  }

  TempDir m_data;
  std::string m_workflows, m_extractions, m_outcomes;
};

TEST_P(Ingest, IngestingTheSameFilesTwiceLeavesEveryTableUnchanged) {
  TempDir dir;
  const auto store = store_in(dir);
  const std::string config = config_in(*store, dir);
  ASSERT_EQ(ingest(config, "workflows", m_workflows).exit_code, 0);
  ASSERT_EQ(ingest(config, "extractions", m_extractions).exit_code, 0);
  ASSERT_EQ(ingest(config, "outcomes", m_outcomes).exit_code, 0);
  const std::string before = all_tables(store->sqlite_copy());
  ASSERT_NE(before.find("== operation_patterns\n"), std::string::npos);
  ASSERT_NE(before.find("== failure_fixes\n"), std::string::npos);

  const CommandResult again = ingest(config, "workflows", m_workflows);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("persisted     0\n"), std::string::npos) << again.err;
  ASSERT_EQ(ingest(config, "extractions", m_extractions).exit_code, 0);
  const CommandResult outcomes = ingest(config, "outcomes", m_outcomes);
  EXPECT_NE(outcomes.err.find("persisted     0\n"), std::string::npos) << outcomes.err;

  // Every table, every column, row ids and receive times included.
  EXPECT_EQ(all_tables(store->sqlite_copy()), before);
}

TEST_P(Ingest, ShuffledAndSplitRunsGiveTheReportOfOneRun) {
  TempDir single;
  const auto single_store = store_in(single);
  const std::string single_config = config_in(*single_store, single);
  ASSERT_EQ(ingest(single_config, "workflows", m_workflows).exit_code, 0);
  ASSERT_EQ(ingest(single_config, "extractions", m_extractions).exit_code, 0);
  ASSERT_EQ(ingest(single_config, "outcomes", m_outcomes).exit_code, 0);

  // The same events shuffled, split into three parts per stream, ingested in
  // interleaved runs with a small batch size (so batches cut differently),
  // one of them through standard input.
  TempDir split;
  const auto split_store = store_in(split);
  const std::string split_config = config_in(*split_store, split);
  std::mt19937 rng(2026);
  const std::string topics[3] = {"workflows", "extractions", "outcomes"};
  const std::string files[3] = {m_workflows, m_extractions, m_outcomes};
  std::vector<std::vector<std::string>> parts[3];
  for (int s = 0; s < 3; ++s) {
    auto lines = testing::read_lines(files[s]);
    std::shuffle(lines.begin(), lines.end(), rng);
    parts[s].resize(3);
    for (std::size_t i = 0; i < lines.size(); ++i) parts[s][i % 3].push_back(lines[i]);
  }
  auto text = [](const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += line + "\n";
    return out;
  };
  const std::vector<std::pair<int, int>> order = {{1, 2}, {2, 1}, {0, 1}, {0, 0}, {2, 2},
                                                  {1, 0}, {0, 2}, {2, 0}, {1, 1}};
  for (const auto& [stream, part] : order) {
    const std::string& topic = topics[stream];
    CommandResult r;
    if (part == 1) {
      r = ingest(split_config, topic, "-", text(parts[stream][part]), "97");
    } else {
      const std::string path = split.file(topic + std::to_string(part) + ".jsonl");
      testing::write_file(path, text(parts[stream][part]));
      r = ingest(split_config, topic, path, "", "97");
    }
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  const std::string expected = report_json(single_config);
  ASSERT_NE(expected.find("\"signature\": \"test:pytest:backend\""), std::string::npos);
  EXPECT_EQ(report_json(split_config), expected);
  // Stronger than the report: every fact in every table is the same.
  EXPECT_EQ(split_store->canonical(), single_store->canonical());
}

TEST_P(Ingest, RedetectAfterARulesChangeEqualsAFreshIngestWithTheNewRules) {
  TempDir dir;
  const auto store = store_in(dir);
  const std::string old_config = config_in(*store, dir);
  ASSERT_EQ(ingest(old_config, "workflows", m_workflows).exit_code, 0);
  ASSERT_EQ(ingest(old_config, "extractions", m_extractions).exit_code, 0);

  // New rules: pytest is no longer a tool of its own, jest counts as lint,
  // and a new target appears.
  std::string rules = testing::read_file(testing::source_path("config/patterns.yaml"));
  auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = rules.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    rules.replace(at, from.size(), to);
  };
  replace("  pytest: {categories: [test], keywords: [pytest, py.test]}\n", "");
  replace("jest: {categories: [test]", "jest: {categories: [lint]");
  replace("targets:\n", "targets:\n  tests: [suite, suites]\n");
  const std::string new_rules = dir.file("new-patterns.yaml");
  testing::write_file(new_rules, rules);

  const std::string new_config = config_in(*store, dir, "new.yaml", new_rules);
  const CommandResult warned = ingest(new_config, "workflows", m_workflows);
  EXPECT_NE(warned.err.find("differ from the rules the pattern tables follow"), std::string::npos)
      << warned.err;
  const CommandResult r = run_patternd({"redetect", "--config", new_config});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  TempDir fresh;
  const auto fresh_store = store_in(fresh);
  const std::string fresh_config = config_in(*fresh_store, fresh, "patternd.yaml", new_rules);
  ASSERT_EQ(ingest(fresh_config, "workflows", m_workflows).exit_code, 0);
  ASSERT_EQ(ingest(fresh_config, "extractions", m_extractions).exit_code, 0);

  const std::string redetected = report_json(new_config);
  EXPECT_EQ(redetected, report_json(fresh_config));
  EXPECT_EQ(redetected.find("test:pytest"), std::string::npos);
  EXPECT_NE(redetected.find("lint:jest"), std::string::npos);
  EXPECT_EQ(store->canonical(), fresh_store->canonical());
}

INSTANTIATE_TEST_SUITE_P(Backends, Ingest, ::testing::ValuesIn(testing::backend_names()),
                         backend_name);

// One line of the hostile corpus and what must become of it.
struct CorpusLine {
  std::string payload;
  std::string reason_class;  // empty: a good message that must be persisted
  std::string reason;        // a part of the reason the dead letter must give
};

std::vector<CorpusLine> workflow_corpus() {
  const std::string sql =
      "'); DROP TABLE workflow_history; -- \\\" OR 1=1; SELECT * FROM kafka_offsets";
  return {
      {R"({"workflow_id": "good-1", "nl_input": "Run backend tests with pytest"})", "", ""},
      {R"({"workflow_id": "t1", "nl_input": "Run te)", "invalid_json", "invalid JSON"},
      {R"({"workflow_id": "t2", "nl_input": "x", )", "invalid_json", "invalid JSON"},
      {"{\"workflow_id\": \"u1\xc3\x28\", \"nl_input\": \"x\"}", "invalid_utf8",
       "invalid UTF-8 at byte 19"},
      {R"({"workflow_id": "d1", "nl_input": "x", "m": )" + std::string(1000, '[') +
           std::string(1000, ']') + "}",
       "too_deep", "deeper than 64"},
      {R"({"workflow_id": "big", "nl_input": ")" + std::string(2 * 1024 * 1024, 'x') + "\"}",
       "too_large", "larger than limits.max_message_bytes (1048576)"},
      {R"({"nl_input": "x"})", "missing_field", "missing required field workflow_id"},
      {R"({"workflow_id": "m2"})", "missing_field", "missing required field nl_input"},
      {R"({"workflow_id": 12, "nl_input": "x"})", "wrong_type",
       "field workflow_id must be a string"},
      {R"({"workflow_id": "w2", "nl_input": ["x"]})", "wrong_type",
       "field nl_input must be a string"},
      {R"({"workflow_id": "n1", "nl_input": "x", "total_tokens": -1})", "out_of_range",
       "field total_tokens is -1"},
      {R"({"workflow_id": "n2", "nl_input": "x", "retry_count": 10000000000000})", "out_of_range",
       "field retry_count is 10000000000000"},
      {R"({"workflow_id": "n3", "nl_input": "x", "actual_cost_total": 1e300})", "out_of_range",
       "field actual_cost_total is"},
      {R"({"workflow_id": "n4", "nl_input": "x", "total_tokens": 1e400})", "invalid_json",
       "too large"},
      {R"({"workflow_id": "nan1", "nl_input": "x", "actual_cost_total": NaN})", "invalid_json",
       "invalid JSON"},
      {R"({"workflow_id": "nan2", "nl_input": "x", "duration_seconds": Infinity})", "invalid_json",
       "invalid JSON"},
      {R"({"workflow_id": "nan3", "nl_input": "x", "actual_cost_total": "NaN"})", "wrong_type",
       "field actual_cost_total must be a number"},
      {R"({"workflow_id": "s1", "nl_input": "x", "status": "exploded"})", "out_of_range",
       "field status is \"exploded\""},
      {R"({"workflow_id": "c1", "nl_input": "x", "completed_at": "2026-02-30T00:00:00Z"})",
       "wrong_type", "field completed_at"},
      {"null", "not_an_object", "message is null"},
      {"Traceback (most recent call last):", "invalid_json", "invalid JSON"},
      // Hostile but valid: stored verbatim, never executed.
      {R"({"workflow_id": ")" + sql + R"(", "agent_name": ")" + sql + R"(", "nl_input": ")" + sql +
           R"(", "workflow_template": ")" + sql + R"("})",
       "", ""},
      {R"({"workflow_id": "good-2", "nl_input": "Deploy the api to staging with kubectl"})", "",
       ""},
  };
}

std::vector<CorpusLine> extraction_corpus() {
  const std::string sql = "x'); DELETE FROM extraction_events; --";
  const std::string base = R"("agent_name": "codex", "session_id": "s1", "event_type": "error")";
  return {
      {"{" + base + R"(, "event_id": "good-1", "matched_value": "KeyError: 'a'"})", "", ""},
      {"{" + base + R"(, "event_id": "t1", "matched_value": "Key)", "invalid_json", "invalid JSON"},
      {R"({"session_id": "s", "event_type": "error"})", "missing_field",
       "missing required field agent_name"},
      {R"({"agent_name": "a", "session_id": 5, "event_type": "error"})", "wrong_type",
       "field session_id must be a string"},
      {"{" + base + R"(, "line_number": -4})", "out_of_range", "field line_number is -4"},
      {"{" + base + R"(, "line_number": 1e13})", "out_of_range",
       "field line_number is 10000000000000"},
      {"{" + base + R"(, "risk_level": "apocalyptic"})", "out_of_range", "field risk_level"},
      {"{" + base + R"(, "timestamp": "not a time"})", "wrong_type", "field timestamp"},
      {"{" + base + R"(, "code_block": {"content": 12}})", "wrong_type",
       "field code_block.content must be a string"},
      {"{" + base + R"(, "metadata": )" + std::string(100, '{') + std::string(100, '}') + "}",
       "invalid_json", "invalid JSON"},
      {"{\"agent_name\": \"\xed\xa0\x80\", \"session_id\": \"s\", \"event_type\": \"e\"}",
       "invalid_utf8", "invalid UTF-8 at byte 16"},
      {R"({"agent_name": ")" + sql + R"(", "session_id": ")" + sql + R"(", "event_type": ")" + sql +
           R"(", "pattern": ")" + sql + R"(", "matched_value": ")" + sql +
           R"(", "original_line": ")" + sql + R"(", "event_id": ")" + sql + R"(", "metadata": {")" +
           sql + R"(": ")" + sql + R"("}, "code_block": {"language": ")" + sql +
           R"(", "content": ")" + sql + R"("}})",
       "", ""},
      {"{" + base + R"(, "event_id": "good-2", "matched_value": "TypeError: x is undefined"})", "",
       ""},
  };
}

std::vector<CorpusLine> outcome_corpus() {
  const std::string base = R"("agent_name": "ci-fixer", "pattern": "retry_logic")";
  return {
      {"{" + base +
           R"(, "outcome_id": "good-1", "success": true, "error": "KeyError: 'a'", "fix": "check the key"})",
       "", ""},
      {"{" + base + R"(, "success": "true"})", "wrong_type",
       "field success must be a boolean, got a string"},
      {"{" + base + R"(, "success": null})", "wrong_type", "field success must be a boolean"},
      {"{" + base + "}", "missing_field", "missing required field success"},
      {R"({"agent_name": "a", "success": false})", "missing_field",
       "missing required field pattern"},
      {R"({"agent_name": "a", "pattern": "", "success": false})", "missing_field",
       "missing required field pattern"},
      {R"({"agent_name": 7, "pattern": "p", "success": false})", "wrong_type",
       "field agent_name must be a string, got a number"},
      {R"({"pattern": "p", "success": false})", "missing_field",
       "missing required field agent_name"},
      {"{" + base + R"(, "success": true, "duration_ms": -5})", "out_of_range",
       "field duration_ms is -5"},
      {"{" + base + R"(, "success": true, "duration_ms": 1.5})", "wrong_type",
       "field duration_ms must be an integer"},
      {"{" + base + R"(, "success": true, "fix": ")" + std::string(10 * 1024 * 1024, 'f') + "\"}",
       "too_large", "larger than limits.max_message_bytes (1048576)"},
      {"{" + base + ", \"success\": true, \"fix\": \"bad \xff\xfe\"}", "invalid_utf8",
       "invalid UTF-8 at byte"},
      {R"({"agent_name": "a", "pattern": ")" + std::string(300, 'p') + R"(", "success": true})",
       "out_of_range", "field pattern has 300 characters, expected 1..256"},
      {"{" + base + R"(, "success": true, "success": false})", "duplicate_key",
       "field success appears more than once"},
      {"{" + base + R"(, "success": true, "timestamp": "yesterday"})", "wrong_type",
       "field timestamp"},
      {"{" + base + R"(, "success": true, "outcome_id": ""})", "out_of_range",
       "field outcome_id has 0 characters"},
      {"{" + base + R"(, "outcome_id": "good-2", "success": false})", "", ""},
      {R"({"agent_name": "x'); DELETE FROM outcomes; --", "pattern": "'; DROP TABLE failure_fixes; --", "success": true, "error": "x'); DELETE FROM outcomes; --"})",
       "", ""},
  };
}

std::vector<CorpusLine> session_corpus() {
  const std::string base = R"("session_id": "s1", "agent_name": "codex")";
  return {
      {"{" + base + R"(, "state": "started", "environment": "ci"})", "", ""},
      {"{" + base + R"(, "state": "exploded"})", "out_of_range",
       "field state is \"exploded\", expected started, running, paused, completed, failed or "
       "killed"},
      {"{" + base + R"(, "state": "completed", "exit_code": "0"})", "wrong_type",
       "field exit_code must be an integer, got a string"},
      {"{" + base + R"(, "state": "completed", "exit_code": 1.5})", "out_of_range",
       "field exit_code is 1.5"},
      {R"({"agent_name": "codex", "state": "started"})", "missing_field",
       "missing required field session_id"},
      {R"({"session_id": "s2", "agent_name": "codex"})", "missing_field",
       "missing required field state"},
      {"{" + base + R"(, "state": "running", "metadata": )" + std::string(1000, '[') +
           std::string(1000, ']') + "}",
       "too_deep", "deeper than 64"},
      {"{" + base + R"(, "state": "running", "lines_processed": -1})", "out_of_range",
       "field lines_processed is -1"},
      {"{\"session_id\": \"s\xc3\x28\", \"agent_name\": \"codex\", \"state\": \"started\"}",
       "invalid_utf8", "invalid UTF-8 at byte"},
      {"{" + base + R"(, "state": "killed", "exit_code": 137, "metadata": {"signal": "KILL"}})", "",
       ""},
  };
}

std::vector<CorpusLine> prompt_corpus() {
  const std::string texts =
      R"("original_idea": "idea", "improved_prompt": "better", "role": "r", "directive": "d", )"
      R"("framework": "f", "guardrails": "g")";
  const std::string base = texts + R"(, "backend": "anthropic")";
  // FTS5 syntax and SQL in every text field: stored verbatim, searchable.
  const std::string hostile = R"(\"; DROP TABLE prompt_history; -- NEAR( \"a* OR ^b col:x)";
  std::string every_field = "{";
  for (const char* field :
       {"prompt_id", "agent_name", "session_id", "original_idea", "context", "improved_prompt",
        "role", "directive", "framework", "guardrails", "backend", "model_version", "reasoning"})
    every_field += std::string("\"") + field + "\": \"" + hostile + "\", ";
  every_field += R"("confidence": 0.5})";
  return {
      {"{" + base + R"(, "confidence": 0.9, "latency_ms": 1200})", "", ""},
      {"{" + base + R"(, "confidence": 1.5})", "out_of_range",
       "field confidence is 1.5, expected a number 0..1"},
      {"{" + base + R"(, "confidence": "high"})", "wrong_type", "field confidence"},
      {"{" + base + R"(, "latency_ms": -5})", "out_of_range", "field latency_ms is -5"},
      {"{" + base + R"(, "latency_ms": 1.5})", "wrong_type", "field latency_ms must be an integer"},
      {"{" + texts + "}", "missing_field", "missing required field backend"},
      {R"({"original_idea": "i", "improved_prompt": "p", "role": "", "directive": "d", )"
       R"("framework": "f", "guardrails": "g", "backend": "b"})",
       "missing_field", "missing required field role"},
      {R"({"original_idea": "i", "improved_prompt": 42, "role": "r", "directive": "d", )"
       R"("framework": "f", "guardrails": "g", "backend": "b"})",
       "wrong_type", "field improved_prompt"},
      {"{\"original_idea\": \"bad \xff\", " + base.substr(base.find("\"improved")) + "}",
       "invalid_utf8", "invalid UTF-8 at byte"},
      {every_field, "", ""},
      {"{" + base + R"(, "prompt_id": "big", "context": ")" + std::string(900 * 1024, 'w') + "\"}",
       "", ""},
  };
}

class IngestHostileInput : public OnBackend {
 protected:
  void check_corpus(const std::string& topic, const std::vector<CorpusLine>& corpus) const;
};

void IngestHostileInput::check_corpus(const std::string& topic,
                                      const std::vector<CorpusLine>& corpus) const {
  TempDir dir;
  const auto store = store_in(dir);
  const std::string config = config_in(*store, dir);
  std::string text;
  std::size_t good = 0, bad = 0;
  for (const auto& line : corpus) {
    text += line.payload + "\n";
    (line.reason_class.empty() ? good : bad) += 1;
  }
  const std::string input = dir.file("corpus.jsonl");
  testing::write_file(input, text);
  const CommandResult r = ingest(config, topic, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("persisted     " + std::to_string(good) + "\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dead letters  " + std::to_string(bad)), std::string::npos) << r.err;

  SQLite::Database db(store->sqlite_copy(), SQLite::OPEN_READONLY);
  SQLite::Statement letters(db,
                            "SELECT reason_class, reason, payload_size, length(payload) FROM "
                            "dead_letters WHERE payload = substr(?, 1, 65536)");
  for (const auto& line : corpus) {
    if (line.reason_class.empty()) continue;
    letters.bind(1, line.payload.data(), static_cast<int>(line.payload.size()));
    ASSERT_TRUE(letters.executeStep()) << "no dead letter for: " << line.payload.substr(0, 80);
    EXPECT_EQ(letters.getColumn(0).getString(), line.reason_class) << line.payload.substr(0, 80);
    EXPECT_NE(letters.getColumn(1).getString().find(line.reason), std::string::npos)
        << letters.getColumn(1).getString() << " vs " << line.reason;
    if (line.reason_class == "too_large") {
      // ingest holds at most limits.max_message_bytes + 1 of a line: the
      // stored size says "more than the limit", the reason has the length.
      EXPECT_GT(letters.getColumn(2).getInt64(), 1048576);
      EXPECT_NE(letters.getColumn(1).getString().find(std::to_string(line.payload.size())),
                std::string::npos)
          << letters.getColumn(1).getString();
    } else {
      EXPECT_EQ(letters.getColumn(2).getInt64(), static_cast<std::int64_t>(line.payload.size()));
    }
    EXPECT_LE(letters.getColumn(3).getInt64(), 65536);
    letters.reset();
  }
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM dead_letters").getInt64(),
            static_cast<std::int64_t>(bad));
}

TEST_P(IngestHostileInput, EveryBadWorkflowIsADeadLetterWithItsReasonAndEveryGoodOneIsStored) {
  const auto corpus = workflow_corpus();
  check_corpus("workflows", corpus);
}

TEST_P(IngestHostileInput, EveryBadExtractionIsADeadLetterWithItsReasonAndEveryGoodOneIsStored) {
  check_corpus("extractions", extraction_corpus());
}

TEST_P(IngestHostileInput, EveryBadOutcomeIsADeadLetterWithItsReasonAndEveryGoodOneIsStored) {
  check_corpus("outcomes", outcome_corpus());
}

TEST_P(IngestHostileInput,
       EveryBadLifecycleEventIsADeadLetterWithItsReasonAndEveryGoodOneIsStored) {
  check_corpus("sessions", session_corpus());
}

TEST_P(IngestHostileInput, EveryBadPromptIsADeadLetterWithItsReasonAndEveryGoodOneIsStored) {
  check_corpus("prompts", prompt_corpus());
}

TEST_P(IngestHostileInput, SqlTextIsStoredVerbatimAndNeverRun) {
  TempDir dir;
  const auto store = store_in(dir);
  const std::string config = config_in(*store, dir);
  const std::string input = dir.file("corpus.jsonl");
  std::string text;
  for (const auto& line : workflow_corpus()) text += line.payload + "\n";
  testing::write_file(input, text);
  ASSERT_EQ(ingest(config, "workflows", input).exit_code, 0);
  SQLite::Database db(store->sqlite_copy(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM workflow_history WHERE workflow_id LIKE "
                          "'''); DROP TABLE workflow_history;%'")
                .getInt64(),
            1);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM workflow_history").getInt64(), 3);
}

// What PostgreSQL cannot hold, wherever it is in a message, makes that
// message a dead letter and nothing else: a NUL in a code block (stored in
// code_blocks, not in the event's row), and a first copy of a key dropped
// so that the next copy of it is the one stored.
TEST(IngestOnPostgresql, ANulAnywhereIsOneDeadLetterAndTheNextCopyOfItsKeyIsStored) {
  TempDir dir;
  const auto store = testing::store_for("postgresql", dir, "nul");
  const std::string config = testing::write_config(dir, "pg.yaml", "", store->config_yaml());
  const std::string base = R"("agent_name": "codex", "session_id": "s1", "event_type": "error")";
  const std::string events = dir.file("events.jsonl");
  testing::write_file(
      events,
      "{" + base + R"(, "event_id": "e-1", "matched_value": "KeyError: 'a'"})" + "\n{" + base +
          R"(, "event_id": "e-2", "code_block": {"language": "py", "content": "a\u0000b"}})" +
          "\n{" + base + R"(, "event_id": "e-3", "matched_value": "KeyError: 'b'"})" + "\n");
  CommandResult r = ingest(config, "extractions", events);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("persisted     2\n"), std::string::npos) << r.err;
  EXPECT_EQ(store->count("code_blocks"), 0);
  const std::string workflows = dir.file("workflows.jsonl");
  testing::write_file(workflows,
                      R"({"workflow_id": "w-1", "nl_input": "a\u0000b"})"
                      "\n"
                      R"({"workflow_id": "w-1", "nl_input": "Run backend tests with pytest"})"
                      "\n");
  r = ingest(config, "workflows", workflows);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("persisted     1\n"), std::string::npos) << r.err;
  EXPECT_EQ(store->count("workflow_history"), 1);
  EXPECT_EQ(store->count("dead_letters"), 2);
}

// The writer matches identities RETURNING gives back against its own: a
// server whose bytea_output is 'escape' must not make every new event look
// like a duplicate (stored, but never counted into sessions and patterns).
TEST(IngestOnPostgresql, AServerThatShowsByteaEscapedCountsEveryNewEventOnce) {
  TempDir dir;
  testing::PostgresServer& server = testing::shared_postgres();
  const auto store = testing::store_for("postgresql", dir, "escaped");
  const std::string name =
      store->location().substr(store->location().find("///") + 3,
                               store->location().find('?') - store->location().find("///") - 3);
  server.query("postgres", "ALTER DATABASE \"" + name + "\" SET bytea_output = 'escape'");
  const std::string config = testing::write_config(dir, "pg.yaml", "", store->config_yaml());
  const std::string input = dir.file("events.jsonl");
  ASSERT_EQ(run_patternd({"produce", "--kind", "extractions", "--count", "300", "--seed", "5",
                          "--output", input})
                .exit_code,
            0);
  const CommandResult r = ingest(config, "extractions", input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("persisted     300\n"), std::string::npos) << r.err;
  EXPECT_EQ(server.query(name, "SELECT sum(event_count) FROM agent_sessions")[0][0], "300");
}

TEST_P(IngestHostileInput, ATextWithANulCharacterIsStoredOnSqliteAndADeadLetterOnPostgresql) {
  // JSON's \u0000 decodes to a NUL character: a SQLite text holds it, a
  // PostgreSQL text cannot. There the message is a dead letter and the rest
  // of its batch is stored.
  TempDir dir;
  const auto store = store_in(dir);
  const std::string config = config_in(*store, dir);
  const std::string input = dir.file("nul.jsonl");
  testing::write_file(input,
                      R"({"workflow_id": "good-1", "nl_input": "Run backend tests with pytest"})"
                      "\n"
                      R"({"workflow_id": "nul-1", "nl_input": "a\u0000b"})"
                      "\n"
                      R"({"workflow_id": "good-2", "nl_input": "Lint the frontend with eslint"})"
                      "\n");
  const CommandResult r = ingest(config, "workflows", input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const bool postgresql = GetParam() == "postgresql";
  EXPECT_NE(r.err.find(postgresql ? "persisted     2\n" : "persisted     3\n"), std::string::npos)
      << r.err;

  SQLite::Database db(store->sqlite_copy(), SQLite::OPEN_READONLY);
  SQLite::Statement stored(db, "SELECT workflow_id FROM workflow_history ORDER BY workflow_id");
  std::vector<std::string> ids;
  while (stored.executeStep()) ids.push_back(stored.getColumn(0).getString());
  if (postgresql) {
    EXPECT_EQ(ids, (std::vector<std::string>{"good-1", "good-2"}));
    SQLite::Statement letter(db, "SELECT reason_class, reason, source_line FROM dead_letters");
    ASSERT_TRUE(letter.executeStep());
    EXPECT_EQ(letter.getColumn(0).getString(), "db_constraint");
    EXPECT_NE(letter.getColumn(1).getString().find("NUL"), std::string::npos)
        << letter.getColumn(1).getString();
    EXPECT_EQ(letter.getColumn(2).getInt64(), 2);
    EXPECT_FALSE(letter.executeStep());
  } else {
    EXPECT_EQ(ids, (std::vector<std::string>{"good-1", "good-2", "nul-1"}));
    EXPECT_EQ(db.execAndGet("SELECT length(CAST(nl_input AS BLOB)) FROM workflow_history WHERE "
                            "workflow_id = 'nul-1'")
                  .getInt64(),
              3);
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM dead_letters").getInt64(), 0);
  }
  // The pattern tables count exactly the stored workflows.
  EXPECT_EQ(
      db.execAndGet("SELECT coalesce(sum(occurrences), 0) FROM operation_patterns").getInt64(),
      db.execAndGet("SELECT count(*) FROM pattern_occurrences").getInt64());
}

INSTANTIATE_TEST_SUITE_P(Backends, IngestHostileInput,
                         ::testing::ValuesIn(testing::backend_names()), backend_name);

// Two canonical dumps (a row a line) are equal; if not, the failure shows
// the first rows only one of them has rather than both whole dumps.
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
  auto failure = ::testing::AssertionFailure() << only_actual.size() << " rows not expected, "
                                               << only_expected.size() << " missing";
  for (std::size_t i = 0; i < std::min<std::size_t>(5, only_actual.size()); ++i)
    failure << "\n  not expected: " << only_actual[i].substr(0, 1000);
  for (std::size_t i = 0; i < std::min<std::size_t>(5, only_expected.size()); ++i)
    failure << "\n  missing:      " << only_expected[i].substr(0, 1000);
  return failure;
}

TEST(IngestAcrossBackends, TheSameFilesGiveEveryTableTheSameFactsOnSqliteAndOnPostgresql) {
  // Every stream kind, with duplicates and invalid messages.
  TempDir data;
  const char* kinds[] = {"workflows", "extractions", "outcomes", "sessions", "prompts"};
  int seed = 71;
  for (const char* kind : kinds)
    produce(kind, data.file(std::string(kind) + ".jsonl"), 3000, seed++, "0.03");

  TempDir sqlite_dir, postgres_dir;
  const auto sqlite = testing::store_for("sqlite", sqlite_dir, "parity");
  const auto postgres = testing::store_for("postgresql", postgres_dir, "parity");
  // Every file into `store`; the report it gives.
  auto ingest_all = [&](const TestStore& store, const TempDir& dir) {
    const std::string config = testing::write_config(dir, "patternd.yaml", "", store.config_yaml());
    for (const char* kind : kinds) {
      const CommandResult r = ingest(config, kind, data.file(std::string(kind) + ".jsonl"));
      EXPECT_EQ(r.exit_code, 0) << store.backend() << " " << kind << ": " << r.err;
    }
    return report_json(config);
  };
  const std::string sqlite_report = ingest_all(*sqlite, sqlite_dir);
  EXPECT_EQ(ingest_all(*postgres, postgres_dir), sqlite_report);

  const std::string copy = postgres->sqlite_copy();
  EXPECT_TRUE(same_rows(testing::canonical_database(copy), sqlite->canonical()));
  // Not vacuous: every stream kind's tables have rows, dead letters too.
  SQLite::Database db(copy, SQLite::OPEN_READONLY);
  for (const char* table : {"workflow_history", "operation_patterns", "extraction_events",
                            "failure_patterns", "outcomes", "failure_fixes", "agent_sessions",
                            "session_state_changes", "prompt_history", "dead_letters"})
    EXPECT_GT(db.execAndGet(std::string("SELECT count(*) FROM ") + table).getInt64(), 0) << table;
}

// SQLite only: the command line and the reading of input, not the store.
TEST(IngestCommandLine, ReportsUsageErrorsWithExitCode2) {
  TempDir dir;
  const std::string config = testing::write_config(dir);
  const CommandResult missing = ingest(config, "workflows", dir.file("nope.jsonl"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nope.jsonl: cannot open the input file"), std::string::npos);

  const CommandResult topic = run_patternd({"ingest", "--config", config, "--topic", "logs", "-"});
  EXPECT_EQ(topic.exit_code, 2);
  EXPECT_NE(topic.err.find("--topic"), std::string::npos) << topic.err;

  testing::write_file(dir.file("bad.yaml"), "batch:\n  max_messages: -3\n");
  const CommandResult bad = ingest(dir.file("bad.yaml"), "workflows", "-");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(
      bad.err.find("bad.yaml:2: batch.max_messages: expected an integer 1..1000000, got \"-3\""),
      std::string::npos)
      << bad.err;

  const CommandResult directory = ingest(config, "workflows", dir.path().string());
  EXPECT_EQ(directory.exit_code, 2);
  EXPECT_NE(directory.err.find(dir.path().string() + ": is a directory"), std::string::npos)
      << directory.err;

  const CommandResult none = run_patternd({});
  EXPECT_EQ(none.exit_code, 2);
  const CommandResult help = run_patternd({"ingest", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--topic"), std::string::npos);
}

TEST(IngestCommandLine, CheckConfigPrintsTheEffectiveConfigAndMigrateReportsTheVersion) {
  TempDir dir;
  const std::string config = testing::write_config(dir);
  const CommandResult check = run_patternd({"check-config", config});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("path: " + dir.file("patternd.db")), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("max_messages: 2000"), std::string::npos);

  const CommandResult first = run_patternd({"migrate", "--config", config});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("migrated from version 0 to 11"), std::string::npos) << first.out;
  const CommandResult second = run_patternd({"migrate", "--config", config});
  EXPECT_NE(second.out.find("version 11 (up to date)"), std::string::npos) << second.out;

  const CommandResult report = run_patternd({"report", "--config", config});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(report.out.find("Operation patterns (top 0 of 0)"), std::string::npos) << report.out;
}

constexpr const char* k_good_workflows =
    R"({"workflow_id":"w1","nl_input":"Run backend tests with pytest"})"
    "\n"
    R"({"workflow_id":"w2","nl_input":"Lint the frontend with eslint"})"
    "\n";

// SQLite only: the reading of input in bounded memory, not the store.
TEST(IngestBoundedMemory, AnOverLongLineIsOneTooLargeDeadLetterAndTheLinesAfterItAreStored) {
  TempDir dir;
  const std::string config = testing::write_config(dir);
  const std::string big =
      R"({"workflow_id":"big","nl_input":")" + std::string(3 << 20, 'x') + "\"}";
  testing::write_file(dir.file("in.jsonl"), big + "\n" + k_good_workflows);
  const CommandResult r = ingest(config, "workflows", dir.file("in.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("persisted     2\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dead letters  1"), std::string::npos) << r.err;

  SQLite::Database db(dir.file("patternd.db"), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM workflow_history").getInt64(), 2);
  SQLite::Statement letter(
      db, "SELECT reason_class, reason, length(payload), substr(payload, 1, 30) FROM dead_letters");
  ASSERT_TRUE(letter.executeStep());
  EXPECT_EQ(letter.getColumn(0).getString(), "too_large");
  EXPECT_EQ(letter.getColumn(1).getString(),
            "line 1 is " + std::to_string(big.size()) +
                " bytes, larger than limits.max_message_bytes (1048576)");
  EXPECT_EQ(letter.getColumn(2).getInt64(), 65536);
  EXPECT_EQ(letter.getColumn(3).getString(), big.substr(0, 30));
  EXPECT_FALSE(letter.executeStep());
}

// Peak resident memory of a running process (VmHWM), in bytes.
std::int64_t peak_rss(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return -1;
}

TEST(IngestBoundedMemory, AStreamWithoutNewlinesIsReadInBoundedMemoryThenIngestingGoesOn) {
  TempDir dir;
  const std::string config = testing::write_config(dir);
  const std::string fifo = dir.file("zeros");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  testing::BackgroundProcess ingesting(
      {"ingest", "--config", config, "--topic", "workflows", "--quiet", fifo});
  // /dev/zero, bounded: 400 MiB without a newline, then two good lines.
  int fd = -1;
  ASSERT_TRUE(testing::eventually(
      [&] { return (fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK)) >= 0; }, 30));
  ASSERT_EQ(::fcntl(fd, F_SETFL, 0), 0);  // blocking writes from here on
  const std::string zeros(1 << 20, '\0');
  for (int i = 0; i < 400; ++i)
    ASSERT_EQ(::write(fd, zeros.data(), zeros.size()), static_cast<ssize_t>(zeros.size()));
  const std::string rest = std::string("\n") + k_good_workflows;
  ASSERT_EQ(::write(fd, rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
  const std::int64_t peak = peak_rss(ingesting.pid());
  ::close(fd);
  ASSERT_EQ(ingesting.wait(60000), 0);
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, 150 << 20) << "the line was held whole";

  SQLite::Database db(dir.file("patternd.db"), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM workflow_history").getInt64(), 2);
  EXPECT_EQ(db.execAndGet("SELECT group_concat(reason_class) FROM dead_letters").getString(),
            "too_large");
  EXPECT_EQ(db.execAndGet("SELECT reason FROM dead_letters").getString(),
            "line 1 is 419430400 bytes, larger than limits.max_message_bytes (1048576)");
}

class IngestSummary : public OnBackend {};

TEST_P(IngestSummary, ARepeatedInvalidLineIsCountedEachTimeAndStoredOnceAndTheSummarySaysSo) {
  TempDir dir;
  const auto store = store_in(dir);
  const std::string config = config_in(*store, dir);
  testing::write_file(dir.file("in.jsonl"),
                      std::string("not json\nnot json\nnot json\n[1]\n") + k_good_workflows);
  const CommandResult r = ingest(config, "workflows", dir.file("in.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("dead letters  4 (2 distinct)"), std::string::npos) << r.err;
  EXPECT_EQ(store->count("dead_letters"), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, IngestSummary, ::testing::ValuesIn(testing::backend_names()),
                         backend_name);

}  // namespace
}  // namespace patternd
