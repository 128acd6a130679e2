// A session played back (SPEC section 13, issue 18): GET
// /v1/sessions/{id}/replay as Server-Sent Events and NDJSON from a real
// `patternd serve`, `patternd replay` on stdout and into `dev-broker`, and
// what many replays and clients that hang up leave behind in the server.
// Every test runs on both backends (served_api.hpp).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "integration/served_api.hpp"
#include "support/helpers.hpp"

namespace patternd {
namespace {

using nlohmann::json;
using testing::ServedApi;
using Clock = std::chrono::steady_clock;

constexpr const char* k_replay_path = "/v1/sessions/{id}/replay";

// 2026-11-20T10:00:00Z plus `ms` (under a minute).
std::string at(int ms) {
  char text[40];
  std::snprintf(text, sizeof text, "2026-11-20T10:00:%02d.%03dZ", ms / 1000, ms % 1000);
  return text;
}

std::string iso(std::time_t t) {
  char text[40];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// sess-replay: started, 19 events 250 ms apart, running, completed: 5 s in
// all. Some events carry no event_id (identified by their fields), metadata
// with a number whose text matters ("1.50"), a code block.
std::string replay_events() {
  std::string out;
  const char* types[] = {"error", "command", "code_block", "file_write"};
  for (int i = 1; i <= 19; ++i) {
    const std::string type = types[i % 4];
    json e = {{"agent_name", "replayer"},
              {"session_id", "sess-replay"},
              {"timestamp", at(250 * i)},
              {"event_type", type},
              {"line_number", 10 * i}};
    if (i % 5 != 0) e["event_id"] = "ev-" + std::to_string(i);
    if (type == "error") {
      e["pattern"] = "error_detection";
      e["matched_value"] = "TypeError: x is undefined (" + std::to_string(i % 2) + ")";
      e["original_line"] = "  TypeError: x is undefined";
    } else if (type == "command") {
      e["pattern"] = "shell_command";
      e["matched_value"] = "pytest -x";
      e["auto_confirmable"] = true;
    } else if (type == "code_block") {
      e["pattern"] = "fenced_code";
      e["code_block"] = {{"language", "python"},
                         {"content", "print(" + std::to_string(i) + ")\n"},
                         {"line_start", i},
                         {"line_end", i + 1},
                         {"parseable", true}};
    } else {
      e["pattern"] = "file_write";
      e["matched_value"] = "src/app.py";
    }
    std::string line = e.dump();
    if (type == "file_write") line.insert(line.size() - 1, R"(,"metadata":{"ratio":1.50,"n":3})");
    out += line + "\n";
  }
  return out;
}

std::string replay_lifecycle() {
  return std::string(R"({"session_id":"sess-replay","agent_name":"replayer","state":"started",)") +
         R"("timestamp":")" + at(0) +
         R"(","environment":"staging","stdout_log_path":"/logs/r.out",)"
         R"("extraction_config_version":"v2","metadata":{"load":1.50}})"
         "\n"
         R"({"session_id":"sess-replay","agent_name":"replayer","state":"running",)"
         R"("timestamp":")" +
         at(2500) + R"(","lines_processed":100})" +
         "\n"
         R"({"session_id":"sess-replay","agent_name":"replayer","state":"completed",)"
         R"("timestamp":")" +
         at(5000) + R"(","exit_code":0,"lines_processed":250})" + "\n";
}

// sess-other (never in sess-replay's replay); sess-old, whose first events
// retention will remove.
std::string other_events() {
  std::string out;
  for (int i = 0; i < 5; ++i)
    out += json{{"event_id", "other-" + std::to_string(i)},
                {"agent_name", "replayer"},
                {"session_id", "sess-other"},
                {"timestamp", at(100 + 300 * i)},
                {"event_type", "command"},
                {"pattern", "shell_command"},
                {"matched_value", "ls"}}
               .dump() +
           "\n";
  const std::time_t now = std::time(nullptr);
  for (int i = 0; i < 4; ++i)
    out += json{{"event_id", "old-" + std::to_string(i)},
                {"agent_name", "replayer"},
                {"session_id", "sess-old"},
                {"timestamp",
                 i < 3 ? "2015-01-01T00:00:0" + std::to_string(i) + "Z" : iso(now - 3600)},
                {"event_type", "command"},
                {"pattern", "shell_command"},
                {"matched_value", "make"}}
               .dump() +
           "\n";
  return out;
}

