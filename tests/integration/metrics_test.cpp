// The worker's HTTP endpoints against a real broker: /metrics passes
// `promtool check metrics` and its counters agree with what was produced and
// persisted; /healthz and /readyz answer; lag returns to 0 after catch-up.

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "core/types.hpp"
#include "support/helpers.hpp"

namespace patternd {
namespace {

using testing::BackgroundProcess;
using testing::TempDir;

int series_count(const std::string& text, const std::string& name) {
  int n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + "{", 0) == 0) ++n;
  return n;
}

// A broker and a worker with its HTTP endpoints on a free port.
class Metrics : public ::testing::Test {
 protected:
  // With `faults`, m_faults can make the operating system refuse the
  // worker's writes.
  void start(int partitions, const std::string& extra_yaml = "", bool faults = false) {
    m_broker = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"dev-broker", "--partitions", std::to_string(partitions)});
    m_bootstrap = m_broker->read_line(10000);
    ASSERT_FALSE(m_bootstrap.empty());
    const std::string config = testing::write_config(
        m_dir, "patternd.yaml", "",
        "kafka:\n  brokers: " + m_bootstrap +
            "\n  properties:\n    session.timeout.ms: 6000\n    heartbeat.interval.ms: 500\n" +
            extra_yaml);
    std::vector<std::string> argv = {PATTERND_BINARY, "run", "--config", config};
    if (faults) argv = m_faults.command({"run", "--config", config});
    m_worker = std::make_unique<BackgroundProcess>(BackgroundProcess::Command{argv},
                                                   m_dir.file("worker.log"));
    m_port = testing::metrics_port(m_dir.file("worker.log"), 30);
    ASSERT_GT(m_port, 0);
  }

  void stop() {
    m_worker->signal(SIGTERM);
    EXPECT_EQ(m_worker->wait(10000), 0);
    m_broker->signal(SIGTERM);
  }

  std::string db() const { return m_dir.file("patternd.db"); }

  TempDir m_dir;
  testing::WriteFaults m_faults{m_dir};
  std::unique_ptr<BackgroundProcess> m_broker, m_worker;
  std::string m_bootstrap;
  int m_port = -1;
};

