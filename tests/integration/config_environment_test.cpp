// PATTERND_* variables the worker does not know: Kubernetes service links
// start the worker without a word, a typo starts it with a warning naming the
// likely intended variable, and a bad value of a known variable still stops
// it with exit code 2.

#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "support/helpers.hpp"

namespace patternd {
namespace {

using testing::BackgroundProcess;
using testing::TempDir;

// What a Service named patternd (the metrics port) gives every pod of its
// namespace.
const std::vector<std::string> k_service_links = {
    "PATTERND_PORT=tcp://10.0.0.1:9464", "PATTERND_SERVICE_HOST=10.0.0.1",
    "PATTERND_SERVICE_PORT=9464", "PATTERND_PORT_9464_TCP_ADDR=10.0.0.1"};

// `patternd args...` with `variables` added to the test's own environment.
std::vector<std::string> with_environment(const std::vector<std::string>& variables,
                                          const std::vector<std::string>& args) {
  std::vector<std::string> command = {"env"};
  command.insert(command.end(), variables.begin(), variables.end());
  command.push_back(PATTERND_BINARY);
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

std::string worker_config(const TempDir& dir, const std::string& brokers,
                          const std::string& log_format) {
  return testing::write_config(dir, "patternd.yaml", "",
                               "kafka:\n  brokers: " + brokers +
                                   "\n  properties:\n    session.timeout.ms: 6000\n"
                                   "    heartbeat.interval.ms: 500\nlog:\n  format: " +
                                   log_format + "\n");
}

TEST(ConfigEnvironment, KubernetesServiceLinksLetTheWorkerStartAndConsumeWithoutAWarning) {
  TempDir dir;
  BackgroundProcess broker({"dev-broker", "--partitions", "2"});
  const std::string brokers = broker.read_line(10000);
  ASSERT_FALSE(brokers.empty());
  const std::string config = worker_config(dir, brokers, "text");
  {
    BackgroundProcess worker(
        BackgroundProcess::Command{with_environment(k_service_links, {"run", "--config", config})},
        dir.file("worker.log"));
    const auto produced = testing::run_patternd(
        {"produce", "--brokers", brokers, "--kind", "mixed", "--count", "500", "--seed", "3"});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
    ASSERT_TRUE(testing::wait_for_coverage(dir.file("patternd.db"), 500, 60));
    worker.signal(SIGTERM);
    ASSERT_EQ(worker.wait(10000), 0);
  }
  const auto lines = testing::read_lines(dir.file("worker.log"));
  ASSERT_FALSE(lines.empty());
  for (const auto& line : lines) {
    EXPECT_EQ(line.find("config: warning"), std::string::npos) << line;
    EXPECT_EQ(line.find("PATTERND_"), std::string::npos) << line;
  }
  broker.signal(SIGTERM);
}

TEST(ConfigEnvironment, AWorkerWarnsOnceAboutATypoInItsLogFormatAndStarts) {
  TempDir dir;
  BackgroundProcess broker({"dev-broker", "--partitions", "1"});
  const std::string brokers = broker.read_line(10000);
  ASSERT_FALSE(brokers.empty());
  const std::string config = worker_config(dir, brokers, "json");
  std::vector<std::string> variables = k_service_links;
  variables.push_back("PATTERND_KAFKA_BROKER=elsewhere:9092");
  {
    BackgroundProcess worker(
        BackgroundProcess::Command{with_environment(variables, {"run", "--config", config})},
        dir.file("worker.log"));
    ASSERT_GT(testing::metrics_port(dir.file("worker.log"), 30), 0) << "the worker did not start";
    worker.signal(SIGTERM);
    ASSERT_EQ(worker.wait(10000), 0);
  }
  int warnings = 0;
  for (const auto& line : testing::read_lines(dir.file("worker.log"))) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not a JSON line: " << line;
    if (j["logger"] != "config") continue;
    ++warnings;
    EXPECT_EQ(j["level"], "warn");
    EXPECT_EQ(j["msg"],
              "unknown environment variables ignored: PATTERND_KAFKA_BROKER (did you mean "
              "PATTERND_KAFKA_BROKERS?)");
    EXPECT_EQ(j["unknown_variables"], "PATTERND_KAFKA_BROKER");
  }
  EXPECT_EQ(warnings, 1);
  broker.signal(SIGTERM);
}

TEST(ConfigEnvironment, CheckConfigListsATypoWithTheKnownNameAndPasses) {
  TempDir dir;
  const std::string config = testing::write_config(dir);
  const auto typo =
      testing::run_command(with_environment({"PATTERND_KAFKA_BROKER=x"}, {"check-config", config}));
  EXPECT_EQ(typo.exit_code, 0) << typo.err;
  EXPECT_EQ(typo.err,
            "config: warning: unknown environment variables ignored: PATTERND_KAFKA_BROKER (did "
            "you mean PATTERND_KAFKA_BROKERS?)\n");
  EXPECT_NE(typo.out.find("brokers: 127.0.0.1:9092"), std::string::npos) << typo.out;

  const auto links =
      testing::run_command(with_environment(k_service_links, {"check-config", config}));
  EXPECT_EQ(links.exit_code, 0) << links.err;
  EXPECT_EQ(links.err, "");
}

TEST(ConfigEnvironment, ABadValueOfAKnownVariableIsStillAConfigurationError) {
  TempDir dir;
  const std::string config = testing::write_config(dir);
  const std::string expected =
      "environment variable PATTERND_BATCH_MAX_MESSAGES (batch.max_messages): expected an "
      "integer 1..1000000, got \"abc\"";
  for (const auto& args : {std::vector<std::string>{"check-config", config},
                           std::vector<std::string>{"run", "--config", config}}) {
    const auto r =
        testing::run_command(with_environment({"PATTERND_BATCH_MAX_MESSAGES=abc"}, args));
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << args[0] << ": " << r.err;
  }
}

}  // namespace
}  // namespace patternd
