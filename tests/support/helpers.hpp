#pragma once
// Test support: temporary directories, running the real patternd binary, and
// canonical dumps of database tables for equality checks.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace patternd::testing {

// A fresh directory, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  std::string file(const std::string& name) const { return (m_path / name).string(); }

 private:
  std::filesystem::path m_path;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

// Runs `patternd ARGS...` (no shell), with optional standard input.
CommandResult run_patternd(const std::vector<std::string>& args,
                           const std::string& stdin_text = "");
// Any program (its first word found on PATH), e.g. promtool.
CommandResult run_command(const std::vector<std::string>& command,
                          const std::string& stdin_text = "");

// One request over HTTP/1.1 (Connection: close) to 127.0.0.1:port, the
// target sent as given (undecoded); status -1 if it could not connect.
struct HttpResponse {
  int status = -1;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
};
HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers = {});
inline HttpResponse http_get(int port, const std::string& target,
                             const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  return http_request(port, "GET", target, headers);
}

// The sum of every series of metric `name` in Prometheus text `text` whose
// labels contain `label` (if given).
double metric_sum(const std::string& text, const std::string& name, const std::string& label = "");

// The metrics port a worker logged to `log_path` ("metrics on
// http://host:PORT/metrics", text or JSON), or -1 after `timeout_s`.
int metrics_port(const std::string& log_path, int timeout_s);
// The read API's port a worker or `serve` logged ("read API on
// http://host:PORT/v1/"), or -1 after `timeout_s`.
int api_port(const std::string& log_path, int timeout_s);

// Polls `condition` every 100 ms; false if it still fails after `timeout_s`.
bool eventually(const std::function<bool()>& condition, int timeout_s);

// GET /readyz until it answers `status` with `text` in its body.
bool readyz_says(int port, int status, const std::string& text, int timeout_s);

// Makes SQLite's writes fail in a patternd process started with command():
// the operating system answers pwrite() with an errno (tests/preload).
class WriteFaults {
 public:
  explicit WriteFaults(const TempDir& dir);
  // `patternd args...` with the fault injector preloaded (for BackgroundProcess::Command).
  std::vector<std::string> command(const std::vector<std::string>& args) const;
  // From now on `percent`% of writes fail with `error` (EROFS, ENOSPC, EIO, ...).
  void fail(int error, int percent = 100) const;
  void clear() const;  // writes pass again

 private:
  std::string m_control;
};

// High minus low watermark of each partition 0..partitions-1 of `topic`:
// how many messages the broker holds.
std::vector<std::int64_t> partition_sizes(const std::string& bootstrap, const std::string& topic,
                                          int partitions);

// A TCP port that was free a moment ago, for programs that need one given.
int free_port();

// The sum of a database's stored next offsets: how many Kafka messages it
// covers (0 while it does not exist yet).
std::int64_t covered(const std::string& db_path);

// What one run of `patternd run` said it did, from the last "stopped after"
// line of its log (zeros without one).
struct Accounting {
  std::int64_t consumed = 0, persisted = 0, duplicates = 0, dead_letters = 0;
};
Accounting accounting(const std::string& log_path);
// Polls covered() until it reaches `at_least`; false after `timeout_s`.
bool wait_for_coverage(const std::string& db_path, std::int64_t at_least, int timeout_s,
                       int poll_ms = 100);

std::string source_path(const std::string& relative);  // a file of this repository
void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);
std::vector<std::string> read_lines(const std::string& path);

// A config for tests: everything in `dir`, retention off (fixed event times
// never expire), the shipped rules unless `rules` is given.
std::string write_config(const TempDir& dir, const std::string& name = "patternd.yaml",
                         const std::string& rules = "", const std::string& extra = "");

// Every row of `table`, rendered canonically and sorted, leaving out the
// named columns (row ids, receive times). Two databases with the same content
// give the same dump.
std::string dump_table(const std::string& db_path, const std::string& table,
                       const std::vector<std::string>& skip_columns = {});

// The names of all tables of the database (sqlite_ internal ones excluded).
std::vector<std::string> table_names(const std::string& db_path);

}  // namespace patternd::testing

namespace patternd::testing {

// The whole content of a patternd database, independent of row ids and of
// when rows were received: every table, with ids replaced by natural keys.
// Two databases that hold the same facts give the same string.
std::string canonical_database(const std::string& db_path);

}  // namespace patternd::testing

namespace patternd::testing {

// `patternd ARGS...` running in the background; killed (SIGKILL) at
// destruction if still running.
class BackgroundProcess {
 public:
  struct Command {
    std::vector<std::string> argv;  // any program, its first word found on PATH
    bool piped_stdin = false;       // write_input() feeds it; else /dev/null
  };
  BackgroundProcess(const Command& command, const std::string& stderr_path = "");
  // Standard error goes to `stderr_path` when one is given (else it is the
  // test's own).
  explicit BackgroundProcess(const std::vector<std::string>& args,
                             const std::string& stderr_path = "");
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // The next line of standard output, or "" after `timeout_ms` or at EOF.
  std::string read_line(int timeout_ms);
  // With piped_stdin: writes all of `text` to its standard input (false if
  // the process closed it), or closes it (EOF).
  bool write_input(const std::string& text);
  void close_input();
  void signal(int sig);
  // Waits for the exit; returns the exit code (128 + signal if killed), or -1
  // if it has not exited after `timeout_ms`.
  int wait(int timeout_ms);
  int pid() const { return m_pid; }

 private:
  int m_pid = -1;
  int m_out = -1;
  int m_in = -1;
  std::string m_buffer;
  bool m_exited = false;
  int m_code = -1;
};

}  // namespace patternd::testing