TEST_F(Metrics, TheEndpointsAgreeWithWhatWasProducedAndPassPromtool) {
  ASSERT_NO_FATAL_FAILURE(start(4));
  constexpr int k_count = 6000;
  // A lag series per owned partition: 4 of each stream kind.
  const int k_lag_series = 4 * static_cast<int>(core::k_stream_kind_count);
  auto produced = testing::run_patternd({"produce", "--brokers", m_bootstrap, "--kind", "mixed",
                                         "--count", std::to_string(k_count), "--seed", "5",
                                         "--duplicates", "0.05", "--invalid", "0.02"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  const int port = m_port;
  EXPECT_EQ(testing::http_get(port, "/healthz").status, 200);
  EXPECT_EQ(testing::http_get(port, "/nothing-here").status, 404);

  ASSERT_TRUE(testing::wait_for_coverage(db(), k_count, 60)) << "the worker did not catch up";
  SQLite::Database database(db(), SQLite::OPEN_READONLY);
  const auto table_rows = [&](const std::string& table) {
    return database.execAndGet("SELECT count(*) FROM " + table).getInt64();
  };
  // Gauges are refreshed once a second: wait for a refresh that shows the
  // worker caught up (the assertions below say what is missing if none does).
  testing::HttpResponse metrics;
  testing::eventually(
      [&] {
        metrics = testing::http_get(port, "/metrics");
        const std::string& m = metrics.body;
        return metrics.status == 200 &&
               testing::metric_sum(m, "patternd_messages_consumed_total") == k_count &&
               series_count(m, "patternd_consumer_lag_messages") == k_lag_series &&
               testing::metric_sum(m, "patternd_consumer_lag_messages") == 0 &&
               testing::metric_sum(m, "patternd_consumer_lag_seconds") == 0 &&
               testing::metric_sum(m, "patternd_queue_depth_messages") == 0 &&
               testing::metric_sum(m, "patternd_patterns", "kind=\"operation\"") ==
                   table_rows("operation_patterns") &&
               testing::metric_sum(m, "patternd_patterns", "kind=\"failure\"") ==
                   table_rows("failure_patterns");
      },
      30);
  ASSERT_EQ(metrics.status, 200);
  const auto check = testing::run_command({"promtool", "check", "metrics"}, metrics.body);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

  const std::string& m = metrics.body;
  EXPECT_EQ(testing::metric_sum(m, "patternd_messages_consumed_total"), k_count);
  const auto rows = database
                        .execAndGet(
                            "SELECT (SELECT count(*) FROM workflow_history) + "
                            "(SELECT count(*) FROM extraction_events) + "
                            "(SELECT count(*) FROM outcomes) + "
                            "(SELECT count(*) FROM session_state_changes)")
                        .getInt64();
  const auto dead = database.execAndGet("SELECT count(*) FROM dead_letters").getInt64();
  EXPECT_EQ(testing::metric_sum(m, "patternd_messages_persisted_total"), rows);
  EXPECT_EQ(testing::metric_sum(m, "patternd_messages_dead_lettered_total"), dead);
  EXPECT_GT(dead, 0);
  EXPECT_EQ(testing::metric_sum(m, "patternd_messages_persisted_total") +
                testing::metric_sum(m, "patternd_messages_duplicate_total") +
                testing::metric_sum(m, "patternd_messages_dead_lettered_total"),
            k_count);
  EXPECT_GT(testing::metric_sum(m, "patternd_messages_duplicate_total"), 0);
  // Caught up: a lag series per owned partition, all 0; nothing in process.
  EXPECT_EQ(series_count(m, "patternd_consumer_lag_messages"), k_lag_series);
  EXPECT_EQ(testing::metric_sum(m, "patternd_consumer_lag_messages"), 0);
  EXPECT_EQ(testing::metric_sum(m, "patternd_consumer_lag_seconds"), 0);
  EXPECT_EQ(testing::metric_sum(m, "patternd_queue_depth_messages"), 0);
  EXPECT_EQ(testing::metric_sum(m, "patternd_batch_size_messages_sum"), k_count);
  EXPECT_EQ(testing::metric_sum(m, "patternd_end_to_end_latency_seconds_count"), k_count);
  EXPECT_GE(testing::metric_sum(m, "patternd_db_write_latency_seconds_count"), 1);
  EXPECT_EQ(testing::metric_sum(m, "patternd_patterns", "kind=\"operation\""),
            database.execAndGet("SELECT count(*) FROM operation_patterns").getInt64());
  EXPECT_EQ(testing::metric_sum(m, "patternd_patterns", "kind=\"failure\""),
            database.execAndGet("SELECT count(*) FROM failure_patterns").getInt64());
  EXPECT_GT(testing::metric_sum(m, "patternd_db_size_bytes"), 0);
  EXPECT_EQ(testing::metric_sum(m, "patternd_rebalances_total", "type=\"assign\""), 1);
  EXPECT_EQ(testing::metric_sum(m, "patternd_ready"), 1);
  EXPECT_EQ(testing::metric_sum(m, "patternd_build_info"), 1);

  const auto ready = testing::http_get(port, "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(ready.body.find("\"ready\":true"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find("\"lag_messages\":0"), std::string::npos) << ready.body;
  stop();
}

TEST(Dashboards, TheAlertRulesPassPromtool) {
  const auto check = testing::run_command(
      {"promtool", "check", "rules", testing::source_path("dashboards/alerts.yml")});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("6 rules found"), std::string::npos) << check.out;
}

TEST(Dashboards, PanelsUseTheDataSourceAndInstanceAndTopicVariables) {
  std::ifstream in(testing::source_path("dashboards/patternd.json"));
  const auto dashboard = nlohmann::json::parse(in);
  std::set<std::string> variables;
  for (const auto& v : dashboard["templating"]["list"]) variables.insert(v["name"]);
  EXPECT_EQ(variables, (std::set<std::string>{"datasource", "instance", "topic"}));
  for (const auto& panel : dashboard["panels"]) {
    EXPECT_EQ(panel["datasource"]["uid"], "${datasource}") << panel["title"];
    for (const auto& target : panel["targets"])
      EXPECT_NE(target["expr"].get<std::string>().find("$instance"), std::string::npos)
          << panel["title"];
  }
}

TEST_F(Metrics, ReadyzIs503WithAReasonWhileTheBrokerIsDownOrTheDatabaseRefusesWrites) {
  ASSERT_NO_FATAL_FAILURE(start(2, "storage:\n  busy_timeout_ms: 100\n", true));
  const int port = m_port;
  ASSERT_TRUE(testing::readyz_says(
      port, 200, "\"assigned_partitions\":" + std::to_string(2 * core::k_stream_kind_count), 60));

  // The brokers go down (dev-broker: SIGUSR1), then come back (SIGUSR2).
  m_broker->signal(SIGUSR1);
  EXPECT_TRUE(testing::readyz_says(port, 503, "broker: no connection", 30));
  m_broker->signal(SIGUSR2);
  EXPECT_TRUE(testing::readyz_says(port, 200, "\"ready\":true", 30));

  // Another process holds the database's write lock while messages flow.
  BackgroundProcess producer({"produce", "--brokers", m_bootstrap, "--kind", "mixed", "--count",
                              "6000", "--seed", "3", "--rate", "500"});
  {
    SQLite::Database other(db(), SQLite::OPEN_READWRITE);
    other.setBusyTimeout(10000);
    other.exec("BEGIN IMMEDIATE");
    EXPECT_TRUE(
        testing::readyz_says(port, 503, "database: not taking writes (database is locked)", 30));
    other.exec("ROLLBACK");
  }
  EXPECT_TRUE(testing::readyz_says(port, 200, "\"ready\":true", 30));

  // The database's file system goes read-only under the running worker.
  m_faults.fail(EROFS);
  EXPECT_TRUE(testing::readyz_says(
      port, 503, "database: not taking writes (disk I/O error (Read-only file system))", 30));
  m_faults.clear();
  EXPECT_TRUE(testing::readyz_says(port, 200, "\"ready\":true", 30));

  ASSERT_EQ(producer.wait(30000), 0);
  ASSERT_TRUE(testing::wait_for_coverage(db(), 6000, 30)) << "messages lost in the outages";
  // Until /metrics shows both errors (the assertions below say which it never does).
  std::string metrics;
  testing::eventually(
      [&] {
        metrics = testing::http_get(port, "/metrics").body;
        return testing::metric_sum(metrics, "patternd_db_errors_total", "kind=\"busy\"") >= 1 &&
               testing::metric_sum(metrics, "patternd_db_errors_total", "kind=\"readonly\"") >= 1;
      },
      30);
  EXPECT_GE(testing::metric_sum(metrics, "patternd_db_errors_total", "kind=\"busy\""), 1);
  EXPECT_GE(testing::metric_sum(metrics, "patternd_db_errors_total", "kind=\"readonly\""), 1);
  stop();
}

std::string url_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

// An instant query through Prometheus' HTTP API: the result vector.
nlohmann::json prometheus_query(int port, const std::string& promql) {
  const auto response = testing::http_get(port, "/api/v1/query?query=" + url_encode(promql));
  if (response.status != 200) return nlohmann::json::array();
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_discarded() || body.value("status", "") != "success") return nlohmann::json::array();
  return body["data"]["result"];
}

