// The read API (issue 16) against a database whose content the test wrote:
// every figure is checked against a model computed here from the same
// inputs, every response against /v1/openapi.json, and `patternd query`
// against the endpoint's bytes. Every test runs on both backends (SQLite
// and PostgreSQL: integration/served_api.hpp), with the same expectations.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>

#include "core/time.hpp"
#include "detect/failure.hpp"
#include "integration/served_api.hpp"
#include "support/helpers.hpp"
#include "support/openapi_check.hpp"

namespace patternd {
namespace {

using nlohmann::json;
using testing::TempDir;

const std::string k_token = "read-api-test-token-0123456789";

struct Event {
  std::string id, agent, session, type, pattern, matched;
  std::optional<std::string> risk, language, code;
  core::TimestampMs time = 0;
};

struct Workflow {
  std::string id, agent, nl_input, status;
  double cost = 0;
  core::TimestampMs time = 0;
};

// The corpus: 60 events of two agents in five sessions, two error
// signatures, two code blocks; 12 workflows of three agents (one of them
// has no session) on two operation patterns. Two events share a time, so
// the id breaks the tie.
struct Corpus {
  core::TimestampMs base = (core::now_ms() - 2 * 86'400'000) / 3'600'000 * 3'600'000;
  std::vector<Event> events;
  std::vector<Workflow> workflows;

  Corpus() {
    for (int i = 0; i < 60; ++i) {
      Event e;
      e.id = "ev-" + std::to_string(i);
      e.agent = i % 3 == 0 ? "beta" : "alpha";
      e.session = "s" + std::to_string(i % 5);
      e.type = i % 4 == 0 ? "error" : i % 4 == 1 ? "code_block" : "command";
      e.pattern = e.type == "error"        ? "error_detection"
                  : e.type == "code_block" ? "fenced_code"
                  : i % 2 != 0             ? "shell_command"
                                           : "npm_command";
      if (i % 3 == 1) e.risk = "high";
      if (i % 3 == 2) e.risk = "low";
      e.time = base + (i == 11 ? 10 : i) * 7 * 60'000;
      if (e.type == "error")
        e.matched = i % 8 == 0 ? "TypeError: Cannot read properties of undefined (reading 'id') "
                                 "at /app/x" +
                                     std::to_string(i) + ".js:10:5"
                               : "ValueError: invalid literal for int() with base 10: 'x" +
                                     std::to_string(i) + "'";
      if (e.type == "code_block") {
        e.language = i % 8 == 1 ? "python" : "bash";
        e.code = i % 8 == 1 ? "print(1)\n" : "echo hi\n";
      }
      events.push_back(e);
    }
    for (int i = 0; i < 12; ++i)
      workflows.push_back(
          {"wf-" + std::to_string(i),
           i % 3 == 0   ? "alpha"
           : i % 3 == 1 ? "beta"
                        : "gamma",
           i % 2 == 0 ? "Run backend tests with pytest" : "Lint the frontend with eslint",
           i % 5 == 0 ? "failed" : "completed", 0.1 * (i + 1), base + i * 13 * 60'000});
  }

  std::string events_jsonl() const {
    std::string out;
    for (const auto& e : events) {
      json j{{"event_id", e.id},        {"agent_name", e.agent},
             {"session_id", e.session}, {"timestamp", core::format_rfc3339(e.time)},
             {"event_type", e.type},    {"pattern", e.pattern}};
      if (e.risk) j["risk_level"] = *e.risk;
      if (!e.matched.empty()) j["matched_value"] = e.matched;
      if (e.code) j["code_block"] = {{"language", *e.language}, {"content", *e.code}};
      out += j.dump() + "\n";
    }
    return out;
  }

  std::string workflows_jsonl() const {
    std::string out;
    for (const auto& w : workflows)
      out += json{{"workflow_id", w.id},
                  {"agent_name", w.agent},
                  {"nl_input", w.nl_input},
                  {"workflow_template",
                   w.nl_input.find("pytest") != std::string::npos ? "adw_test" : "adw_chore"},
                  {"status", w.status},
                  {"total_tokens", 1000},
                  {"actual_cost_total", w.cost},
                  {"error_count", 0},
                  {"retry_count", 0},
                  {"duration_seconds", 60},
                  {"completed_at", core::format_rfc3339(w.time)}}
                 .dump() +
             "\n";
    return out;
  }

  // Event ids matching `keep`, newest first (ties: the later-stored first).
  std::vector<std::string> newest_first(const std::function<bool(const Event&)>& keep) const {
    std::vector<std::pair<std::pair<core::TimestampMs, int>, std::string>> rows;
    for (std::size_t i = 0; i < events.size(); ++i)
      if (keep(events[i])) rows.push_back({{events[i].time, int(i)}, events[i].id});
    std::sort(rows.rbegin(), rows.rend());
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.second);
    return out;
  }
};

// The template of /v1/openapi.json a request path answers to.
std::string template_of(const std::string& path) {
  static const std::vector<std::pair<std::regex, std::string>> k_templates = {
      {std::regex("/v1/patterns/[^/]+"), "/v1/patterns/{signature}"},
      {std::regex("/v1/failures/lookup"), "/v1/failures/lookup"},
      {std::regex("/v1/sessions/[^/]+/events"), "/v1/sessions/{id}/events"},
      {std::regex("/v1/sessions/[^/]+"), "/v1/sessions/{id}"},
      {std::regex("/v1/agents/[^/]+/stats"), "/v1/agents/{name}/stats"}};
  for (const auto& [pattern, name] : k_templates)
    if (std::regex_match(path, pattern)) return name;
  return path;
}

class ReadApi : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    testing::ServedApi& api = s_apis.of(GetParam());
    s_dir = &api.dir;
    s_config = api.config;
    s_port = api.port;
    s_openapi = api.openapi.get();
    ASSERT_GT(s_port, 0) << testing::read_file(s_dir->file("serve.log"));
  }
  static void TearDownTestSuite() {
    s_apis.clear();
    delete s_corpus;
    s_corpus = nullptr;
  }

