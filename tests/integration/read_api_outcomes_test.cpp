// The learning loop's read side (issue 17) against a database the test
// wrote: /v1/failures/lookup with its fixes best first, /v1/fixes,
// /v1/outcomes/stats, `patternd query` giving the same JSON, the
// patternd_fix_lookups_total counter, and every response checked against
// /v1/openapi.json. Every test runs on both backends (served_api.hpp).

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/statistics.hpp"
#include "integration/served_api.hpp"

namespace patternd {
namespace {

using nlohmann::json;

// One error, stored with these ids, paths, quotes, hex and UUIDs; looked up
// with others.
const std::string k_stored_error =
    "ConnectionError: request 550e8400-e29b-41d4-a716-446655440000 to 'db-1' at "
    "/srv/app/db.py:42 failed with code 0x1f after 3 retries";
const std::string k_asked_error =
    "ConnectionError: request 123e4567-e89b-12d3-a456-426614174000 to 'cache-7' at "
    "/opt/other/pool.py:7 failed with code 0xdeadbeef after 12 retries";

std::string outcome(int i, const std::string& agent, const std::string& pattern, bool success,
                    const std::string& fix, bool with_error = true) {
  json j{{"outcome_id", "out-" + std::to_string(i)},
         {"agent_name", agent},
         {"session_id", "sess-" + std::to_string(i % 4)},
         {"timestamp", "2026-11-20T10:" + std::to_string(10 + i % 50) + ":00Z"},
         {"pattern", pattern},
         {"success", success},
         {"duration_ms", 100 + i}};
  if (with_error) j["error"] = k_stored_error;
  if (!fix.empty()) j["fix"] = fix;
  return j.dump() + "\n";
}

// pin_dependency 3 of 3, retry_logic 40 of 45 (two agents),
// increase_timeout 1 of 4; two outcomes without an error.
std::unique_ptr<testing::ServedApi> served(const std::string& backend) {
  std::string outcomes;
  int i = 0;
  for (int k = 0; k < 3; ++k) outcomes += outcome(i++, "codex", "pin_dependency", true, "pin it");
  for (int k = 0; k < 45; ++k)
    outcomes +=
        outcome(i++, k % 2 ? "codex" : "ci-fixer", "retry_logic", k < 40, "retry with backoff");
  for (int k = 0; k < 4; ++k)
    outcomes += outcome(i++, "codex", "increase_timeout", k == 0, "timeout 60s");
  outcomes += outcome(i++, "codex", "retry_logic", true, "", false);
  outcomes += outcome(i++, "ci-fixer", "lint_first", false, "", false);
  const std::string events = json{{"agent_name", "codex"},
                                  {"session_id", "sess-0"},
                                  {"event_type", "error"},
                                  {"timestamp", "2026-11-20T09:00:00Z"},
                                  {"matched_value", k_stored_error}}
                                 .dump() +
                             "\n";
  return std::make_unique<testing::ServedApi>(
      backend, testing::ServedApi::Inputs{{"outcomes", outcomes}, {"extractions", events}});
}

class ReadApiOutcomes : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    s_api = &s_apis.of(GetParam());
    s_config = s_api->config;
    s_port = s_api->port;
  }
  static void TearDownTestSuite() {
    s_apis.clear();
    s_api = nullptr;
  }

  static json call(const std::string& target, int status = 200) {
    std::string path = target.substr(0, target.find('?'));
    if (path.rfind("/v1/agents/", 0) == 0) path = "/v1/agents/{name}/stats";
    return s_api->call(target, path, status);
  }

  static std::string encoded(const std::string& text) { return testing::ServedApi::encoded(text); }

  static testing::ServedApiPerBackend s_apis;
  static testing::ServedApi* s_api;  // this test's backend's
  static std::string s_config;
  static int s_port;
};

testing::ServedApiPerBackend ReadApiOutcomes::s_apis(served);
testing::ServedApi* ReadApiOutcomes::s_api = nullptr;
std::string ReadApiOutcomes::s_config;
int ReadApiOutcomes::s_port = -1;