// The entries of an SSE body: each event's `event` name and parsed `data`.
std::vector<std::pair<std::string, json>> sse_entries(const std::string& body) {
  std::vector<std::pair<std::string, json>> out;
  std::size_t start = 0;
  for (std::size_t end; (end = body.find("\n\n", start)) != std::string::npos; start = end + 2) {
    const std::string block = body.substr(start, end - start);
    std::string event, data;
    std::size_t line_start = 0;
    while (line_start < block.size()) {
      std::size_t line_end = block.find('\n', line_start);
      if (line_end == std::string::npos) line_end = block.size();
      const std::string line = block.substr(line_start, line_end - line_start);
      if (line.rfind("event: ", 0) == 0) event = line.substr(7);
      if (line.rfind("data: ", 0) == 0) data = line.substr(6);
      line_start = line_end + 1;
    }
    if (event.empty()) continue;  // a comment (keepalive)
    out.emplace_back(event, json::parse(data));
  }
  EXPECT_EQ(start, body.size()) << "an unterminated event at the end";
  return out;
}

std::vector<json> ndjson_entries(const std::string& body) {
  std::vector<json> out;
  std::size_t start = 0;
  for (std::size_t end; (end = body.find('\n', start)) != std::string::npos; start = end + 1)
    out.push_back(json::parse(body.substr(start, end - start)));
  EXPECT_EQ(start, body.size());
  return out;
}

std::size_t count_entries(const std::string& dir) {
  std::error_code error;
  std::size_t n = 0;
  for (auto it = std::filesystem::directory_iterator(dir, error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error))
    ++n;
  return n;
}

// A client that asks for a replay, reads its first bytes and hangs up.
void hang_up_after_first_bytes(int port, const std::string& target) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string got;
  char buffer[4096];
  while (got.find("event: ") == std::string::npos) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    got.append(buffer, static_cast<std::size_t>(n));
  }
  EXPECT_NE(got.find("event: "), std::string::npos) << got;
  ::close(fd);
}

class Replay : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { s_api = &s_apis.of(GetParam()); }
  static void TearDownTestSuite() {
    s_apis.clear();
    s_api = nullptr;
  }

  static std::string target(const std::string& session, const std::string& query) {
    return "/v1/sessions/" + session + "/replay" + (query.empty() ? "" : "?" + query);
  }

  static testing::ServedApiPerBackend s_apis;
  static ServedApi* s_api;  // this test's backend's
};

testing::ServedApiPerBackend Replay::s_apis([](const std::string& backend) {
  return std::make_unique<ServedApi>(backend, ServedApi::Inputs{{"extractions", replay_events()},
                                                                {"sessions", replay_lifecycle()},
                                                                {"extractions", other_events()}});
});
ServedApi* Replay::s_api = nullptr;