  // One corpus for both backends: its times are relative to when it was made.
  static const Corpus& corpus() {
    if (!s_corpus) s_corpus = new Corpus();
    return *s_corpus;
  }

  static std::vector<std::pair<std::string, std::string>> auth() {
    return {{"Authorization", "Bearer " + k_token}};
  }

  // GET with the token; the status must be `status` and the body valid
  // against the document's schema for it.
  static json call(const std::string& target, int status = 200,
                   std::vector<std::pair<std::string, std::string>> headers = auth()) {
    const auto r = testing::http_get(s_port, target, headers);
    EXPECT_EQ(r.status, status) << target << "\n" << r.body;
    json body = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << target << ": not JSON: " << r.body;
    EXPECT_EQ(r.headers.count("content-type") ? r.headers.at("content-type") : "",
              "application/json");
    const std::string path = target.substr(0, target.find('?'));
    for (const auto& e : s_openapi->errors(template_of(path), r.status, body))
      ADD_FAILURE() << target << ": " << e;
    return body;
  }

  // Every page of a listing, following next_cursor; the rows in order.
  static std::vector<json> walk(const std::string& target, int limit = 7) {
    std::vector<json> rows;
    const char* joiner = target.find('?') == std::string::npos ? "?" : "&";
    std::string next = target + joiner + "limit=" + std::to_string(limit);
    for (int pages = 0; pages < 1000; ++pages) {
      const json page = call(next);
      EXPECT_LE(page["data"].size(), static_cast<std::size_t>(limit));
      for (const auto& row : page["data"]) rows.push_back(row);
      if (page["next_cursor"].is_null()) return rows;
      EXPECT_EQ(page["data"].size(), static_cast<std::size_t>(limit))
          << "only a last page is short";
      next = target + joiner + "limit=" + std::to_string(limit) +
             "&cursor=" + page["next_cursor"].get<std::string>();
    }
    ADD_FAILURE() << "more than 1000 pages";
    return rows;
  }

