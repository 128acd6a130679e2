#include "support/helpers.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <librdkafka/rdkafkacpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace patternd::testing {

namespace {

// One row as "name=value|..." (or "value|..." without names); blobs in hex.
std::string render_row(SQLite::Statement& q, const std::vector<std::string>& skip_columns,
                       bool with_names) {
  std::string row;
  for (int c = 0; c < q.getColumnCount(); ++c) {
    const std::string name = q.getColumnName(c);
    if (std::find(skip_columns.begin(), skip_columns.end(), name) != skip_columns.end()) continue;
    const SQLite::Column column = q.getColumn(c);
    if (with_names) row += name + "=";
    if (column.isNull()) {
      row += "NULL";
    } else if (column.isBlob()) {
      static constexpr char k_hex[] = "0123456789abcdef";
      const auto* bytes = static_cast<const unsigned char*>(column.getBlob());
      for (int b = 0; b < column.getBytes(); ++b) {
        row.push_back(k_hex[bytes[b] >> 4]);
        row.push_back(k_hex[bytes[b] & 0xF]);
      }
    } else {
      row += column.getString();
    }
    row += "|";
  }
  return row;
}

// In a forked child: becomes `patternd ARGS...`.
// Runs `command` (its first word found on PATH) in place of this process.
[[noreturn]] void exec_command(const std::vector<std::string>& command) {
  std::vector<std::string> copy = command;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  _exit(127);
}

std::vector<std::string> patternd_command(const std::vector<std::string>& args) {
  std::vector<std::string> command = {PATTERND_BINARY};
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

}  // namespace

TempDir::TempDir() {
  std::random_device rd;
  m_path = std::filesystem::temp_directory_path() /
           ("patternd-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(m_path);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

std::string source_path(const std::string& relative) {
  return std::string(PATTERND_SOURCE_DIR) + "/" + relative;
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

CommandResult run_patternd(const std::vector<std::string>& args, const std::string& stdin_text) {
  return run_command(patternd_command(args), stdin_text);
}

CommandResult run_command(const std::vector<std::string>& command, const std::string& stdin_text) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0 || pipe(err_pipe) != 0)
    throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
      close(fd);
    exec_command(command);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  // Feed stdin and drain both outputs together, so no pipe fills up.
  CommandResult result;
  std::size_t written = 0;
  if (stdin_text.empty()) close(in_pipe[1]);
  bool in_open = !stdin_text.empty(), out_open = true, err_open = true;
  if (in_open) fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  char buffer[65536];
  while (out_open || err_open) {
    pollfd fds[3];
    int n = 0;
    if (out_open) fds[n++] = {out_pipe[0], POLLIN, 0};
    if (err_open) fds[n++] = {err_pipe[0], POLLIN, 0};
    if (in_open) fds[n++] = {in_pipe[1], POLLOUT, 0};
    poll(fds, static_cast<nfds_t>(n), -1);
    for (int k = 0; k < n; ++k) {
      if (fds[k].revents == 0) continue;
      if (fds[k].fd == in_pipe[1]) {
        const ssize_t w =
            write(in_pipe[1], stdin_text.data() + written, stdin_text.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 || written == stdin_text.size()) {
          close(in_pipe[1]);
          in_open = false;
        }
        continue;
      }
      const ssize_t r = read(fds[k].fd, buffer, sizeof buffer);
      if (r <= 0) {
        close(fds[k].fd);
        (fds[k].fd == out_pipe[0] ? out_open : err_open) = false;
      } else {
        (fds[k].fd == out_pipe[0] ? result.out : result.err)
            .append(buffer, static_cast<std::size_t>(r));
      }
    }
  }
  if (in_open) close(in_pipe[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string write_config(const TempDir& dir, const std::string& name, const std::string& rules,
                         const std::string& extra) {
  const std::string path = dir.file(name);
  write_file(path, "storage:\n  path: " + dir.file("patternd.db") +
                       "\nretention:\n  days: 0\ndetection:\n  rules: " +
                       (rules.empty() ? source_path("config/patterns.yaml") : rules) +
                       // A free port: tests run in parallel, some with two workers.
                       "\nmetrics:\n  listen: 127.0.0.1:0\napi:\n  listen: 127.0.0.1:0\n" + extra);
  return path;
}

std::vector<std::string> table_names(const std::string& db_path) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  SQLite::Statement q(db,
                      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                      "'sqlite_%' ORDER BY name");
  std::vector<std::string> names;
  while (q.executeStep()) names.push_back(q.getColumn(0).getString());
  return names;
}

std::string dump_table(const std::string& db_path, const std::string& table,
                       const std::vector<std::string>& skip_columns) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  // Table names come from the schema of a test database, not from input.
  SQLite::Statement q(db, "SELECT * FROM \"" + table + "\"");
  std::vector<std::string> rows;
  while (q.executeStep()) rows.push_back(render_row(q, skip_columns, true));
  std::sort(rows.begin(), rows.end());
  std::string out;
  for (const auto& row : rows) out += row + "\n";
  return out;
}

}  // namespace patternd::testing

namespace patternd::testing {
namespace {

std::string dump_query(SQLite::Database& db, const std::string& title, const std::string& sql) {
  SQLite::Statement q(db, sql);
  std::vector<std::string> rows;
  while (q.executeStep()) rows.push_back(render_row(q, {}, false));
  std::sort(rows.begin(), rows.end());
  std::string out = "== " + title + " (" + std::to_string(rows.size()) + " rows)\n";
  for (const auto& row : rows) out += row + "\n";
  return out;
}

}  // namespace

std::string canonical_database(const std::string& db_path) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  std::string out;
  out += dump_query(db, "workflow_history",
                    "SELECT workflow_id, agent_name, nl_input, workflow_template, status, "
                    "total_tokens, cost_micros, error_count, retry_count, duration_ms, "
                    "completed_at FROM workflow_history");
  out += dump_query(db, "operation_patterns",
                    "SELECT pattern_signature, category, tool, target, occurrences, successes, "
                    "total_tokens, total_cost_micros, total_duration_ms, total_errors, "
                    "total_retries, first_seen, last_seen FROM operation_patterns");
  out += dump_query(db, "pattern_occurrences",
                    "SELECT p.pattern_signature, w.workflow_id, o.occurred_at FROM "
                    "pattern_occurrences o JOIN operation_patterns p ON p.id = o.pattern_id "
                    "JOIN workflow_history w ON w.id = o.workflow_id");
  out += dump_query(db, "operation_pattern_days",
                    "SELECT p.pattern_signature, d.day, d.occurrences FROM operation_pattern_days "
                    "d JOIN operation_patterns p ON p.id = d.pattern_id");
  out += dump_query(db, "extraction_events",
                    "SELECT identity, event_id, agent_name, session_id, event_time, event_type, "
                    "pattern, matched_value, original_line, line_number, risk_level, "
                    "auto_confirmable, metadata, code_digest, code_line_start, code_line_end, "
                    "code_parseable FROM extraction_events");
  out += dump_query(db, "code_blocks",
                    "SELECT digest, language, content, occurrences, first_seen, last_seen FROM "
                    "code_blocks");
  out += dump_query(db, "agent_sessions",
                    "SELECT session_id, agent_name, first_event, first_event_identity, "
                    "last_event, event_count, error_count, feedback_outcomes, state_changes, "
                    "started_at, ended_at, exit_code, end_state, end_rank, state, state_rank, "
                    "lines_processed, environment, environment_rank, stdout_log_path, "
                    "stdout_log_path_rank, stderr_log_path, stderr_log_path_rank, "
                    "extraction_config_version, extraction_config_version_rank, "
                    "environment_config_version, environment_config_version_rank "
                    "FROM agent_sessions");
  out += dump_query(db, "session_state_changes",
                    "SELECT identity, session_id, agent_name, state, event_time, environment, "
                    "exit_code, lines_processed, stdout_log_path, stderr_log_path, "
                    "extraction_config_version, environment_config_version, metadata FROM "
                    "session_state_changes");
  out += dump_query(db, "failure_patterns",
                    "SELECT signature, error_type, example, example_time, example_identity, "
                    "frequency, first_seen, last_seen, agent_count, session_count FROM "
                    "failure_patterns");
  out += dump_query(db, "failure_pattern_agents",
                    "SELECT f.signature, a.agent_name FROM failure_pattern_agents a JOIN "
                    "failure_patterns f ON f.id = a.failure_id");
  out += dump_query(db, "failure_pattern_sessions",
                    "SELECT f.signature, s.session_id FROM failure_pattern_sessions m JOIN "
                    "failure_patterns f ON f.id = m.failure_id JOIN agent_sessions s ON s.id = "
                    "m.session_id");
  out += dump_query(db, "dead_letters",
                    "SELECT topic, partition, offset, reason_class, reason, payload, "
                    "payload_size FROM dead_letters");
  out += dump_query(db, "kafka_offsets", "SELECT topic, partition, next_offset FROM kafka_offsets");
  out += dump_query(db, "patternd_meta", "SELECT key, value FROM patternd_meta");
  out += dump_query(db, "agent_workflow_totals", "SELECT * FROM agent_workflow_totals");
  out += dump_query(db, "agent_event_totals", "SELECT * FROM agent_event_totals");
  out += dump_query(db, "activity_minutes", "SELECT * FROM activity_minutes");
  out += dump_query(db, "activity_hours", "SELECT * FROM activity_hours");
  out += dump_query(db, "outcomes",
                    "SELECT identity, outcome_id, agent_name, session_id, event_time, pattern, "
                    "success, duration_ms, error, fix, organization_id, user_id FROM outcomes");
  // Row ids depend on the order of arrival; everything else must not.
  out += dump_query(db, "failure_fixes",
                    "SELECT signature, pattern, error_type, attempts, successes, duration_ms_sum, "
                    "duration_count, first_seen, last_seen, fix_example, fix_example_rank, "
                    "fix_example_time, fix_example_identity, agent_count, confidence FROM "
                    "failure_fixes");
  out += dump_query(db, "failure_fix_agents",
                    "SELECT f.signature, f.pattern, a.agent_name FROM failure_fix_agents a JOIN "
                    "failure_fixes f ON f.id = a.fix_id");
  out += dump_query(db, "outcome_stats", "SELECT * FROM outcome_stats");
  out += dump_query(db, "outcome_agent_stats", "SELECT * FROM outcome_agent_stats");
  out += dump_query(db, "prompt_history",
                    "SELECT identity, prompt_id, agent_name, session_id, created_at, "
                    "original_idea, context, improved_prompt, role, directive, framework, "
                    "guardrails, backend, model_version, confidence, reasoning, latency_ms FROM "
                    "prompt_history");
  out += dump_query(db, "prompt_backend_stats", "SELECT * FROM prompt_backend_stats");
  out += dump_query(db, "prompt_latency_counts", "SELECT * FROM prompt_latency_counts");
  // The full-text index: each record indexed once, with its token counts
  // per column (FTS5's own docsize table, by the record's identity).
  out += dump_query(db, "prompt_search",
                    "SELECT p.identity, hex(d.sz) FROM prompt_search_docsize d LEFT JOIN "
                    "prompt_history p ON p.id = d.id");
  return out;
}

}  // namespace patternd::testing

namespace patternd::testing {

HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpResponse response;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return response;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return response;
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "Connection: close\r\n\r\n";
  for (std::size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buffer[16384];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;)
    raw.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return response;
  response.status = std::atoi(raw.c_str() + 9);
  std::size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    const std::size_t eol = raw.find("\r\n", line);
    const std::string header = raw.substr(line, eol - line);
    const auto colon = header.find(':');
    if (colon != std::string::npos) {
      std::string name = header.substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = header.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      response.headers[name] = value;
    }
    line = eol + 2;
  }
  response.body = raw.substr(head_end + 4);
  if (response.headers.count("transfer-encoding") != 0) {  // chunked: join the chunks
    std::string body;
    std::size_t at = 0;
    while (at < response.body.size()) {
      const std::size_t eol = response.body.find("\r\n", at);
      if (eol == std::string::npos) break;
      const std::size_t size = std::stoul(response.body.substr(at, eol - at), nullptr, 16);
      if (size == 0) break;
      body += response.body.substr(eol + 2, size);
      at = eol + 2 + size + 2;
    }
    response.body = body;
  }
  return response;
}