TEST_P(Replay, AtSpeedTenAFiveSecondSessionTakesHalfASecondAndIsItsEntriesInEventTimeOrder) {
  const auto start = Clock::now();
  const auto r = testing::http_get(s_api->port, target("sess-replay", "speed=10"));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.at("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_NEAR(seconds, 0.5, 0.2);

  const auto entries = sse_entries(r.body);
  ASSERT_EQ(entries.size(), 19u + 3u + 1u);
  std::vector<std::string> identities, states;
  std::int64_t previous = -1;
  for (const auto& [event, data] : entries) {
    EXPECT_EQ(event, data["kind"]);
    for (const auto& e : s_api->openapi->errors(k_replay_path, 200, data)) ADD_FAILURE() << e;
    if (event == "end") continue;
    const std::int64_t offset = data["offset_ms"];
    EXPECT_GE(offset, previous) << "out of event-time order: " << data;
    previous = offset;
    if (event == "extraction") identities.push_back(data["extraction"]["identity"]);
    if (event == "state_change") states.push_back(data["state_change"]["state"]);
  }
  EXPECT_EQ(entries.front().first, "state_change");
  EXPECT_EQ(previous, 5000);
  EXPECT_EQ(states, (std::vector<std::string>{"started", "running", "completed"}));
  EXPECT_EQ(entries.back().second,
            (json{{"kind", "end"}, {"extractions", 19}, {"state_changes", 3}, {"span_ms", 5000}}));

  // Exactly the session's events: those /v1/sessions/{id}/events lists, in its order.
  const json events =
      s_api->call("/v1/sessions/sess-replay/events?limit=1000", "/v1/sessions/{id}/events");
  std::vector<std::string> listed;
  for (const auto& e : events["data"]) listed.push_back(e["identity"]);
  EXPECT_EQ(identities, listed);
}

TEST_P(Replay, SpeedZeroAnswersAtOnceAndNdjsonCarriesTheEntriesSseDoes) {
  const auto start = Clock::now();
  const auto sse = testing::http_get(s_api->port, target("sess-replay", "speed=0"));
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 0.3);
  const auto ndjson = testing::http_get(s_api->port, target("sess-replay", "speed=0"),
                                        {{"Accept", "application/x-ndjson"}});
  ASSERT_EQ(sse.status, 200);
  ASSERT_EQ(ndjson.status, 200);
  EXPECT_EQ(ndjson.headers.at("content-type"), "application/x-ndjson");
  std::vector<json> from_sse;
  for (const auto& [event, data] : sse_entries(sse.body)) from_sse.push_back(data);
  EXPECT_EQ(ndjson_entries(ndjson.body), from_sse);
  EXPECT_EQ(from_sse.size(), 23u);
}

TEST_P(Replay, TypesChooseEventTypesAndLifecycleTheStateChanges) {
  const auto errors = testing::http_get(s_api->port, target("sess-replay", "speed=0&types=error"),
                                        {{"Accept", "application/x-ndjson"}});
  const auto entries = ndjson_entries(errors.body);
  ASSERT_FALSE(entries.empty());
  for (std::size_t i = 0; i + 1 < entries.size(); ++i)
    EXPECT_EQ(entries[i]["extraction"]["type"], "error") << entries[i];
  EXPECT_EQ(entries.back()["extractions"], 4);  // i = 4, 8, 12, 16
  EXPECT_EQ(entries.back()["state_changes"], 0);

  const auto lifecycle = ndjson_entries(
      testing::http_get(s_api->port, target("sess-replay", "speed=0&types=lifecycle"),
                        {{"Accept", "application/x-ndjson"}})
          .body);
  ASSERT_EQ(lifecycle.size(), 4u);
  EXPECT_EQ(lifecycle[2]["state_change"]["exit_code"], 0);
  EXPECT_EQ(lifecycle[0]["state_change"]["metadata"], (json{{"load", 1.5}}));
}

TEST_P(Replay, BadParametersAre400AndAnUnknownSessionIs404) {
  for (const std::string query :
       {"speed=-1", "speed=fast", "speed=nan", "speed=1e9", "speed=1e-300", "types=error%20x",
        "types=,", "volume=11", "speed=1&speed=2"}) {
    const json body = s_api->call(target("sess-replay", query), k_replay_path, 400);
    EXPECT_TRUE(body.contains("error")) << query;
  }
  const json missing = s_api->call(target("sess-nowhere", ""), k_replay_path, 404);
  EXPECT_EQ(missing["error"], "no session \"sess-nowhere\"");
  s_api->call(target("%ff%fe", ""), k_replay_path, 400);
}

