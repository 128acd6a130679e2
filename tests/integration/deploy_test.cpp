// The deployment files agree with each other and with the code: the compose
// file validates (Debian's docker-compose), Prometheus' config passes promtool
// and scrapes every worker, the config the workers mount passes
// `patternd check-config`, every dashboard is provisioned into Grafana, and
// the Dockerfile builds with the packages ./dev installs.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

#include "core/types.hpp"
#include "support/helpers.hpp"

namespace patternd {
namespace {

namespace fs = std::filesystem;

// The compose file as docker-compose resolves it (anchors merged, paths
// absolute), with `overlay` on top if given.
YAML::Node resolved_compose(const std::string& overlay = "") {
  std::vector<std::string> argv = {"docker-compose", "-f",
                                   testing::source_path("compose/docker-compose.yml")};
  if (!overlay.empty()) {
    argv.push_back("-f");
    argv.push_back(testing::source_path(overlay));
  }
  argv.push_back("config");
  const auto r = testing::run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return YAML::Load(r.out);
}

bool is_worker(const YAML::Node& service) {
  return service["command"] && service["command"][0].as<std::string>() == "run";
}

// "SOURCE:TARGET[:MODE]" -> {target: source}
std::map<std::string, std::string> mounts(const YAML::Node& service) {
  std::map<std::string, std::string> by_target;
  for (const auto& v : service["volumes"]) {
    const std::string text = v.as<std::string>();
    const auto first = text.find(':');
    const auto second = text.find(':', first + 1);
    by_target[text.substr(first + 1,
                          second == std::string::npos ? std::string::npos : second - first - 1)] =
        text.substr(0, first);
  }
  return by_target;
}

TEST(Deploy, TheComposeFileValidatesWithHealthChecksAndRestartPoliciesEverywhere) {
  const auto q = testing::run_command(
      {"docker-compose", "-f", testing::source_path("compose/docker-compose.yml"), "config", "-q"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const YAML::Node compose = resolved_compose();
  std::set<std::string> names;
  int workers = 0;
  for (const auto& entry : compose["services"]) {
    const std::string name = entry.first.as<std::string>();
    const YAML::Node& s = entry.second;
    names.insert(name);
    EXPECT_TRUE(s["healthcheck"]) << name << " has no health check";
    EXPECT_TRUE(s["restart"]) << name << " has no restart policy";
    if (is_worker(s)) {
      ++workers;
      EXPECT_EQ(s["depends_on"]["kafka"]["condition"].as<std::string>(), "service_healthy");
    }
  }
  EXPECT_GE(workers, 2);
  for (const char* needed : {"kafka", "topics", "producer", "prometheus", "grafana"})
    EXPECT_TRUE(names.count(needed)) << needed;
  EXPECT_EQ(compose["services"]["producer"]["command"][0].as<std::string>(), "produce");
  // The one-shot creates the topic of every stream kind the workers consume.
  YAML::Emitter topics;
  topics << compose["services"]["topics"]["command"];
  for (const auto& kind : core::k_stream_kinds)
    EXPECT_NE(std::string(topics.c_str()).find(std::string(kind.default_topic)), std::string::npos)
        << kind.default_topic;
}

TEST(Deploy, PrometheusConfigPassesPromtoolAndScrapesEveryWorker) {
  const auto check = testing::run_command(
      {"promtool", "check", "config", testing::source_path("compose/prometheus.yml")});
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("6 rules found"), std::string::npos) << check.out;

  std::set<std::string> workers, targets;
  const YAML::Node compose = resolved_compose();
  for (const auto& entry : compose["services"]) {
    if (is_worker(entry.second)) workers.insert(entry.first.as<std::string>() + ":9464");
    // `serve` answers its /metrics (error lookups) on api.listen.
    if (entry.second["command"] && entry.second["command"][0].as<std::string>() == "serve")
      workers.insert(entry.first.as<std::string>() + ":8080");
  }
  const YAML::Node prometheus = YAML::LoadFile(testing::source_path("compose/prometheus.yml"));
  for (const auto& job : prometheus["scrape_configs"])
    for (const auto& sc : job["static_configs"])
      for (const auto& t : sc["targets"]) targets.insert(t.as<std::string>());
  EXPECT_EQ(targets, workers);
  // The rules file Prometheus loads is the one in dashboards/.
  const auto prom_mounts = mounts(compose["services"]["prometheus"]);
  EXPECT_EQ(fs::canonical(prom_mounts.at("/etc/prometheus/alerts.yml")),
            fs::canonical(testing::source_path("dashboards/alerts.yml")));
}

TEST(Deploy, TheDatabaseErrorAlertFiresOnSteadyErrorsAndNotOnOne) {
  const auto test = testing::run_command(
      {"promtool", "test", "rules", testing::source_path("dashboards/alerts_test.yml")});
  EXPECT_EQ(test.exit_code, 0) << test.out << test.err;
  EXPECT_NE(test.out.find("SUCCESS"), std::string::npos) << test.out;
}

TEST(Deploy, TheConfigTheWorkersMountPassesCheckConfig) {
  const YAML::Node compose = resolved_compose();
  int checked = 0;
  for (const auto& entry : compose["services"]) {
    if (!is_worker(entry.second)) continue;
    const auto m = mounts(entry.second);
    const auto& command = entry.second["command"];
    const std::string config_target = command[2].as<std::string>();
    ASSERT_TRUE(m.count(config_target)) << "the config file is not mounted";
    const std::string config_file = m.at(config_target);
    // The rules file the config names must be mounted too; check-config reads
    // it from where the mount comes from.
    const YAML::Node config = YAML::LoadFile(config_file);
    const std::string rules_target = config["detection"]["rules"].as<std::string>();
    ASSERT_TRUE(m.count(rules_target)) << rules_target << " is not mounted";
    const auto r = testing::run_command({"env", "PATTERND_DETECTION_RULES=" + m.at(rules_target),
                                         PATTERND_BINARY, "check-config", config_file});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    // The database lives on the shared volume.
    const std::string db = config["storage"]["path"].as<std::string>();
    EXPECT_EQ(fs::path(db).parent_path().string(), "/var/lib/patternd");
    EXPECT_EQ(m.at("/var/lib/patternd"), "patternd-data");
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

TEST(Deploy, EveryDashboardIsProvisionedIntoGrafana) {
  const YAML::Node compose = resolved_compose();
  const auto m = mounts(compose["services"]["grafana"]);
  ASSERT_TRUE(m.count("/etc/grafana/provisioning"));
  const fs::path provisioning = m.at("/etc/grafana/provisioning");
  // Where the dashboard provider looks, and what is mounted there.
  std::set<std::string> provided;
  for (const auto& file : fs::directory_iterator(provisioning / "dashboards"))
    for (const auto& p : YAML::LoadFile(file.path().string())["providers"])
      provided.insert(p["options"]["path"].as<std::string>());
  ASSERT_EQ(provided.size(), 1u);
  const std::string path = *provided.begin();
  ASSERT_TRUE(m.count(path)) << path << " is not mounted";
  EXPECT_EQ(fs::canonical(m.at(path)), fs::canonical(testing::source_path("dashboards")));
  int dashboards = 0;
  for (const auto& file : fs::directory_iterator(testing::source_path("dashboards"))) {
    if (file.path().extension() != ".json") continue;
    std::ifstream in(file.path());
    const auto json = nlohmann::json::parse(in);
    EXPECT_FALSE(json["panels"].empty()) << file.path();
    ++dashboards;
  }
  EXPECT_GE(dashboards, 1);
  // The datasource points at the compose Prometheus.
  const YAML::Node ds = YAML::LoadFile((provisioning / "datasources" / "prometheus.yml").string());
  EXPECT_EQ(ds["datasources"][0]["url"].as<std::string>(), "http://prometheus:9090");
  EXPECT_TRUE(compose["services"]["prometheus"]);
}

// The words of a shell list: package names only.
std::set<std::string> package_names(const std::string& text) {
  std::set<std::string> names;
  const std::regex word(R"([a-z0-9][a-z0-9.+-]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), word); it != std::sregex_iterator();
       ++it)
    names.insert(it->str());
  return names;
}

TEST(Deploy, TheDockerfileBuildsWithThePackagesDevInstalls) {
  const std::string dev = testing::read_file(testing::source_path("dev"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dev, m, std::regex(R"(packages=\(([^)]*)\))")));
  const auto dev_packages = package_names(m[1].str());
  const std::string dockerfile = testing::read_file(testing::source_path("Dockerfile"));
  // The build stage's install line: from "--no-install-recommends" to "&&".
  const auto build_stage =
      dockerfile.substr(0, dockerfile.find("FROM", dockerfile.find("AS build")));
  ASSERT_TRUE(std::regex_search(build_stage, m, std::regex(R"(--no-install-recommends([^&]*)&&)")));
  std::string list = std::regex_replace(m[1].str(), std::regex(R"(\\)"), " ");
  EXPECT_EQ(package_names(list), dev_packages);
  EXPECT_GT(dev_packages.size(), 10u);
  // The runtime stage runs as a user of its own, not root.
  const std::string runtime =
      dockerfile.substr(dockerfile.find("FROM", dockerfile.find("AS build")));
  EXPECT_NE(runtime.find("\nUSER patternd"), std::string::npos);

  // ... and its packages bring every shared library the binary loads: the
  // Debian package of each (ldd, dpkg -S) is in their dependency closure.
  ASSERT_TRUE(std::regex_search(runtime, m, std::regex(R"(--no-install-recommends([^&]*)&&)")));
  const auto runtime_packages =
      package_names(std::regex_replace(m[1].str(), std::regex(R"(\\)"), " "));
  std::vector<std::string> depends = {"apt-cache",       "depends",       "--recurse",
                                      "--no-recommends", "--no-suggests", "--no-conflicts",
                                      "--no-breaks",     "--no-replaces", "--no-enhances"};
  depends.insert(depends.end(), runtime_packages.begin(), runtime_packages.end());
  const auto closure_out = testing::run_command(depends);
  ASSERT_EQ(closure_out.exit_code, 0) << closure_out.err;
  std::set<std::string> closure;
  std::istringstream lines(closure_out.out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch d;
    if (std::regex_match(
            line, d,
            std::regex(R"(\s*(?:\|?(?:Pre)?Depends: )?<?([a-z0-9.+-]+)(?::[a-z0-9]+)?>?\s*)")))
      closure.insert(d[1].str());
  }
  const auto ldd = testing::run_command({"ldd", PATTERND_BINARY});
  ASSERT_EQ(ldd.exit_code, 0);
  std::istringstream libs(ldd.out);
  int checked = 0;
  for (std::string line; std::getline(libs, line);) {
    std::smatch lib;
    if (!std::regex_search(line, lib, std::regex(R"(=> (/\S+))"))) continue;
    const auto owner = testing::run_command({"dpkg", "-S", fs::canonical(lib[1].str()).string()});
    if (owner.exit_code != 0) continue;  // not from a package (the dynamic loader's own path)
    const std::string package = owner.out.substr(0, owner.out.find(':'));
    EXPECT_TRUE(closure.count(package))
        << lib[1] << " (" << package << ") is not brought by the runtime stage's packages";
    ++checked;
  }
  EXPECT_GT(checked, 5);
}

// The PostgreSQL variant: every worker and the reader store in the compose
// PostgreSQL (the official image, with a health check they wait for); the
// rest is the SQLite deployment's.
TEST(Deploy, ThePostgresVariantPointsEveryWorkerAndTheReaderAtItsServer) {
  const YAML::Node plain = resolved_compose();
  const YAML::Node compose = resolved_compose("compose/docker-compose.postgres.yml");
  const YAML::Node postgres = compose["services"]["postgres"];
  ASSERT_TRUE(postgres);
  EXPECT_EQ(postgres["image"].as<std::string>().rfind("postgres:", 0), 0u);
  EXPECT_TRUE(postgres["healthcheck"]);
  EXPECT_TRUE(postgres["restart"]);
  int stores = 0;
  for (const auto& entry : compose["services"]) {
    const std::string name = entry.first.as<std::string>();
    const YAML::Node& s = entry.second;
    const bool reads_or_writes =
        is_worker(s) || (s["command"] && s["command"][0].as<std::string>() == "serve");
    if (!reads_or_writes) continue;
    ++stores;
    EXPECT_EQ(s["environment"]["PATTERND_STORAGE_TYPE"].as<std::string>(), "postgresql") << name;
    EXPECT_EQ(
        s["environment"]["PATTERND_STORAGE_URI"].as<std::string>().find("postgresql://patternd:"),
        0u)
        << name;
    EXPECT_EQ(s["depends_on"]["postgres"]["condition"].as<std::string>(), "service_healthy")
        << name;
  }
  EXPECT_GE(stores, 3);  // two workers and the reader
  // Prometheus and Grafana as they were (docker-compose may list their
  // volumes in another order once a second file is merged).
  const auto as_text = [](YAML::Node service) {
    std::vector<std::string> volumes;
    for (const auto& v : service["volumes"]) volumes.push_back(v.as<std::string>());
    std::sort(volumes.begin(), volumes.end());
    YAML::Node copy = YAML::Clone(service);
    copy["volumes"] = volumes;
    YAML::Emitter out;
    out << copy;
    return std::string(out.c_str());
  };
  for (const char* unchanged : {"prometheus", "grafana"})
    EXPECT_EQ(as_text(plain["services"][unchanged]), as_text(compose["services"][unchanged]))
        << unchanged;
}

}  // namespace
}  // namespace patternd
