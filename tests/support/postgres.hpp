#pragma once
// A throwaway PostgreSQL server for a test suite: Debian's postgresql
// package, initdb into a fresh temporary directory, listening on a Unix
// socket in that directory only (no TCP port to collide with another test),
// fsync off. Tests run as root, and PostgreSQL refuses to run as root: the
// server runs as the `postgres` system user the package creates.
//
// Roles: postgres connects without a password (trust); every other role
// needs its password (scram-sha-256), so a test can see a wrong one refused.
//
// Start one per test suite (SetUpTestSuite): initdb takes a second or two.

#include <stdexcept>
#include <string>
#include <vector>

namespace patternd::testing {

class PostgresServer {
 public:
  // Starts the server; throws std::runtime_error with the server's log (and
  // initdb's output) when it does not start within 30 s. Never hangs.
  PostgresServer();
  // Stops the server (immediate: nothing of it is kept) and removes its
  // directory.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Creates an empty database; returns its URI for the postgres role.
  std::string create_database(const std::string& name);
  // postgresql:///DATABASE?host=SOCKETDIR&user=USER
  std::string uri(const std::string& database, const std::string& user = "postgres") const;
  // A role that logs in with `password`.
  void create_role(const std::string& name, const std::string& password);

  // Runs `sql` on `database` as postgres; every row, each a list of text
  // values (NULL as "NULL"). Throws std::runtime_error with the server's
  // message. SQL of the tests' own, never of input.
  std::vector<std::vector<std::string>> query(const std::string& database,
                                              const std::string& sql) const;

  // Stops the server as an operator's restart does (pg_ctl stop -m fast:
  // every connection closed), and starts it again.
  void stop();
  void start();

  const std::string& socket_dir() const { return m_dir; }
  std::string log() const;

 private:
  void run_as_postgres(const std::vector<std::string>& command, const std::string& what) const;

  std::string m_dir;  // data/, the socket and the log
  std::string m_bin;  // /usr/lib/postgresql/<version>/bin
  bool m_started = false;
};

}  // namespace patternd::testing