TEST_P(Replay, ASessionWhoseEventsRetentionRemovedSaysSoFirst) {
  const auto pruned =
      testing::run_patternd({"prune", "--config", s_api->config, "--older-than", "1000"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  const auto entries = ndjson_entries(testing::http_get(s_api->port, target("sess-old", "speed=0"),
                                                        {{"Accept", "application/x-ndjson"}})
                                          .body);
  ASSERT_EQ(entries.size(), 3u);  // the notice, the one event left, the end
  EXPECT_EQ(entries[0]["kind"], "notice");
  EXPECT_EQ(entries[0]["reason"], "retention");
  EXPECT_EQ(entries[0]["events_recorded"], 4);
  EXPECT_EQ(entries[0]["events_stored"], 1);
  EXPECT_EQ(entries[1]["extraction"]["event_id"], "old-3");
  for (const auto& e : entries)
    for (const auto& error : s_api->openapi->errors(k_replay_path, 200, e)) ADD_FAILURE() << error;
  // A session retention left whole has no notice.
  const auto whole = ndjson_entries(testing::http_get(s_api->port, target("sess-other", "speed=0"),
                                                      {{"Accept", "application/x-ndjson"}})
                                        .body);
  EXPECT_EQ(whole.front()["kind"], "extraction");
}

TEST_P(Replay, ManyReplaysAndClientsThatHangUpLeaveThreadsAndDescriptorsAsTheyWere) {
  const std::string proc = "/proc/" + std::to_string(s_api->serve->pid());
  // Warm up: the pool of readers grows to its size (one per worker thread).
  // At speed 10 (0.5 s each), so that the 50 overlap as the test's will: at
  // speed 0 they could finish one after another on a loaded machine, the
  // pool stay smaller, and its growth during the test look like a leak.
  {
    std::vector<std::thread> warm;
    for (int i = 0; i < 50; ++i)
      warm.emplace_back([] { testing::http_get(s_api->port, target("sess-replay", "speed=10")); });
    for (auto& t : warm) t.join();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::size_t threads = count_entries(proc + "/task");
  const std::size_t descriptors = count_entries(proc + "/fd");
  // The pool of readers may still grow when more requests overlap than in
  // the warm-up: one reader per worker thread at most, two descriptors each
  // (SQLite's file and its WAL; a PostgreSQL reader's one socket). That much
  // growth is no leak; the 20 abandoned replays' connections (or the 70
  // requests' anything) are beyond it.
  const std::size_t pool_growth = 2 * threads;

  // 50 replays at speed 10 (0.5 s each), and 20 clients that start one at
  // speed 0.1 (its next event 2.5 s later, so no failed write would tell the
  // server before then) and hang up after its first event.
  std::vector<testing::HttpResponse> results(50);
  std::vector<std::thread> clients;
  for (int i = 0; i < 50; ++i)
    clients.emplace_back([&results, i] {
      results[static_cast<std::size_t>(i)] = testing::http_get(
          s_api->port, target("sess-replay", "speed=10"), {{"Accept", "application/x-ndjson"}});
    });
  for (int i = 0; i < 20; ++i)
    clients.emplace_back(
        [] { hang_up_after_first_bytes(s_api->port, target("sess-replay", "speed=0.1")); });
  for (auto& t : clients) t.join();
  for (const auto& r : results) {
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(ndjson_entries(r.body).size(), 23u);
  }

  // The abandoned replays had seconds to wait for their next event: their
  // resources must be freed well before, when their clients hung up.
  EXPECT_TRUE(testing::eventually(
      [&] {
        return count_entries(proc + "/fd") <= descriptors + pool_growth &&
               count_entries(proc + "/task") <= threads;
      },
      2))
      << testing::run_command({"ls", "-l", proc + "/fd"}).out << "descriptors "
      << count_entries(proc + "/fd") << " (were " << descriptors << "), threads "
      << count_entries(proc + "/task") << " (were " << threads << ")";
  // And the server goes on answering.
  s_api->call("/v1/sessions/sess-replay", "/v1/sessions/{id}");
  EXPECT_EQ(
      sse_entries(testing::http_get(s_api->port, target("sess-replay", "speed=0")).body).size(),
      23u);
}

TEST_P(Replay, TheCommandPrintsTheEndpointsNdjson) {
  const auto printed = testing::run_patternd(
      {"replay", "--config", s_api->config, "--session", "sess-replay", "--speed", "0"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  const auto served = testing::http_get(s_api->port, target("sess-replay", "speed=0"),
                                        {{"Accept", "application/x-ndjson"}});
  EXPECT_EQ(printed.out, served.body);

  const auto missing =
      testing::run_patternd({"replay", "--config", s_api->config, "--session", "sess-nowhere"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no session \"sess-nowhere\""), std::string::npos) << missing.err;
  const auto bad = testing::run_patternd(
      {"replay", "--config", s_api->config, "--session", "sess-replay", "--types", "a b"});
  EXPECT_EQ(bad.exit_code, 2);
  const auto no_brokers = testing::run_patternd(
      {"replay", "--config", s_api->config, "--session", "sess-replay", "--to-topic", "t"});
  EXPECT_EQ(no_brokers.exit_code, 2);
  EXPECT_NE(no_brokers.err.find("--brokers"), std::string::npos) << no_brokers.err;
}

// Republished through a real broker and consumed by `run` into a second
// database, the session's rows are those its original messages made.
TEST_P(Replay, ToTopicThroughTheBrokerReproducesTheSessionsRows) {
  testing::TempDir original_dir, dir;
  const std::string original = testing::write_config(original_dir);
  for (const auto& [topic, lines] :
       {std::pair{"extractions", replay_events()}, std::pair{"sessions", replay_lifecycle()}}) {
    const std::string file = original_dir.file(std::string(topic) + ".jsonl");
    testing::write_file(file, lines);
    const auto r = testing::run_patternd({"ingest", "--config", original, "--topic", topic, file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  testing::BackgroundProcess broker(
      {"dev-broker", "--partitions", "3", "--topics",
       "agent.workflows,replay.events,agent.outcomes,replay.sessions"});
  const std::string bootstrap = broker.read_line(10000);
  ASSERT_FALSE(bootstrap.empty());
  const auto published = testing::run_patternd(
      {"replay", "--config", s_api->config, "--session", "sess-replay", "--to-topic",
       "replay.events", "--sessions-topic", "replay.sessions", "--brokers", bootstrap});
  ASSERT_EQ(published.exit_code, 0) << published.err;
  EXPECT_NE(published.err.find("published 19 events to replay.events and 3 state changes to "
                               "replay.sessions"),
            std::string::npos)
      << published.err;

  const std::string db = dir.file("patternd.db");
  const std::string config = testing::write_config(
      dir, "replayed.yaml", "",
      "kafka:\n  brokers: " + bootstrap +
          "\n  group_id: g-replayed\n  topics:\n    extractions: replay.events\n"
          "    sessions: replay.sessions\n");
  {
    testing::BackgroundProcess worker({"run", "--config", config}, dir.file("run.log"));
    const bool caught_up = testing::eventually(
        [&] {
          const auto rows =
              testing::run_command({"sqlite3", db,
                                    "SELECT (SELECT count(*) FROM extraction_events) || ' ' || "
                                    "(SELECT count(*) FROM session_state_changes)"});
          return rows.out == "19 3\n";
        },
        60);
    ASSERT_TRUE(caught_up) << testing::read_file(dir.file("run.log"));
    worker.signal(SIGTERM);
    EXPECT_EQ(worker.wait(10000), 0);
  }
  // Every table alike but the Kafka offsets (the original came from files).
  auto without_offsets = [](std::string dump) {
    const auto from = dump.find("== kafka_offsets");
    const auto to = dump.find("== ", from + 3);
    return dump.erase(from, to - from);
  };
  EXPECT_EQ(without_offsets(testing::canonical_database(db)),
            without_offsets(testing::canonical_database(original_dir.file("patternd.db"))));
}

INSTANTIATE_TEST_SUITE_P(Backends, Replay, ::testing::ValuesIn(testing::backend_names()),
                         testing::backend_of);

}  // namespace
}  // namespace patternd
