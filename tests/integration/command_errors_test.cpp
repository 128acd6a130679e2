// Outcomes that must not mislead: every error says what is wrong and what to
// do, with the exit code of SPEC section 4 (2 for usage and configuration,
// 1 for runtime failures).

#include <SQLiteCpp/SQLiteCpp.h>
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "support/helpers.hpp"

namespace patternd {
namespace {

using testing::CommandResult;
using testing::run_patternd;
using testing::TempDir;

bool says(const CommandResult& r, const std::string& text) {
  return r.err.find(text) != std::string::npos;
}

TEST(CommandErrors, ANewerSchemaAsksForANewerPatterndEverywhereNeverForMigrate) {
  TempDir dir;
  const std::string config = testing::write_config(dir);
  ASSERT_EQ(run_patternd({"migrate", "--config", config}).exit_code, 0);
  {
    SQLite::Database db(dir.file("patternd.db"), SQLite::OPEN_READWRITE);
    db.exec("PRAGMA user_version = 99");
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"report", "--config", config},
        {"dead-letters", "list", "--config", config},
        {"backup", "--config", config, dir.file("copy.db")},
        {"migrate", "--config", config}}) {
    const CommandResult r = run_patternd(args);
    EXPECT_NE(r.exit_code, 0) << args[0];
    EXPECT_TRUE(says(r, "schema version 99 is newer than this patternd knows")) << r.err;
    EXPECT_TRUE(says(r, "upgrade patternd")) << r.err;
    EXPECT_FALSE(says(r, "patternd migrate")) << r.err;
  }
}

TEST(CommandErrors, MigrateRefusesAnotherApplicationsDatabaseAndAddsNothingToIt) {
  TempDir dir;
  const std::string config = testing::write_config(dir);
  {
    SQLite::Database db(dir.file("patternd.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)");
  }
  const CommandResult r = run_patternd({"migrate", "--config", config});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(says(r, dir.file("patternd.db") + ": not a patternd database")) << r.err;
  EXPECT_TRUE(says(r, "invoices")) << r.err;
  EXPECT_EQ(testing::table_names(dir.file("patternd.db")), std::vector<std::string>{"invoices"});

  const CommandResult report = run_patternd({"report", "--config", config});
  EXPECT_NE(report.exit_code, 0);
  EXPECT_TRUE(says(report, "not a patternd database")) << report.err;
}

TEST(CommandErrors, AMalformedDatabaseIsNamedByItsPath) {
  TempDir dir;
  const std::string config = testing::write_config(dir);
  // A valid SQLite header over pages of garbage.
  std::string bytes = std::string("SQLite format 3") + '\0';
  bytes += std::string("\x10\x00\x01\x01\x00\x40\x20\x20", 8);
  bytes.resize(4096 * 4, '\x5a');
  testing::write_file(dir.file("patternd.db"), bytes);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"report", "--config", config},
        {"dead-letters", "list", "--config", config},
        {"migrate", "--config", config}}) {
    const CommandResult r = run_patternd(args);
    EXPECT_NE(r.exit_code, 0) << args[0];
    EXPECT_TRUE(says(r, dir.file("patternd.db"))) << args[0] << ": " << r.err;
  }
}

TEST(CommandErrors, CheckConfigRejectsKafkaPropertiesThatLibrdkafkaWouldReject) {
  TempDir dir;
  const std::string config = testing::write_config(
      dir, "patternd.yaml", "", "kafka:\n  properties:\n    security.protocol: carrier_pigeon\n");
  const CommandResult r = run_patternd({"check-config", config});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(says(r, "kafka.properties.security.protocol")) << r.err;

  const std::string unknown = testing::write_config(
      dir, "unknown.yaml", "", "kafka:\n  properties:\n    no.such.property: 1\n");
  const CommandResult u = run_patternd({"check-config", unknown});
  EXPECT_EQ(u.exit_code, 2);
  EXPECT_TRUE(says(u, "kafka.properties.no.such.property")) << u.err;

  const std::string good = testing::write_config(
      dir, "good.yaml", "", "kafka:\n  properties:\n    security.protocol: plaintext\n");
  EXPECT_EQ(run_patternd({"check-config", good}).exit_code, 0);
}

TEST(CommandErrors, CheckConfigOfADirectoryIsAUsageErrorThatSaysSo) {
  TempDir dir;
  const CommandResult r = run_patternd({"check-config", dir.path().string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(says(r, dir.path().string() + ": is a directory")) << r.err;
}

TEST(CommandErrors, AnUnknownCommandIsNamedAndTheCommandsListed) {
  const CommandResult r = run_patternd({"frobnicate", "--config", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(says(r, "unknown command \"frobnicate\"")) << r.err;
  for (const char* command : {"run", "ingest", "report", "backup", "dead-letters", "check-config"})
    EXPECT_TRUE(says(r, command)) << r.err;
  EXPECT_FALSE(says(r, "A subcommand is required")) << r.err;
}

TEST(CommandErrors, AMetricsPortInUseIsSaidToBeInUseAndNamesTheKey) {
  TempDir dir;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string port = std::to_string(ntohs(address.sin_port));
  const std::string config = dir.file("patternd.yaml");
  testing::write_file(
      config, "storage:\n  path: " + dir.file("patternd.db") +
                  "\ndetection:\n  rules: " + testing::source_path("config/patterns.yaml") +
                  "\nkafka:\n  brokers: 127.0.0.1:1\nmetrics:\n  listen: 127.0.0.1:" + port +
                  "\napi:\n  listen: 127.0.0.1:0\n");
  const CommandResult r = run_patternd({"run", "--config", config});
  ::close(fd);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(says(r, "127.0.0.1:" + port + ": the address is already in use")) << r.err;
  EXPECT_TRUE(says(r, "metrics.listen")) << r.err;
  EXPECT_FALSE(says(r, "null context")) << r.err;
}

}  // namespace
}  // namespace patternd