// The sum of a query's values, or NaN when it returns nothing.
double prometheus_value(int port, const std::string& promql) {
  const auto result = prometheus_query(port, promql);
  if (result.empty()) return std::nan("");
  double sum = 0;
  for (const auto& sample : result) sum += std::stod(sample["value"][1].get<std::string>());
  return sum;
}

TEST_F(Metrics, EveryDashboardPanelReturnsDataFromARealPrometheus) {
  ASSERT_NO_FATAL_FAILURE(start(4));
  const TempDir& dir = m_dir;
  const int port = m_port;

  // The real Prometheus, scraping the worker every second, with our alerting
  // rules loaded (it refuses to start on a bad rules file).
  const int prometheus_port = testing::free_port();
  testing::write_file(dir.file("prometheus.yml"),
                      "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                      "rule_files:\n  - " +
                          testing::source_path("dashboards/alerts.yml") +
                          "\nscrape_configs:\n  - job_name: patternd\n    static_configs:\n"
                          "      - targets: ['127.0.0.1:" +
                          std::to_string(port) + "']\n");
  BackgroundProcess prometheus(
      BackgroundProcess::Command{
          {"prometheus", "--config.file=" + dir.file("prometheus.yml"),
           "--storage.tsdb.path=" + dir.file("tsdb"),
           "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)}},
      dir.file("prometheus.log"));
  ASSERT_TRUE(testing::eventually(
      [&] { return testing::http_get(prometheus_port, "/-/ready").status == 200; }, 60))
      << "prometheus did not start; see its log";

  // A live stream, so rates and quantiles have something to show.
  constexpr int k_count = 12000;
  BackgroundProcess producer({"produce", "--brokers", m_bootstrap, "--kind", "mixed", "--count",
                              std::to_string(k_count), "--seed", "8", "--duplicates", "0.05",
                              "--invalid", "0.02", "--rate", "1000"});
  ASSERT_TRUE(testing::eventually(
      [&] {
        return prometheus_value(prometheus_port, "sum(patternd_messages_persisted_total)") > 2000;
      },
      60));

  // Agents asking about errors, seen and never seen, for the lookups panel
  // (its "share seen" is 0/0 until someone asks).
  const int api = testing::api_port(dir.file("worker.log"), 10);
  ASSERT_GT(api, 0);
  std::atomic<bool> asking{true};
  std::thread agent([&] {
    for (int i = 0; asking; ++i) {
      testing::http_get(api,
                        i % 2 ? "/v1/failures/lookup?error=KeyError:%20%27user%27"
                              : "/v1/failures/lookup?error=NeverSeenError:%20" + std::to_string(i));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  struct Join {
    std::atomic<bool>& flag;
    std::thread& thread;
    ~Join() {
      flag = false;
      thread.join();
    }
  } join{asking, agent};

  // Every panel's query, as Grafana would send it with "All" selected.
  std::vector<std::pair<nlohmann::json, std::string>> queries;  // panel title, PromQL
  for (const auto& file : std::filesystem::directory_iterator(testing::source_path("dashboards"))) {
    if (file.path().extension() != ".json") continue;
    std::ifstream in(file.path());
    const auto dashboard = nlohmann::json::parse(in);
    for (const auto& panel : dashboard["panels"]) {
      for (const auto& target : panel["targets"]) {
        std::string expr = target["expr"];
        for (const auto& [variable, value] :
             {std::pair{std::string("$instance"), std::string(".*")},
              {"$topic", ".*"},
              {"$__rate_interval", "15s"}}) {
          for (auto at = expr.find(variable); at != std::string::npos; at = expr.find(variable))
            expr.replace(at, variable.size(), value);
        }
        queries.emplace_back(panel["title"], expr);
      }
    }
  }
  const auto has_a_number = [&](const std::string& expr) {
    for (const auto& sample : prometheus_query(prometheus_port, expr))
      if (!std::isnan(std::stod(sample["value"][1].get<std::string>()))) return true;
    return false;
  };
  // Rates and quantiles need scrapes enough in their window: wait until every
  // panel has a number (the assertions below name the panels that never do).
  testing::eventually(
      [&] {
        return std::all_of(queries.begin(), queries.end(),
                           [&](const auto& query) { return has_a_number(query.second); });
      },
      60);
  int panels = 0;
  for (const auto& [title, expr] : queries) {
    const auto result = prometheus_query(prometheus_port, expr);
    ASSERT_FALSE(result.empty()) << title << ": no data for " << expr;
    bool a_number = false;
    for (const auto& sample : result)
      a_number |= !std::isnan(std::stod(sample["value"][1].get<std::string>()));
    EXPECT_TRUE(a_number) << title << ": only NaN for " << expr;
    ++panels;
  }
  EXPECT_GE(panels, 15);
  EXPECT_GT(prometheus_value(prometheus_port, "sum(patternd_fix_lookups_total{result=\"seen\"})"),
            0);

  // Once the stream ends: consumed equals produced, and lag returns to 0.
  ASSERT_EQ(producer.wait(60000), 0);
  EXPECT_TRUE(testing::eventually(
      [&] {
        return prometheus_value(prometheus_port, "sum(patternd_messages_consumed_total)") ==
               k_count;
      },
      60));
  EXPECT_TRUE(testing::eventually(
      [&] { return prometheus_value(prometheus_port, "sum(patternd_consumer_lag_messages)") == 0; },
      60));
  EXPECT_EQ(prometheus_value(prometheus_port, "patternd_ready"), 1);

  prometheus.signal(SIGTERM);
  prometheus.wait(10000);
  stop();
}

}  // namespace
}  // namespace patternd
