#include "support/postgres.hpp"

#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "support/helpers.hpp"

namespace patternd::testing {
namespace {

// The newest server Debian installed: /usr/lib/postgresql/<version>/bin.
std::string server_binaries() {
  std::vector<std::filesystem::path> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec))
    if (std::filesystem::exists(entry.path() / "bin" / "pg_ctl")) found.push_back(entry.path());
  if (found.empty())
    throw std::runtime_error(
        "no PostgreSQL server under /usr/lib/postgresql (./dev installs the postgresql package)");
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::stoi(a.filename().string()) < std::stoi(b.filename().string());
  });
  return (found.back() / "bin").string();
}

struct ConnFinish {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultClear {
  void operator()(PGresult* result) const { PQclear(result); }
};

}  // namespace

PostgresServer::PostgresServer() : m_bin(server_binaries()) {
  const passwd* postgres = ::getpwnam("postgres");
  if (postgres == nullptr)
    throw std::runtime_error("no postgres system user (the postgresql package creates it)");
  // Short (a socket path has at most 107 bytes) and the server's own.
  std::string pattern = "/tmp/patternd-pg-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  m_dir = pattern;
  if (::chown(m_dir.c_str(), postgres->pw_uid, postgres->pw_gid) != 0)
    throw std::runtime_error("cannot give " + m_dir + " to the postgres user");
  run_as_postgres({m_bin + "/initdb", "--pgdata", m_dir + "/data", "--username", "postgres",
                   "--auth", "trust", "--no-sync", "--no-instructions", "--encoding", "UTF8"},
                  "initdb");
  write_file(m_dir + "/data/pg_hba.conf",
             "local all postgres trust\n"
             "local all all scram-sha-256\n");
  start();
}

void PostgresServer::start() {
  // -w -t 30: pg_ctl returns when the server accepts connections, or fails
  // after 30 s; the server's output goes to the log, not to our pipes.
  run_as_postgres({m_bin + "/pg_ctl", "--pgdata", m_dir + "/data", "--log", m_dir + "/server.log",
                   "-w", "-t", "30", "-o",
                   "-c listen_addresses='' -k " + m_dir +
                       " -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                   "start"},
                  "pg_ctl start");
  m_started = true;
}

void PostgresServer::stop() {
  // Fast: what an operator's restart does; open transactions are rolled back
  // and every client's connection is closed.
  run_as_postgres(
      {m_bin + "/pg_ctl", "--pgdata", m_dir + "/data", "-m", "fast", "-w", "-t", "30", "stop"},
      "pg_ctl stop");
  m_started = false;
}

PostgresServer::~PostgresServer() {
  if (m_started) {
    // Immediate: the data is thrown away, there is nothing to shut down cleanly.
    run_command({"runuser", "-u", "postgres", "--", m_bin + "/pg_ctl", "--pgdata", m_dir + "/data",
                 "-m", "immediate", "-w", "-t", "30", "stop"});
  }
  std::error_code ec;
  if (!m_dir.empty()) std::filesystem::remove_all(m_dir, ec);
}

void PostgresServer::run_as_postgres(const std::vector<std::string>& command,
                                     const std::string& what) const {
  std::vector<std::string> argv = {"runuser", "-u", "postgres", "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  const CommandResult result = run_command(argv);
  if (result.exit_code == 0) return;
  std::string message =
      what + " failed (exit " + std::to_string(result.exit_code) + "):\n" + result.out + result.err;
  if (std::filesystem::exists(m_dir + "/server.log")) message += "\nserver log:\n" + log();
  // The directory goes with the exception: the destructor does not run.
  std::error_code ec;
  std::filesystem::remove_all(m_dir, ec);
  throw std::runtime_error(message);
}

std::string PostgresServer::log() const { return read_file(m_dir + "/server.log"); }

std::string PostgresServer::uri(const std::string& database, const std::string& user) const {
  return "postgresql:///" + database + "?host=" + m_dir + "&user=" + user;
}

std::string PostgresServer::create_database(const std::string& name) {
  query("postgres", "CREATE DATABASE \"" + name + "\"");
  return uri(name);
}

void PostgresServer::create_role(const std::string& name, const std::string& password) {
  query("postgres", "CREATE ROLE \"" + name + "\" LOGIN PASSWORD '" + password + "'");
}

std::vector<std::vector<std::string>> PostgresServer::query(const std::string& database,
                                                            const std::string& sql) const {
  const std::unique_ptr<PGconn, ConnFinish> conn(PQconnectdb(uri(database).c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("cannot connect to the test server: " +
                             std::string(PQerrorMessage(conn.get())));
  const std::unique_ptr<PGresult, ResultClear> result(PQexec(conn.get(), sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    throw std::runtime_error(sql + ": " + PQresultErrorMessage(result.get()));
  std::vector<std::vector<std::string>> rows;
  for (int r = 0; r < PQntuples(result.get()); ++r) {
    auto& row = rows.emplace_back();
    for (int c = 0; c < PQnfields(result.get()); ++c)
      row.push_back(PQgetisnull(result.get(), r, c) ? "NULL" : PQgetvalue(result.get(), r, c));
  }
  return rows;
}

}  // namespace patternd::testing
