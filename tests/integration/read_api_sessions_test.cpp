// Sessions with their lifecycle through the read API (issue 18): the
// lifecycle fields, ?active, one session's state changes in time order, and
// `patternd query sessions --active` giving the endpoint's JSON. Every test
// runs on both backends (served_api.hpp).

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "integration/served_api.hpp"

namespace patternd {
namespace {

using nlohmann::json;

std::string lifecycle(const std::string& session, const std::string& agent,
                      const std::string& state, const std::string& at,
                      const std::string& extra = "") {
  return R"({"session_id": ")" + session + R"(", "agent_name": ")" + agent + R"(", "state": ")" +
         state + R"(", "timestamp": ")" + at + "\"" + extra + "}\n";
}

std::string event(const std::string& session, const std::string& at) {
  return R"({"agent_name": "codex", "session_id": ")" + session +
         R"(", "event_type": "command", "timestamp": ")" + at + "\"}\n";
}

// done: started, running, completed (0); live: started only, with
// events; crashed: started, killed (137); plain: events only.
std::unique_ptr<testing::ServedApi> served(const std::string& backend) {
  const std::string lifecycles =
      lifecycle(
          "done", "codex", "started", "2026-11-20T10:00:00Z",
          R"(, "environment": "ci", "extraction_config_version": "v3", "metadata": {"pr": 12})") +
      lifecycle("done", "codex", "running", "2026-11-20T10:02:00Z", R"(, "lines_processed": 500)") +
      lifecycle("done", "codex", "completed", "2026-11-20T10:05:00Z",
                R"(, "exit_code": 0, "lines_processed": 1200)") +
      lifecycle("live", "codex", "started", "2026-11-20T11:00:00Z") +
      lifecycle("crashed", "reviewer", "started", "2026-11-20T09:00:00Z") +
      lifecycle("crashed", "reviewer", "killed", "2026-11-20T09:01:00Z", R"(, "exit_code": 137)");
  const std::string events = event("live", "2026-11-20T11:00:30Z") +
                             event("done", "2026-11-20T10:01:00Z") +
                             event("plain", "2026-11-20T08:00:00Z");
  return std::make_unique<testing::ServedApi>(
      backend, testing::ServedApi::Inputs{{"sessions", lifecycles}, {"extractions", events}});
}

class ReadApiSessions : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { s_api = &s_apis.of(GetParam()); }
  static void TearDownTestSuite() {
    s_apis.clear();
    s_api = nullptr;
  }

  static json call(const std::string& target, const std::string& path_template, int status = 200) {
    return s_api->call(target, path_template, status);
  }

  static testing::ServedApiPerBackend s_apis;
  static testing::ServedApi* s_api;  // this test's backend's
};

testing::ServedApiPerBackend ReadApiSessions::s_apis(served);
testing::ServedApi* ReadApiSessions::s_api = nullptr;

TEST_P(ReadApiSessions, SessionsCarryTheirLifecycleAndActiveFiltersThem) {
  const json all = call("/v1/sessions", "/v1/sessions");
  ASSERT_EQ(all["data"].size(), 4u);
  // Newest first by first event: live, done, crashed, plain.
  EXPECT_EQ(all["data"][0]["session_id"], "live");
  EXPECT_EQ(all["data"][1]["session_id"], "done");
  const json& done = all["data"][1];
  EXPECT_EQ(done["active"], false);
  EXPECT_EQ(done["state"], "completed");
  EXPECT_EQ(done["started_at"], "2026-11-20T10:00:00.000Z");
  EXPECT_EQ(done["ended_at"], "2026-11-20T10:05:00.000Z");
  EXPECT_EQ(done["exit_code"], 0);
  EXPECT_EQ(done["environment"], "ci");
  EXPECT_EQ(done["lines_processed"], 1200);
  EXPECT_EQ(done["state_change_count"], 3);
  EXPECT_EQ(done["event_count"], 1);
  EXPECT_EQ(all["data"][3]["state"], nullptr);  // events only: no lifecycle

  const json active = call("/v1/sessions?active=true", "/v1/sessions");
  ASSERT_EQ(active["data"].size(), 1u);
  EXPECT_EQ(active["data"][0]["session_id"], "live");
  EXPECT_EQ(active["data"][0]["state"], "started");
  const json inactive = call("/v1/sessions?active=false&limit=1", "/v1/sessions");
  EXPECT_EQ(inactive["data"][0]["session_id"], "done");
  // A cursor of the inactive listing walks on in it, and is refused by another.
  const std::string cursor = inactive["next_cursor"];
  const json next = call("/v1/sessions?active=false&limit=5&cursor=" + cursor, "/v1/sessions");
  ASSERT_EQ(next["data"].size(), 2u);
  EXPECT_EQ(next["data"][0]["session_id"], "crashed");
  EXPECT_EQ(next["data"][0]["exit_code"], 137);
  call("/v1/sessions?active=true&cursor=" + cursor, "/v1/sessions", 400);
  const json bad = call("/v1/sessions?active=maybe", "/v1/sessions", 400);
  EXPECT_NE(bad["error"].get<std::string>().find("active"), std::string::npos);
  EXPECT_EQ(call("/v1/sessions?active=true&agent=reviewer", "/v1/sessions")["data"].size(), 0u);
}

TEST_P(ReadApiSessions, OneSessionHasItsStateChangesInTimeOrder) {
  const json done = call("/v1/sessions/done", "/v1/sessions/{id}");
  ASSERT_EQ(done["state_changes"].size(), 3u);
  EXPECT_EQ(done["state_changes"][0]["state"], "started");
  EXPECT_EQ(done["state_changes"][0]["metadata"], json({{"pr", 12}}));
  EXPECT_EQ(done["state_changes"][1]["lines_processed"], 500);
  EXPECT_EQ(done["state_changes"][2]["state"], "completed");
  EXPECT_EQ(done["extraction_config_version"], "v3");
  EXPECT_EQ(done["events_by_type"]["command"], 1);
  EXPECT_TRUE(call("/v1/sessions/plain", "/v1/sessions/{id}")["state_changes"].empty());
}

TEST_P(ReadApiSessions, QuerySessionsActiveIsTheEndpointsJson) {
  const auto r = testing::run_patternd(
      {"query", "--config", s_api->config, "sessions", "--active", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, testing::http_get(s_api->port, "/v1/sessions?active=true", {}).body);
}

INSTANTIATE_TEST_SUITE_P(Backends, ReadApiSessions, ::testing::ValuesIn(testing::backend_names()),
                         testing::backend_of);

}  // namespace
}  // namespace patternd