TEST_P(ReadApiOutcomes, ALookupOfTheSameErrorWithOtherDetailsFindsItAndItsFixesBestFirst) {
  const json found = call("/v1/failures/lookup?error=" + encoded(k_asked_error));
  EXPECT_EQ(found["seen"], true);
  EXPECT_EQ(found["frequency"], 1);
  ASSERT_EQ(found["fixes"].size(), 3u) << found.dump(2);
  // 40 of 45 (0.765) above 3 of 3 (0.438) above 1 of 4 (0.046).
  const std::vector<std::string> order = {"retry_logic", "pin_dependency", "increase_timeout"};
  const std::vector<std::pair<int, int>> counts = {{40, 45}, {3, 3}, {1, 4}};
  for (std::size_t i = 0; i < order.size(); ++i) {
    const json& fix = found["fixes"][i];
    EXPECT_EQ(fix["pattern"], order[i]);
    EXPECT_EQ(fix["successes"], counts[i].first);
    EXPECT_EQ(fix["attempts"], counts[i].second);
    EXPECT_DOUBLE_EQ(fix["success_rate"].get<double>(), double(counts[i].first) / counts[i].second);
    EXPECT_NEAR(fix["confidence"].get<double>(),
                core::wilson_lower_bound(counts[i].first, counts[i].second), 1e-12);
  }
  EXPECT_NEAR(found["fixes"][0]["confidence"].get<double>(), 0.765006245, 1e-9);
  EXPECT_NEAR(found["fixes"][1]["confidence"].get<double>(), 0.438493920, 1e-9);
  EXPECT_EQ(found["fixes"][0]["fix_example"], "retry with backoff");
  EXPECT_EQ(found["fixes"][0]["agents"], 2);

  // An error never seen: its signature, no history, no fixes.
  const json unseen = call("/v1/failures/lookup?error=" + encoded("ZeroDivisionError: oops"));
  EXPECT_EQ(unseen["seen"], false);
  EXPECT_TRUE(unseen["fixes"].empty());

  // Both were counted for operators, on serve's /metrics.
  const auto metrics = testing::http_get(s_port, "/metrics", {});
  ASSERT_EQ(metrics.status, 200);
  const auto check = testing::run_command({"promtool", "check", "metrics"}, metrics.body);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_GE(testing::metric_sum(metrics.body, "patternd_fix_lookups_total", "result=\"seen\""), 1);
  EXPECT_GE(testing::metric_sum(metrics.body, "patternd_fix_lookups_total", "result=\"unseen\""),
            1);
}

TEST_P(ReadApiOutcomes, FixesAreListedBestFirstFilteredAndPaged) {
  const json all = call("/v1/fixes");
  ASSERT_EQ(all["data"].size(), 3u);
  EXPECT_EQ(all["data"][0]["pattern"], "retry_logic");
  EXPECT_EQ(all["data"][2]["pattern"], "increase_timeout");
  // Walked one at a time: the same rows in the same order.
  std::vector<std::string> walked;
  std::string next = "/v1/fixes?limit=1";
  for (int pages = 0; pages < 10; ++pages) {
    const json page = call(next);
    for (const auto& row : page["data"]) walked.push_back(row["pattern"]);
    if (page["next_cursor"].is_null()) break;
    next = "/v1/fixes?limit=1&cursor=" + page["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(walked,
            (std::vector<std::string>{"retry_logic", "pin_dependency", "increase_timeout"}));

  const json confident = call("/v1/fixes?min_confidence=0.5");
  ASSERT_EQ(confident["data"].size(), 1u);
  EXPECT_EQ(confident["data"][0]["pattern"], "retry_logic");
  const std::string signature = all["data"][0]["signature"];
  EXPECT_EQ(
      call("/v1/fixes?signature=" + encoded(signature) + "&pattern=pin_dependency")["data"].size(),
      1u);
  EXPECT_TRUE(call("/v1/fixes?signature=nothing")["data"].empty());

  // Bad parameters are 400s that name them.
  for (const auto& [target, name] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/fixes?min_confidence=2", "min_confidence"},
           {"/v1/fixes?min_confidence=x", "min_confidence"},
           {"/v1/fixes?sort=best", "sort"},
           {"/v1/fixes?cursor=zz", "cursor"},
           {"/v1/outcomes/stats?limit=0", "limit"}}) {
    const json error = call(target, 400);
    EXPECT_NE(error["error"].get<std::string>().find(name), std::string::npos) << target << error;
  }
}