  static std::vector<std::string> ids(const std::vector<json>& rows, const char* field) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r[field].is_null() ? "" : r[field].get<std::string>());
    return out;
  }

  static testing::ServedApiPerBackend s_apis;
  static Corpus* s_corpus;
  // This test's backend's:
  static const TempDir* s_dir;
  static std::string s_config;
  static int s_port;
  static const testing::OpenApiCheck* s_openapi;
};

testing::ServedApiPerBackend ReadApi::s_apis([](const std::string& backend) {
  return std::make_unique<testing::ServedApi>(
      backend,
      testing::ServedApi::Inputs{{"extractions", ReadApi::corpus().events_jsonl()},
                                 {"workflows", ReadApi::corpus().workflows_jsonl()}},
      "api:\n  tokens: [" + k_token + "]\n", ReadApi::auth());
});
Corpus* ReadApi::s_corpus = nullptr;
const TempDir* ReadApi::s_dir = nullptr;
std::string ReadApi::s_config;
int ReadApi::s_port = -1;
const testing::OpenApiCheck* ReadApi::s_openapi = nullptr;

TEST_P(ReadApi, ExtractionsWalkedSevenAtATimeAreEveryMatchingEventOnceNewestFirst) {
  const Corpus& c = *s_corpus;
  const std::string since = core::format_rfc3339(c.base + 100 * 60'000);
  const std::string until = core::format_rfc3339(c.base + 300 * 60'000);
  const std::vector<std::pair<std::string, std::function<bool(const Event&)>>> cases = {
      {"/v1/extractions", [](const Event&) { return true; }},
      {"/v1/extractions?agent=alpha", [](const Event& e) { return e.agent == "alpha"; }},
      {"/v1/extractions?session=s2", [](const Event& e) { return e.session == "s2"; }},
      {"/v1/extractions?type=error", [](const Event& e) { return e.type == "error"; }},
      {"/v1/extractions?agent=beta&type=command",
       [](const Event& e) { return e.agent == "beta" && e.type == "command"; }},
      {"/v1/extractions?pattern=shell_command",
       [](const Event& e) { return e.pattern == "shell_command"; }},
      {"/v1/extractions?risk=high", [](const Event& e) { return e.risk == "high"; }},
      {"/v1/extractions?since=" + since + "&until=" + until,
       [&](const Event& e) {
         return e.time >= c.base + 100 * 60'000 && e.time < c.base + 300 * 60'000;
       }},
      {"/v1/extractions?agent=alpha&risk=low&since=" + since,
       [&](const Event& e) {
         return e.agent == "alpha" && e.risk == "low" && e.time >= c.base + 100 * 60'000;
       }},
      {"/v1/extractions?agent=nobody", [](const Event&) { return false; }},
  };
  for (const auto& [target, keep] : cases)
    EXPECT_EQ(ids(walk(target), "event_id"), c.newest_first(keep)) << target;

  // One row in full.
  const json row = call("/v1/extractions?session=s1&type=code_block&limit=1")["data"][0];
  EXPECT_EQ(row["event_id"], "ev-41");
  EXPECT_EQ(row["agent"], "alpha");
  EXPECT_EQ(row["time"], core::format_rfc3339(c.base + 41 * 7 * 60'000));
  EXPECT_EQ(row["pattern"], "fenced_code");
  EXPECT_EQ(row["risk_level"], "low");
  EXPECT_EQ(row["code"]["digest"].get<std::string>().size(), 64u);
}

TEST_P(ReadApi, SessionsHaveTheirAgentTimesAndCountsAndTheirEventsInTimeOrder) {
  const Corpus& c = *s_corpus;
  struct Model {
    std::string agent;
    core::TimestampMs first = INT64_MAX, last = 0;
    int events = 0, errors = 0;
    std::map<std::string, int> types;
  };
  std::map<std::string, Model> model;
  for (const auto& e : c.events) {
    Model& m = model[e.session];
    if (e.time < m.first) m.agent = e.agent;
    m.first = std::min(m.first, e.time);
    m.last = std::max(m.last, e.time);
    ++m.events;
    m.errors += e.type == "error";
    ++m.types[e.type];
  }
  std::vector<std::pair<core::TimestampMs, std::string>> order;
  for (const auto& [id, m] : model) order.push_back({m.first, id});
  std::sort(order.rbegin(), order.rend());
  std::vector<std::string> expected;
  for (const auto& o : order) expected.push_back(o.second);
  EXPECT_EQ(ids(walk("/v1/sessions", 2), "session_id"), expected);

  for (const auto& [id, m] : model) {
    const json s = call("/v1/sessions/" + id);
    EXPECT_EQ(s["agent"], m.agent) << id;
    EXPECT_EQ(s["first_event"], core::format_rfc3339(m.first)) << id;
    EXPECT_EQ(s["last_event"], core::format_rfc3339(m.last)) << id;
    EXPECT_EQ(s["event_count"], m.events) << id;
    EXPECT_EQ(s["error_count"], m.errors) << id;
    for (const auto& [type, n] : m.types) EXPECT_EQ(s["events_by_type"][type], n) << id << type;

    auto oldest_first = c.newest_first([&](const Event& e) { return e.session == id; });
    std::reverse(oldest_first.begin(), oldest_first.end());
    EXPECT_EQ(ids(walk("/v1/sessions/" + id + "/events"), "event_id"), oldest_first) << id;
  }
  std::vector<std::string> beta;
  for (const auto& id : expected)
    if (model[id].agent == "beta") beta.push_back(id);
  EXPECT_EQ(ids(walk("/v1/sessions?agent=beta"), "session_id"), beta);
  auto errors =
      c.newest_first([](const Event& e) { return e.session == "s0" && e.type == "error"; });
  std::reverse(errors.begin(), errors.end());
  EXPECT_EQ(ids(walk("/v1/sessions/s0/events?type=error"), "event_id"), errors);
}

TEST_P(ReadApi, FailuresCountOccurrencesAgentsAndSessionsAndLookupFindsTheSignature) {
  struct Model {
    int frequency = 0;
    std::set<std::string> agents, sessions;
    core::TimestampMs first = INT64_MAX, last = 0;
  };
  std::map<std::string, Model> model;
  for (const auto& e : s_corpus->events) {
    if (e.type != "error") continue;
    Model& m = model[detect::normalize_failure(e.matched)];
    ++m.frequency;
    m.agents.insert(e.agent);
    m.sessions.insert(e.session);
    m.first = std::min(m.first, e.time);
    m.last = std::max(m.last, e.time);
  }
  ASSERT_EQ(model.size(), 2u);
  const auto rows = walk("/v1/failures", 1);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_GE(rows[0]["frequency"].get<int>(), rows[1]["frequency"].get<int>());
  for (const auto& row : rows) {
    const Model& m = model.at(row["signature"]);
    EXPECT_EQ(row["frequency"], m.frequency);
    EXPECT_EQ(row["agents"], m.agents.size());
    EXPECT_EQ(row["sessions"], m.sessions.size());
    EXPECT_EQ(row["first_seen"], core::format_rfc3339(m.first));
    EXPECT_EQ(row["last_seen"], core::format_rfc3339(m.last));
  }
  // The same error from elsewhere in the code: the same signature, seen.
  const json seen = call(
      "/v1/failures/lookup?error=TypeError%3A%20Cannot%20read%20properties%20of%20undefined%20"
      "(reading%20%27name%27)%20at%20%2Fsrv%2Fother.js%3A99%3A1");
  EXPECT_TRUE(seen["seen"].get<bool>());
  const Model& type_error = model.at(seen["signature"]);
  EXPECT_EQ(seen["frequency"], type_error.frequency);
  EXPECT_EQ(seen["error_type"], "TypeError");
  EXPECT_EQ(seen["example"],
            "TypeError: Cannot read properties of undefined (reading 'id') at "
            "/app/x0.js:10:5");  // the earliest
  EXPECT_EQ(seen["fixes"], json::array());
  const json unseen = call("/v1/failures/lookup?error=KeyError%3A%20%27zzz%27");
  EXPECT_FALSE(unseen["seen"].get<bool>());
  EXPECT_EQ(unseen["signature"], detect::normalize_failure("KeyError: 'zzz'"));
  EXPECT_EQ(unseen["frequency"], 0);
  // By agent: beta's errors are all ValueErrors (i % 3 == 0 and i % 8 == 0 never meet below 24).
  for (const auto& row : walk("/v1/failures?agent=beta"))
    EXPECT_TRUE(model.at(row["signature"]).agents.count("beta")) << row["signature"];
  // sort=last_seen: the latest first.
  const auto by_time = walk("/v1/failures?sort=last_seen");
  ASSERT_EQ(by_time.size(), 2u);
  EXPECT_GE(by_time[0]["last_seen"].get<std::string>(), by_time[1]["last_seen"].get<std::string>());
}

TEST_P(ReadApi, PatternsCarryTheirExactFiguresAndRunsPerDay) {
  struct Model {
    int runs = 0, successes = 0;
    double cost = 0;
  };
  std::map<std::string, Model> model;
  for (const auto& w : s_corpus->workflows) {
    Model& m = model[w.nl_input.find("pytest") != std::string::npos ? "test:pytest:backend"
                                                                    : "lint:eslint:frontend"];
    ++m.runs;
    m.successes += w.status == "completed";
    m.cost += w.cost;
  }
  for (const char* sort : {"savings", "occurrences", "confidence", "last_seen"}) {
    const auto rows = walk(std::string("/v1/patterns?sort=") + sort, 1);
    ASSERT_EQ(rows.size(), 2u) << sort;
    const char* field = std::string(sort) == "savings" ? "savings_last_30_days_usd" : sort;
    EXPECT_GE(rows[0][field], rows[1][field]) << sort;
  }
  for (const auto& [signature, m] : model) {
    const json p = call("/v1/patterns/" + signature);
    const double n = m.runs, phat = m.successes / n, z = 1.96;
    const double wilson =
        (phat + z * z / (2 * n) - z * std::sqrt((phat * (1 - phat) + z * z / (4 * n)) / n)) /
        (1 + z * z / n);
    EXPECT_EQ(p["occurrences"], m.runs) << signature;
    EXPECT_EQ(p["successes"], m.successes) << signature;
    EXPECT_NEAR(p["confidence"].get<double>(), wilson, 1e-9) << signature;
    EXPECT_NEAR(p["avg_cost_usd"].get<double>(), m.cost / n, 1e-9) << signature;
    EXPECT_NEAR(p["savings_last_30_days_usd"].get<double>(), m.cost * 0.95, 1e-9) << signature;
    ASSERT_EQ(p["runs_per_day"].size(), 30u);
    int runs = 0;
    for (const auto& d : p["runs_per_day"]) runs += d["runs"].get<int>();
    EXPECT_EQ(runs, m.runs) << signature;
  }
  EXPECT_EQ(walk("/v1/patterns?category=lint").size(), 1u);
  EXPECT_EQ(walk("/v1/patterns?tool=pytest&target=backend").size(), 1u);
  EXPECT_EQ(walk("/v1/patterns?min_occurrences=7").size(), 0u);
  EXPECT_EQ(walk("/v1/patterns?min_confidence=0.99").size(), 0u);
}

TEST_P(ReadApi, CodeBlocksAgentsTimelineAndHealth) {
  const auto blocks = walk("/v1/code-blocks", 1);
  ASSERT_EQ(blocks.size(), 2u);
  std::map<std::string, int> times;
  for (const auto& e : s_corpus->events)
    if (e.language) ++times[*e.language];
  for (const auto& b : blocks) EXPECT_EQ(b["times_seen"], times.at(b["language"]));
  EXPECT_EQ(walk("/v1/code-blocks?language=python").size(), 1u);

  EXPECT_EQ(ids(walk("/v1/agents", 2), "agent"),
            (std::vector<std::string>{"alpha", "beta", "gamma"}));
  const json alpha = call("/v1/agents/alpha/stats");
  int alpha_events = 0, alpha_workflows = 0;
  for (const auto& e : s_corpus->events) alpha_events += e.agent == "alpha";
  for (const auto& w : s_corpus->workflows) alpha_workflows += w.agent == "alpha";
  EXPECT_EQ(alpha["extractions"], alpha_events);
  EXPECT_EQ(alpha["workflows"], alpha_workflows);
  EXPECT_EQ(call("/v1/agents/gamma/stats")["sessions"], 0);

  const std::string from = core::format_rfc3339(s_corpus->base);
  const std::string to = core::format_rfc3339(s_corpus->base + 8 * 3'600'000);
  const json t = call("/v1/timeline?bucket=hour&from=" + from + "&to=" + to);
  ASSERT_EQ(t["data"].size(), 8u);
  int workflows = 0, errors = 0;
  for (const auto& b : t["data"]) {
    workflows += b["workflows"].get<int>();
    errors += b["errors"].get<int>();
  }
  EXPECT_EQ(workflows, 12);
  EXPECT_EQ(errors, 15);
  EXPECT_EQ(t["data"][0]["sessions_started"], 5);  // every session starts in the first hour

  const json h = call("/v1/health", 200, {});  // no token needed
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["rows"]["extraction_events"], 60);
  EXPECT_EQ(h["rows"]["workflow_history"], 12);
}

TEST_P(ReadApi, EveryKindOfBadParameterIs400NamingIt) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/v1/patterns?color=red", "color"},
      {"/v1/patterns?limit=0", "limit"},
      {"/v1/patterns?limit=1001", "limit"},
      {"/v1/patterns?limit=ten", "limit"},
      {"/v1/patterns?sort=cost", "sort"},
      {"/v1/patterns?min_confidence=2", "min_confidence"},
      {"/v1/patterns?min_occurrences=-1", "min_occurrences"},
      {"/v1/extractions?since=yesterday", "since"},
      {"/v1/extractions?risk=extreme", "risk"},
      {"/v1/extractions?agent=a&agent=b", "agent"},
      {"/v1/extractions?agent=", "agent"},
      {"/v1/extractions?agent=%ZZ", "agent"},
      {"/v1/extractions?agent=%00", "agent"},
      {"/v1/extractions?cursor=zz", "cursor"},
      {"/v1/extractions?since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z", "since"},
      {"/v1/sessions?cursor=" + call("/v1/extractions?limit=1")["next_cursor"].get<std::string>(),
       "cursor"},
      {"/v1/failures?sort=name", "sort"},
      {"/v1/failures/lookup", "error"},
      {"/v1/failures/lookup?error=%20%20", "error"},
      {"/v1/timeline?bucket=week", "bucket"},
      {"/v1/timeline?bucket=minute&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z", "from"},
      {"/v1/sessions/s1?verbose=1", "verbose"},
      {"/v1/sessions/%FF", "path"},
      {"/v1/sessions/%ED%A0%80", "path"},  // a lone surrogate: not UTF-8
      {"/v1/health?%ED%A0%80=1", "parameter name"},
      {"/v1/failures/lookup?error=%C0%AF", "error"},  // an overlong '/'
      {"/v1/timeline?from=2099-01-01T00:00:00Z", "from"},
  };
  for (const auto& [target, name] : cases) {
    const json body = call(target, 400);
    EXPECT_NE(body.value("error", "").find(name), std::string::npos) << target << ": " << body;
  }
}

TEST_P(ReadApi, UnknownIdsAndPathsAre404) {
  for (const char* target : {"/v1/patterns/test:nothing:here", "/v1/sessions/no-such",
                             "/v1/sessions/no-such/events", "/v1/agents/nobody/stats"})
    EXPECT_NE(call(target, 404).value("error", ""), "") << target;
  // Paths that are no endpoint: 404 too (and so not in the document).
  for (const char* target : {"/v1/nothing", "/v1/patterns/", "/v1", "/v2/patterns"}) {
    const auto r = testing::http_get(s_port, target, auth());
    EXPECT_EQ(r.status, 404) << target << ": " << r.body;
    EXPECT_NE(json::parse(r.body, nullptr, false).value("error", ""), "") << target;
  }
}

TEST_P(ReadApi, EveryRequestButHealthNeedsAValidToken) {
  for (const std::vector<std::pair<std::string, std::string>>& headers :
       std::vector<std::vector<std::pair<std::string, std::string>>>{
           {},
           {{"Authorization", "Bearer wrong-token-wrong-token-00"}},
           {{"Authorization", "Bearer " + k_token + "x"}},
           {{"Authorization", "Basic " + k_token}},
           {{"Authorization", k_token}}}) {
    for (const char* target : {"/v1/patterns", "/v1/openapi.json", "/v1/failures/lookup"}) {
      const json body = call(target, 401, headers);
      EXPECT_NE(body.value("error", ""), "") << target;
      const auto r = testing::http_get(s_port, target, headers);
      EXPECT_EQ(r.headers.count("www-authenticate"), 1u);
      EXPECT_EQ(r.body.find(k_token), std::string::npos);
    }
  }
  call("/v1/health", 200, {});
  EXPECT_EQ(testing::read_file(s_dir->file("serve.log")).find(k_token), std::string::npos)
      << "a token never reaches the log";
}

TEST_P(ReadApi, QueryPrintsTheEndpointsJsonForTheSameFilters) {
  const std::string t0 = core::format_rfc3339(s_corpus->base);
  const std::string t1 = core::format_rfc3339(s_corpus->base + 3 * 3'600'000);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"patterns", "--sort", "occurrences", "--min-occurrences", "2"},
       "/v1/patterns?sort=occurrences&min_occurrences=2"},
      {{"patterns", "test:pytest:backend"}, "/v1/patterns/test:pytest:backend"},
      {{"failures", "--lookup", "ValueError: invalid literal for int() with base 10: 'q'"},
       "/v1/failures/"
       "lookup?error=ValueError%3A%20invalid%20literal%20for%20int()%20with%20base%2010"
       "%3A%20%27q%27"},
      {{"extractions", "--agent", "alpha", "--type", "error", "--limit", "3"},
       "/v1/extractions?agent=alpha&type=error&limit=3"},
      {{"sessions", "--agent", "beta"}, "/v1/sessions?agent=beta"},
      {{"session", "s3"}, "/v1/sessions/s3"},
      {{"sessions", "s3", "events", "--type", "command"}, "/v1/sessions/s3/events?type=command"},
      {{"code-blocks", "--language", "bash"}, "/v1/code-blocks?language=bash"},
      {{"agents"}, "/v1/agents"},
      {{"agents", "beta", "stats"}, "/v1/agents/beta/stats"},
      {{"timeline", "--from", t0, "--to", t1}, "/v1/timeline?from=" + t0 + "&to=" + t1},
  };
  for (const auto& [args, target] : cases) {
    std::vector<std::string> argv = {"query", "--config", s_config, "--format", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = testing::run_patternd(argv);
    EXPECT_EQ(r.exit_code, 0) << target << ": " << r.err;
    EXPECT_EQ(json::parse(r.out, nullptr, false), call(target)) << target;  // validated too
    EXPECT_EQ(r.out, testing::http_get(s_port, target, auth()).body) << target;
  }
  const auto bad =
      testing::run_patternd({"query", "--config", s_config, "extractions", "--risk", "x"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("risk"), std::string::npos) << bad.err;
  const auto missing = testing::run_patternd({"query", "--config", s_config, "session", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no session"), std::string::npos) << missing.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, ReadApi, ::testing::ValuesIn(testing::backend_names()),
                         testing::backend_of);

}  // namespace
}  // namespace patternd
