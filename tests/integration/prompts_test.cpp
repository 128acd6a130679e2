// The prompts stream (SPEC sections 12 and 13, issue 19): a hand-built
// corpus ingested and served by a real `patternd serve`, searched with
// FTS5's words, phrases, prefixes and operators, the per-backend figures by
// hand, and the same records twice, shuffled and split, giving the same
// answers. The served tests (Prompts) run on both backends (served_api.hpp)
// with the same expectations: PostgreSQL reads the same query syntax
// (store/pg_fts_query.hpp); only its ranks' values differ.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "integration/served_api.hpp"
#include "support/helpers.hpp"

namespace patternd {
namespace {

using nlohmann::json;
using testing::ServedApi;

json record(const std::string& id, int minute, const std::string& idea, const std::string& context,
            const std::string& improved, const std::string& backend,
            std::optional<double> confidence, std::optional<int> latency) {
  char time[32];
  std::snprintf(time, sizeof time, "2026-11-20T10:%02d:00Z", minute);
  json r = {{"prompt_id", id},
            {"timestamp", time},
            {"agent_name", "prompt-improver"},
            {"original_idea", idea},
            {"context", context},
            {"improved_prompt", improved},
            {"role", "senior engineer"},
            {"directive", "do the task well"},
            {"framework", "CO-STAR"},
            {"guardrails", "no secrets in output"},
            {"backend", backend},
            {"model_version", backend + "-model-1"}};
  if (confidence) r["confidence"] = *confidence;
  if (latency) r["latency_ms"] = *latency;
  return r;
}

std::string filler(int words) {
  static const char* k_words[] = {"carefully", "review", "each", "module", "then",
                                  "summarize", "risks",  "and",  "next",   "steps"};
  std::string out;
  for (int i = 0; i < words; ++i) out += std::string(" ") + k_words[i % 10];
  return out;
}

// anthropic: latencies 100, 200, 300, 400 and confidences 0.9, 0.8, -, 0.7;
// openai: 1000 and 5000, 0.5 and 0.6; local: no latency, no confidence.
std::vector<json> corpus() {
  return {
      record("p-login-fast", 1, "make the login page faster", "",
             "Profile the login page and cut the login latency of the login form.", "anthropic",
             0.9, 100),
      record("p-login-crash", 2, "fix a crash", "the login handler crashes on empty passwords",
             "Reproduce the crash, write a failing test, then fix the handler." + filler(120),
             "anthropic", 0.8, 200),
      record("p-parser-tests", 3, "write tests for the parser", "",
             "Write unit tests for the tokenizer and the parser, covering malformed input.",
             "anthropic", std::nullopt, 300),
      record("p-parsing-speed", 4, "faster JSON", "",
             "Speed up the JSON parsing of large payloads." + filler(40), "anthropic", 0.7, 400),
      record("p-deploy", 5, "deploy to staging", "kubernetes cluster managed with helm",
             "Roll out the release with kubectl and watch the pods.", "openai", 0.5, 1000),
      record("p-ship", 6, "ship it", "", "Release the service to production after the checks.",
             "openai", 0.6, 5000),
      record("p-hostile", 7, "x'); DROP TABLE prompt_history; --",
             "\" AND OR NOT NEAR( * ^ col:value",
             "'; DELETE FROM prompt_backend_stats; -- \"unbalanced NEAR(a b", "local", std::nullopt,
             std::nullopt),
  };
}

std::string lines(const std::vector<json>& records) {
  std::string out;
  for (const auto& r : records) out += r.dump() + "\n";
  return out;
}

class Prompts : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { s_api = &s_apis.of(GetParam()); }
  static void TearDownTestSuite() {
    s_apis.clear();
    s_api = nullptr;
  }

  static std::vector<std::string> search(const std::string& encoded_query) {
    const json page = s_api->call("/v1/prompts?q=" + encoded_query, "/v1/prompts");
    std::vector<std::string> ids;
    for (const auto& r : page["data"]) ids.push_back(r["id"]);
    return ids;
  }

