// The read API next to a worker that writes: pages stay exact while rows
// arrive, and slow clients starve neither the API nor the worker's probes
// (issue 16, must show 1 and 5; issue 22, item 2). Each test runs on both
// backends (support/test_store.hpp).

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/time.hpp"
#include "support/helpers.hpp"
#include "support/openapi_check.hpp"
#include "support/slow_clients.hpp"
#include "support/test_store.hpp"

namespace patternd {
namespace {

using nlohmann::json;
using testing::BackgroundProcess;
using testing::TempDir;
using namespace std::chrono;

std::string event_line(const std::string& id, const std::string& agent, core::TimestampMs time) {
  return json{{"event_id", id},
              {"agent_name", agent},
              {"session_id", "sess-" + std::to_string(time % 97)},
              {"timestamp", core::format_rfc3339(time)},
              {"event_type", "command"},
              {"matched_value", "make test"}}
             .dump() +
         "\n";
}

// Counted in the database itself (/v1/health's counts may be 15 s old).
std::int64_t stored_events(const testing::TestStore& store) {
  return store.count("extraction_events");
}

class ReadApiLive : public ::testing::TestWithParam<std::string> {
 protected:
  // A store of this test's backend for a test working in `dir`.
  static std::unique_ptr<testing::TestStore> store_in(const TempDir& dir) {
    return testing::store_for(GetParam(), dir, "live");
  }
};

// `r` is valid as the `path` template's response of its status.
void expect_documented(const testing::OpenApiCheck& openapi, const std::string& path,
                       const testing::HttpResponse& r) {
  const json body = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(body.is_discarded()) << path << ": " << r.body;
  for (const auto& e : openapi.errors(path, r.status, body)) ADD_FAILURE() << path << ": " << e;
}

// Keyset pages: a row that was there when the walk began is on exactly one
// page, whatever the writer inserts before, between and after it.
TEST_P(ReadApiLive, WalkingPagesWhileAWriterInsertsReturnsEveryEarlierRowOnceInOrder) {
  TempDir dir;
  const auto store = store_in(dir);
  const std::string config = testing::write_config(dir, "patternd.yaml", "", store->config_yaml());
  const core::TimestampMs base = core::now_ms() - 86'400'000;
  std::string before, during;
  std::set<std::string> earlier;
  for (int i = 0; i < 400; ++i) {
    const std::string id = "a-" + std::to_string(i);
    before += event_line(id, "walker", base + i * 200'000);
    earlier.insert(id);
  }
  // During the walk: 150,000 rows, 1 in 50 of them the walker's, their
  // times between and around the earlier ones.
  for (int i = 0; i < 150'000; ++i)
    during += event_line("b-" + std::to_string(i), i % 50 == 0 ? "walker" : "other",
                         base - 3'600'000 + (i * 7919LL % 150'000) * 600);
  testing::write_file(dir.file("before.jsonl"), before);
  testing::write_file(dir.file("during.jsonl"), during);
  ASSERT_EQ(testing::run_patternd(
                {"ingest", "--config", config, "--topic", "extractions", dir.file("before.jsonl")})
                .exit_code,
            0);
  BackgroundProcess serve({"serve", "--config", config}, dir.file("serve.log"));
  const int port = testing::api_port(dir.file("serve.log"), 20);
  ASSERT_GT(port, 0);

  BackgroundProcess writer(
      {"ingest", "--config", config, "--topic", "extractions", dir.file("during.jsonl")},
      dir.file("ingest.log"));
  ASSERT_TRUE(testing::eventually([&] { return stored_events(*store) > 400; }, 30));
  const std::int64_t at_start = stored_events(*store);

  const testing::OpenApiCheck openapi(testing::http_get(port, "/v1/openapi.json").body);
  std::vector<std::string> ids;
  std::vector<std::string> times;
  std::string cursor;
  for (int page = 0; page < 10'000; ++page) {
    const auto r = testing::http_get(
        port, "/v1/extractions?agent=walker&limit=7" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    const json body = json::parse(r.body);
    for (const auto& e : openapi.errors("/v1/extractions", 200, body)) ADD_FAILURE() << e;
    for (const auto& row : body["data"]) {
      ids.push_back(row["event_id"]);
      times.push_back(row["time"]);
    }
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
    std::this_thread::sleep_for(milliseconds(5));
  }
  const std::int64_t at_end = stored_events(*store);
  EXPECT_EQ(writer.wait(120'000), 0);

  EXPECT_LT(at_start, at_end) << "the writer inserted while the pages were read";
  std::set<std::string> seen;
  for (const auto& id : ids) EXPECT_TRUE(seen.insert(id).second) << id << " on two pages";
  for (const auto& id : earlier) EXPECT_EQ(seen.count(id), 1u) << id << " on no page";
  for (std::size_t i = 1; i < times.size(); ++i)
    EXPECT_GE(times[i - 1], times[i]) << "page order broken at row " << i;
}

// Eight clients trickling headers at the read API and eight at the metrics
// endpoints of a running worker, for 30 s: every other request is answered,
// each in under 100 ms. SQLite only: the HTTP servers' handling of slow
// clients is the same for both backends, and on PostgreSQL the bound would
// measure the database server's share of this machine's two cores.
TEST(ReadApiLiveSqlite, SlowClientsDelayNoRequestOfTheApiOrTheProbes) {
  TempDir dir;
  const auto store = testing::store_for("sqlite", dir, "live");
  BackgroundProcess broker({"dev-broker", "--partitions", "2"}, dir.file("broker.log"));
  const std::string bootstrap = broker.read_line(10'000);
  ASSERT_FALSE(bootstrap.empty());
  const std::string config = testing::write_config(
      dir, "patternd.yaml", "",
      "kafka:\n  brokers: " + bootstrap + "\n  group_id: slow\n" + store->config_yaml());
  BackgroundProcess worker({"run", "--config", config}, dir.file("worker.log"));
  const int metrics = testing::metrics_port(dir.file("worker.log"), 30);
  const int api = testing::api_port(dir.file("worker.log"), 30);
  ASSERT_GT(metrics, 0);
  ASSERT_GT(api, 0);
  BackgroundProcess producer({"produce", "--brokers", bootstrap, "--kind", "mixed", "--count",
                              "30000", "--rate", "1000", "--seed", "7"},
                             dir.file("producer.log"));

  const testing::OpenApiCheck openapi(testing::http_get(api, "/v1/openapi.json").body);
  const testing::SlowClients slow_api(api, 8, milliseconds(500));
  const testing::SlowClients slow_metrics(metrics, 8, milliseconds(500));
  ASSERT_EQ(slow_api.connected() + slow_metrics.connected(), 16u);
  const std::vector<std::pair<int, std::string>> probes = {
      {api, "/v1/health"},   {api, "/v1/patterns"}, {api, "/v1/extractions?limit=50"},
      {api, "/v1/failures"}, {metrics, "/metrics"}, {metrics, "/readyz"},
      {metrics, "/healthz"}};
  const auto end = steady_clock::now() + seconds(30);
  milliseconds worst{0};
  std::string slowest;
  int answered = 0;
  while (steady_clock::now() < end) {
    for (const auto& [port, target] : probes) {
      const auto start = steady_clock::now();
      const auto r = testing::http_get(port, target);
      const auto took = duration_cast<milliseconds>(steady_clock::now() - start);
      if (took > worst) {
        worst = took;
        slowest = target;
      }
      EXPECT_NE(r.status, -1) << target;
      answered += r.status != -1;
      if (port == api) expect_documented(openapi, target.substr(0, target.find('?')), r);
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_LT(worst.count(), 100) << "slowest: " << slowest << " of " << answered << " requests";
  EXPECT_GT(answered, 1000);
  producer.signal(SIGTERM);
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(30'000), 0);
}

}  // namespace
}  // namespace patternd

namespace patternd {
namespace {

// `serve` may start before any worker created the database: it says so,
// answers 503 naming the file, and serves once the database is there.
TEST_P(ReadApiLive, ServeStartedBeforeTheDatabaseAnswers503ThenServes) {
  TempDir dir;
  const auto store = store_in(dir);
  const std::string config = testing::write_config(dir, "patternd.yaml", "", store->config_yaml());
  BackgroundProcess serve({"serve", "--config", config}, dir.file("serve.log"));
  const int port = testing::api_port(dir.file("serve.log"), 20);
  ASSERT_GT(port, 0);
  EXPECT_NE(testing::read_file(dir.file("serve.log")).find("answering 503"), std::string::npos);
  const testing::OpenApiCheck openapi(testing::http_get(port, "/v1/openapi.json").body);
  const auto early = testing::http_get(port, "/v1/health");
  EXPECT_EQ(early.status, 503);
  expect_documented(openapi, "/v1/health", early);
  EXPECT_NE(early.body.find(store->location()), std::string::npos) << early.body;
  ASSERT_EQ(testing::run_patternd({"migrate", "--config", config}).exit_code, 0);
  const auto later = testing::http_get(port, "/v1/health");
  EXPECT_EQ(later.status, 200) << later.body;
  expect_documented(openapi, "/v1/health", later);
  const auto patterns = testing::http_get(port, "/v1/patterns");
  EXPECT_EQ(patterns.status, 200);
  expect_documented(openapi, "/v1/patterns", patterns);

  // HEAD like GET without the body; any other method 405 with Allow.
  const auto head = testing::http_request(port, "HEAD", "/v1/health");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    const auto r = testing::http_request(port, method, "/v1/patterns");
    EXPECT_EQ(r.status, 405) << method;
    expect_documented(openapi, "/v1/patterns", r);
    EXPECT_EQ(r.headers.count("allow") ? r.headers.at("allow") : "", "GET, HEAD") << method;
  }
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(10'000), 0);
}

}  // namespace
}  // namespace patternd

namespace patternd {
namespace {

// Events may carry a megabyte of text each: a page stops at about 4 MiB
// (with a cursor to the rest) instead of holding a gigabyte for one client.
TEST_P(ReadApiLive, APageOfLargeRowsStopsEarlyAndTheWalkStillReturnsEveryRow) {
  TempDir dir;
  const auto store = store_in(dir);
  const std::string config = testing::write_config(dir, "patternd.yaml", "", store->config_yaml());
  const core::TimestampMs base = core::now_ms() - 3'600'000;
  std::string lines;
  for (int i = 0; i < 12; ++i)
    lines += json{{"event_id", "big-" + std::to_string(i)},
                  {"agent_name", "a"},
                  {"session_id", "s"},
                  {"timestamp", core::format_rfc3339(base + i * 1000)},
                  {"event_type", "command"},
                  {"original_line", std::string(900'000, 'x')}}
                 .dump() +
             "\n";
  testing::write_file(dir.file("big.jsonl"), lines);
  ASSERT_EQ(testing::run_patternd(
                {"ingest", "--config", config, "--topic", "extractions", dir.file("big.jsonl")})
                .exit_code,
            0);
  BackgroundProcess serve({"serve", "--config", config}, dir.file("serve.log"));
  const int port = testing::api_port(dir.file("serve.log"), 20);
  ASSERT_GT(port, 0);
  const testing::OpenApiCheck openapi(testing::http_get(port, "/v1/openapi.json").body);
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (; pages < 20; ++pages) {
    const auto r = testing::http_get(
        port, "/v1/extractions?limit=12" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200);
    EXPECT_LT(r.body.size(), 6u << 20);
    expect_documented(openapi, "/v1/extractions", r);
    const json body = json::parse(r.body);
    for (const auto& row : body["data"]) EXPECT_TRUE(seen.insert(row["event_id"]).second);
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
  }
  EXPECT_EQ(seen.size(), 12u);
  EXPECT_GE(pages, 2) << "twelve 900 KB rows did not fit one page";
}

INSTANTIATE_TEST_SUITE_P(Backends, ReadApiLive, ::testing::ValuesIn(testing::backend_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace patternd