TEST_P(ReadApiOutcomes, OutcomeStatsPerApproachAndPerAgent) {
  const json all = call("/v1/outcomes/stats");
  ASSERT_EQ(all["data"].size(), 4u);  // by name
  EXPECT_EQ(all["data"][0]["pattern"], "increase_timeout");
  EXPECT_EQ(all["data"][1]["pattern"], "lint_first");
  const json& retry = all["data"][3];
  EXPECT_EQ(retry["pattern"], "retry_logic");
  EXPECT_EQ(retry["attempts"], 46);  // with the one that named no error
  EXPECT_EQ(retry["successes"], 41);
  EXPECT_EQ(retry["agents"], 2);
  EXPECT_NEAR(retry["confidence"].get<double>(), core::wilson_lower_bound(41, 46), 1e-12);

  const json codex = call("/v1/outcomes/stats?agent=codex&pattern=retry_logic");
  ASSERT_EQ(codex["data"].size(), 1u);
  // retry_logic: codex had the odd k of 45 (22, all k < 40 but 35, 37, 39
  // succeed: 20) and the one without an error.
  EXPECT_EQ(codex["data"][0]["attempts"], 23);
  EXPECT_EQ(codex["data"][0]["successes"], 21);
  EXPECT_EQ(codex["data"][0]["agents"], 1);

  const json stats = call("/v1/agents/codex/stats");
  EXPECT_EQ(stats["outcomes"], 3 + 22 + 4 + 1);
  EXPECT_EQ(stats["outcome_successes"], 3 + 20 + 1 + 1);
}

TEST_P(ReadApiOutcomes, QueryPrintsTheEndpointsJson) {
  for (const auto& [args, target] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"fixes", "--min-confidence", "0.4"}, "/v1/fixes?min_confidence=0.4"},
           {{"outcomes", "stats", "--agent", "ci-fixer"}, "/v1/outcomes/stats?agent=ci-fixer"},
           {{"failures", "--lookup", k_asked_error},
            "/v1/failures/lookup?error=" + encoded(k_asked_error)}}) {
    std::vector<std::string> command = {"query", "--config", s_config};
    command.insert(command.end(), args.begin(), args.end());
    command.push_back("--format");
    command.push_back("json");
    const auto r = testing::run_patternd(command);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, testing::http_get(s_port, target, {}).body) << target;
  }
}

TEST_P(ReadApiOutcomes, TheReportShowsTheTopFixesOfTheTopFailures) {
  const auto as_json = testing::run_patternd({"report", "--config", s_config, "--format", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  const json report = json::parse(as_json.out);
  ASSERT_EQ(report["failure_patterns"].size(), 1u);
  const json& fixes = report["failure_patterns"][0]["fixes"];
  ASSERT_EQ(fixes.size(), 3u);
  EXPECT_EQ(fixes[0]["pattern"], "retry_logic");
  EXPECT_EQ(fixes[0]["successes"], 40);
  EXPECT_EQ(fixes[1]["pattern"], "pin_dependency");
  const auto table = testing::run_patternd({"report", "--config", s_config});
  EXPECT_NE(table.out.find("fix retry_logic          40/45  conf 0.765  retry with backoff"),
            std::string::npos)
      << table.out;
}

INSTANTIATE_TEST_SUITE_P(Backends, ReadApiOutcomes, ::testing::ValuesIn(testing::backend_names()),
                         testing::backend_of);

}  // namespace
}  // namespace patternd