  static testing::ServedApiPerBackend s_apis;
  static ServedApi* s_api;  // this test's backend's
};

testing::ServedApiPerBackend Prompts::s_apis([](const std::string& backend) {
  return std::make_unique<ServedApi>(backend, ServedApi::Inputs{{"prompts", lines(corpus())}});
});
ServedApi* Prompts::s_api = nullptr;

using Ids = std::vector<std::string>;

TEST_P(Prompts, SearchFindsWordsPhrasesAndPrefixesBestMatchFirst) {
  // Four mentions in a short record rank above one in a long one.
  EXPECT_EQ(search("login"), (Ids{"p-login-fast", "p-login-crash"}));
  EXPECT_EQ(search(ServedApi::encoded("\"login page\"")), (Ids{"p-login-fast"}));
  EXPECT_EQ(search(ServedApi::encoded("login NOT handler")), (Ids{"p-login-fast"}));
  // A prefix: parser, parsing; the short record first.
  EXPECT_EQ(search(ServedApi::encoded("pars*")), (Ids{"p-parser-tests", "p-parsing-speed"}));
  // Words only in the context are found too.
  EXPECT_EQ(search("helm"), (Ids{"p-deploy"}));
  EXPECT_EQ(search(ServedApi::encoded("kubernetes OR release")), (Ids{"p-deploy", "p-ship"}));
  // Case and diacritics do not matter.
  EXPECT_EQ(search(ServedApi::encoded("PÁRSER")), (Ids{"p-parser-tests"}));
  // SQL in a record is text like any other.
  EXPECT_EQ(search("DROP"), (Ids{"p-hostile"}));
  EXPECT_EQ(search("nothingmatchesthis"), Ids{});
  // Relevance is given, best first.
  const json page = s_api->call("/v1/prompts?q=login", "/v1/prompts");
  EXPECT_GT(page["data"][0]["relevance"].get<double>(), page["data"][1]["relevance"].get<double>());
}

TEST_P(Prompts, SearchPagesWithACursorAndFiltersCombine) {
  const json first = s_api->call("/v1/prompts?q=the&limit=2", "/v1/prompts");
  ASSERT_TRUE(first["next_cursor"].is_string());
  Ids all;
  for (json page = first;;) {
    for (const auto& r : page["data"]) all.push_back(r["id"]);
    if (!page["next_cursor"].is_string()) break;
    page = s_api->call("/v1/prompts?q=the&limit=2&cursor=" + page["next_cursor"].get<std::string>(),
                       "/v1/prompts");
  }
  const Ids whole = search("the");
  EXPECT_EQ(all, whole);
  EXPECT_GE(whole.size(), 5u);
  // (The shorter record first: "the" is as frequent in both.)
  EXPECT_EQ(search("the&backend=openai"), (Ids{"p-ship", "p-deploy"}));
  EXPECT_EQ(search("login&min_confidence=0.85"), (Ids{"p-login-fast"}));
}

TEST_P(Prompts, AMalformedQueryIs400NamingQ) {
  for (const std::string q :
       {"%22unterminated", "login%20AND", "NEAR(a", "*", "%5E", "nocolumn%3Ax", "%20%20", ""}) {
    const json body = s_api->call("/v1/prompts?q=" + q, "/v1/prompts", 400);
    EXPECT_EQ(body["error"].get<std::string>().rfind("q: ", 0), 0u) << q << " " << body;
  }
  // The server goes on answering.
  EXPECT_EQ(search("login").size(), 2u);
}

TEST_P(Prompts, ListsNewestFirstAndOneByItsId) {
  const json page = s_api->call("/v1/prompts?limit=3", "/v1/prompts");
  ASSERT_EQ(page["data"].size(), 3u);
  EXPECT_EQ(page["data"][0]["id"], "p-hostile");
  EXPECT_EQ(page["data"][2]["id"], "p-deploy");
  const json one = s_api->call("/v1/prompts/p-hostile", "/v1/prompts/{id}");
  EXPECT_EQ(one["original_idea"], "x'); DROP TABLE prompt_history; --");
  EXPECT_EQ(one["context"], "\" AND OR NOT NEAR( * ^ col:value");
  EXPECT_TRUE(one["confidence"].is_null());
  const json by_identity =
      s_api->call("/v1/prompts/" + one["identity"].get<std::string>(), "/v1/prompts/{id}");
  EXPECT_EQ(by_identity, one);
  s_api->call("/v1/prompts/p-nowhere", "/v1/prompts/{id}", 404);
}

TEST_P(Prompts, PerBackendFiguresAreTheOnesComputedByHand) {
  const json stats = s_api->call("/v1/prompts/stats", "/v1/prompts/stats");
  ASSERT_EQ(stats["data"].size(), 3u);
  const json& anthropic = stats["data"][0];
  EXPECT_EQ(anthropic["backend"], "anthropic");
  EXPECT_EQ(anthropic["prompts"], 4);
  EXPECT_NEAR(anthropic["mean_confidence"].get<double>(), (0.9 + 0.8 + 0.7) / 3, 1e-9);
  EXPECT_DOUBLE_EQ(anthropic["mean_latency_ms"].get<double>(), 250.0);
  EXPECT_EQ(anthropic["latency_p50_ms"], 200);  // nearest rank: the 2nd of 4
  EXPECT_EQ(anthropic["latency_p95_ms"], 400);  // the 4th of 4
  const json& local = stats["data"][1];
  EXPECT_EQ(local["backend"], "local");
  EXPECT_TRUE(local["mean_confidence"].is_null());
  EXPECT_TRUE(local["latency_p50_ms"].is_null());
  const json& openai = stats["data"][2];
  EXPECT_NEAR(openai["mean_confidence"].get<double>(), 0.55, 1e-9);
  EXPECT_EQ(openai["latency_p50_ms"], 1000);
  EXPECT_EQ(openai["latency_p95_ms"], 5000);
  EXPECT_EQ(s_api->call("/v1/prompts/stats?backend=openai", "/v1/prompts/stats")["data"].size(),
            1u);
}

TEST_P(Prompts, QueryPromptsIsTheEndpointsJson) {
  const auto r = testing::run_patternd(
      {"query", "--config", s_api->config, "prompts", "--q", "login", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, testing::http_get(s_api->port, "/v1/prompts?q=login").body);
  const auto bad = testing::run_patternd(
      {"query", "--config", s_api->config, "prompts", "--q", "\"unterminated"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("q: "), std::string::npos) << bad.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, Prompts, ::testing::ValuesIn(testing::backend_names()),
                         testing::backend_of);

// Every record twice, shuffled, split over runs with small batches: the same
// tables, full-text index included, and the same answer to every search.
// (SQLite only: it compares the FTS5 index's own tables, files to files.)
TEST(PromptsIdempotency, TwiceShuffledAndSplitGiveTheSameTablesAndSearches) {
  std::vector<json> records = corpus();
  for (int i = 0; i < 200; ++i)
    records.push_back(record("p-bulk-" + std::to_string(i), 10 + i % 40,
                             i % 2 ? "speed up the build" : "explain the login flow", "",
                             "Step " + std::to_string(i) + ":" + filler(10 + i % 30),
                             i % 3 ? "anthropic" : "openai", (i % 10) / 10.0, 100 + i));
  testing::TempDir once_dir, split_dir;
  const std::string once = testing::write_config(once_dir);
  const std::string split = testing::write_config(split_dir);
  const std::string file = once_dir.file("prompts.jsonl");
  testing::write_file(file, lines(records));
  for (int run = 0; run < 2; ++run) {
    const auto r = testing::run_patternd({"ingest", "--config", once, "--topic", "prompts", file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    if (run == 1) {
      EXPECT_NE(r.err.find("persisted     0\n"), std::string::npos) << r.err;
    }
  }
  std::mt19937 rng(19);
  std::vector<json> shuffled = records;
  shuffled.insert(shuffled.end(), records.begin(), records.begin() + 50);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  const std::size_t half = shuffled.size() / 2;
  const auto first = testing::run_patternd(
      {"ingest", "--config", split, "--topic", "prompts", "--batch-size", "7", "-"},
      lines({shuffled.begin(), shuffled.begin() + static_cast<std::ptrdiff_t>(half)}));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto second = testing::run_patternd(
      {"ingest", "--config", split, "--topic", "prompts", "--batch-size", "13", "-"},
      lines({shuffled.begin() + static_cast<std::ptrdiff_t>(half), shuffled.end()}));
  ASSERT_EQ(second.exit_code, 0) << second.err;

  const std::string expected = testing::canonical_database(once_dir.file("patternd.db"));
  ASSERT_NE(expected.find("== prompt_search (207 rows)"), std::string::npos);
  EXPECT_EQ(testing::canonical_database(split_dir.file("patternd.db")), expected);
  for (const std::string q : {"login", "\"login flow\"", "spee*", "review NOT build", "DROP"}) {
    // (relevance, identity), sorted: records of equal relevance come in
    // arrival order, which differs between the two databases.
    auto ids = [&q](const std::string& config) {
      const auto r = testing::run_patternd({"query", "--config", config, "prompts", "--q", q,
                                            "--limit", "1000", "--format", "json"});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      const json page = json::parse(r.out);
      std::vector<std::pair<double, std::string>> out;
      for (const auto& row : page["data"])
        out.emplace_back(-row["relevance"].get<double>(), row["identity"]);
      std::sort(out.begin(), out.end());
      return out;
    };
    const auto expected_ids = ids(once);
    EXPECT_FALSE(expected_ids.empty()) << q;
    EXPECT_EQ(ids(split), expected_ids) << q;
  }
}

// Retention takes records out of everything derived from them: the
// full-text index and the latency counts behind p50/p95 (schema/011) end as
// if the pruned records had never come; only the per-backend sums keep them.
// (SQLite only: it compares the FTS5 index's and the triggers' tables.)
TEST(PromptsRetention, PruneTakesRecordsOutOfTheIndexAndTheLatencyCounts) {
  std::vector<json> recent = corpus(), old;
  for (int i = 0; i < 40; ++i) {
    json r = record("p-old-" + std::to_string(i), i % 60, "an old login idea", "",
                    "Old prompt about the login page" + filler(i), i % 2 ? "anthropic" : "openai",
                    0.5, 100 * (i % 7));  // latencies shared with the recent ones: 100, 200...
    r["timestamp"] = "2025-01-0" + std::to_string(1 + i % 9) + "T00:00:00Z";
    old.push_back(r);
  }
  testing::TempDir all_dir, recent_dir;
  const std::string all = testing::write_config(all_dir), only = testing::write_config(recent_dir);
  std::vector<json> mixed = old;
  mixed.insert(mixed.end(), recent.begin(), recent.end());
  auto r =
      testing::run_patternd({"ingest", "--config", all, "--topic", "prompts", "-"}, lines(mixed));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_patternd({"prune", "--config", all, "--older-than", "180"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_patternd({"ingest", "--config", only, "--topic", "prompts", "-"}, lines(recent));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* table : {"prompt_latency_counts", "prompt_search_docsize"})
    EXPECT_EQ(testing::dump_table(all_dir.file("patternd.db"), table, {"id"}),
              testing::dump_table(recent_dir.file("patternd.db"), table, {"id"}))
        << table;
  for (const std::string& q : {"login", "\"login page\"", "old"}) {
    const auto ids = [&q](const std::string& config) {
      const auto out = testing::run_patternd(
          {"query", "--config", config, "prompts", "--q", q, "--format", "json"});
      std::vector<std::string> found;
      const json page = json::parse(out.out);
      for (const auto& row : page["data"]) found.push_back(row["id"]);
      return found;
    };
    EXPECT_EQ(ids(all), ids(only)) << q;
  }
  const auto stats = [](const std::string& config) {
    const auto out = testing::run_patternd(
        {"query", "--config", config, "prompts", "stats", "--format", "json"});
    json quantiles = json::array();
    const json page = json::parse(out.out);
    for (const auto& row : page["data"])
      quantiles.push_back({row["backend"], row["latency_p50_ms"], row["latency_p95_ms"]});
    return quantiles;
  };
  EXPECT_EQ(stats(all), stats(only));
  EXPECT_EQ(stats(only).size(), 3u);
}

// Schema 11 counts the latencies of the records a version-10 database holds
// exactly as its triggers count new ones.
// (SQLite only: SQLite's own schema 10 and 11.)
TEST(PromptsMigration, VersionElevenCountsTheStoredLatenciesAsTheTriggersDo) {
  testing::TempDir dir;
  const std::string config = testing::write_config(dir);
  auto r = testing::run_patternd({"ingest", "--config", config, "--topic", "prompts", "-"},
                                 lines(corpus()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string db = dir.file("patternd.db");
  const std::string by_triggers = testing::dump_table(db, "prompt_latency_counts", {});
  ASSERT_NE(by_triggers, "");
  r = testing::run_command({"sqlite3", db,
                            "DROP TRIGGER prompt_history_latency_counted; "
                            "DROP TRIGGER prompt_history_latency_uncounted; "
                            "DROP TABLE prompt_latency_counts; DROP INDEX prompt_history_filters; "
                            "CREATE INDEX prompt_history_backend_latency ON prompt_history "
                            "(backend, latency_ms); PRAGMA user_version = 10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_patternd({"migrate", "--config", config});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("from version 10 to 11"), std::string::npos) << r.out;
  EXPECT_EQ(testing::dump_table(db, "prompt_latency_counts", {}), by_triggers);
}

}  // namespace
}  // namespace patternd