namespace {

std::int64_t number(const std::string& with_commas) {
  std::string digits;
  for (char c : with_commas)
    if (c != ',') digits.push_back(c);
  return std::stoll(digits);
}

}  // namespace

Accounting accounting(const std::string& log_path) {
  const std::regex stopped(
      R"(stopped after ([\d,]+) messages \(([\d,]+) persisted, ([\d,]+) duplicates, ([\d,]+) dead letters)");
  Accounting a;
  std::smatch m;
  for (const auto& line : read_lines(log_path))
    if (std::regex_search(line, m, stopped))
      a = {number(m[1]), number(m[2]), number(m[3]), number(m[4])};
  return a;
}

std::int64_t covered(const std::string& db_path) {
  try {
    SQLite::Database db(db_path, SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT coalesce(sum(next_offset), 0) FROM kafka_offsets").getInt64();
  } catch (const SQLite::Exception&) {
    return 0;  // not created yet
  }
}

bool wait_for_coverage(const std::string& db_path, std::int64_t at_least, int timeout_s,
                       int poll_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (covered(db_path) >= at_least) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
  return false;
}

double metric_sum(const std::string& text, const std::string& name, const std::string& label) {
  double sum = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto end_of_name = line.find_first_of("{ ");
    if (line.compare(0, end_of_name, name) != 0 || end_of_name != name.size()) continue;
    if (!label.empty() && line.find(label) == std::string::npos) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

namespace {

int logged_port(const std::string& log_path, const std::regex& pattern, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(log_path);
    std::smatch match;
    for (std::string line; std::getline(in, line);)
      if (std::regex_search(line, match, pattern)) return std::stoi(match[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

}  // namespace

int metrics_port(const std::string& log_path, int timeout_s) {
  return logged_port(log_path, std::regex(R"(metrics on http://[^:]+:(\d+)/metrics)"), timeout_s);
}

int api_port(const std::string& log_path, int timeout_s) {
  return logged_port(log_path, std::regex(R"(read API on http://[^:]+:(\d+)/v1/)"), timeout_s);
}

bool eventually(const std::function<bool()>& condition, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

bool readyz_says(int port, int status, const std::string& text, int timeout_s) {
  return eventually(
      [&] {
        const auto r = http_get(port, "/readyz");
        return r.status == status && r.body.find(text) != std::string::npos;
      },
      timeout_s);
}

WriteFaults::WriteFaults(const TempDir& dir) : m_control(dir.file("write-faults")) {}

std::vector<std::string> WriteFaults::command(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"env",
                                   std::string("LD_PRELOAD=") + PATTERND_WRITE_FAULTS_LIBRARY,
                                   "WRITE_FAULTS_CONTROL=" + m_control, PATTERND_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

void WriteFaults::fail(int error, int percent) const {
  // Written whole, then renamed: the process never reads half a line.
  write_file(m_control + ".new", std::to_string(error) + " " + std::to_string(percent) + "\n");
  std::filesystem::rename(m_control + ".new", m_control);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // it re-reads every 10 ms
}

void WriteFaults::clear() const {
  std::filesystem::remove(m_control);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

std::vector<std::int64_t> partition_sizes(const std::string& bootstrap, const std::string& topic,
                                          int partitions) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  conf->set("bootstrap.servers", bootstrap, error);
  std::unique_ptr<RdKafka::Producer> client(RdKafka::Producer::create(conf.get(), error));
  std::vector<std::int64_t> sizes;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    const auto err = client->query_watermark_offsets(topic, p, &low, &high, 5000);
    if (err != RdKafka::ERR_NO_ERROR)
      throw std::runtime_error("watermarks of " + topic + ": " + RdKafka::err2str(err));
    sizes.push_back(high - low);
  }
  return sizes;
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("cannot find a free port");
  close(fd);
  return ntohs(address.sin_port);
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& args,
                                     const std::string& stderr_path)
    : BackgroundProcess(Command{patternd_command(args)}, stderr_path) {}

BackgroundProcess::BackgroundProcess(const Command& command, const std::string& stderr_path) {
  int out_pipe[2];
  int in_pipe[2] = {-1, -1};
  if (pipe(out_pipe) != 0 || (command.piped_stdin && pipe(in_pipe) != 0))
    throw std::runtime_error("pipe failed");
  m_pid = fork();
  if (m_pid == 0) {
    dup2(out_pipe[1], 1);
    if (!stderr_path.empty()) {
      const int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (err >= 0) dup2(err, 2);
    }
    close(out_pipe[0]);
    close(out_pipe[1]);
    if (command.piped_stdin) {
      dup2(in_pipe[0], 0);
      close(in_pipe[0]);
      close(in_pipe[1]);
    } else {
      const int devnull = open("/dev/null", O_RDONLY);
      dup2(devnull, 0);
    }
    exec_command(command.argv);
  }
  close(out_pipe[1]);
  m_out = out_pipe[0];
  if (command.piped_stdin) {
    close(in_pipe[0]);
    m_in = in_pipe[1];
  }
}

bool BackgroundProcess::write_input(const std::string& text) {
  // A process that exited must fail the write, not kill the test.
  std::signal(SIGPIPE, SIG_IGN);
  std::size_t done = 0;
  while (m_in >= 0 && done < text.size()) {
    const ssize_t n = ::write(m_in, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return m_in >= 0;
}

void BackgroundProcess::close_input() {
  if (m_in >= 0) close(m_in);
  m_in = -1;
}

BackgroundProcess::~BackgroundProcess() {
  if (!m_exited && m_pid > 0) {
    kill(m_pid, SIGKILL);
    waitpid(m_pid, nullptr, 0);
  }
  if (m_out >= 0) close(m_out);
  if (m_in >= 0) close(m_in);
}

std::string BackgroundProcess::read_line(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto newline = m_buffer.find('\n');
    if (newline != std::string::npos) {
      std::string line = m_buffer.substr(0, newline);
      m_buffer.erase(0, newline + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return "";
    pollfd pfd{m_out, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left)) <= 0) continue;
    char buffer[4096];
    const ssize_t n = read(m_out, buffer, sizeof buffer);
    if (n <= 0) return "";
    m_buffer.append(buffer, static_cast<std::size_t>(n));
  }
}

void BackgroundProcess::signal(int sig) {
  if (!m_exited) kill(m_pid, sig);
}

int BackgroundProcess::wait(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!m_exited) {
    int status = 0;
    const pid_t r = waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid) {
      m_exited = true;
      m_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return m_code;
}

}  // namespace patternd::testing
