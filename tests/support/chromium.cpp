#include "support/chromium.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace patternd::testing {
namespace {

using nlohmann::json;

std::string chromium_binary() {
  const char* given = std::getenv("PATTERND_CHROMIUM");
  return given && *given ? given : "/usr/bin/chromium";
}

std::vector<std::string> chromium_arguments(const std::string& binary, const std::string& profile) {
  return {binary,
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--user-data-dir=" + profile,
          "--remote-debugging-pipe",
          "about:blank"};
}

// This process's environment with HOME and the XDG directories in `dir`, so
// that Chromium writes nothing outside it (its crash handlers' database
// included, whose path then names `dir`).
std::vector<std::string> environment_in(const std::string& dir) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    if (!entry.starts_with("HOME=") && !entry.starts_with("XDG_CONFIG_HOME=") &&
        !entry.starts_with("XDG_CACHE_HOME="))
      out.emplace_back(entry);
  }
  for (const char* name : {"HOME=", "XDG_CONFIG_HOME=", "XDG_CACHE_HOME="})
    out.push_back(name + dir);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Chromium's crash handlers (chrome_crashpad_handler, "chrome_crashpad" as
// the kernel shortens it): they leave its process group for a session of
// their own, so the group's kill misses them, but this process, their
// subreaper, is their parent. Alive or already exited, they are found by
// name (an exited one has no command line left).
std::vector<pid_t> crash_handlers() {
  std::vector<pid_t> out;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat;
    std::getline(std::ifstream(entry.path() / "stat"), stat);
    const auto comm_start = stat.find('(');
    const auto comm_end = stat.rfind(')');  // "pid (comm) state ppid ..."
    if (comm_start == std::string::npos || comm_end == std::string::npos) continue;
    std::istringstream fields(stat.substr(comm_end + 1));
    char state = 0;
    pid_t parent = 0;
    fields >> state >> parent;
    const std::string comm = stat.substr(comm_start + 1, comm_end - comm_start - 1);
    if (parent == getpid() && comm == "chrome_crashpad") out.push_back(std::stoi(name));
  }
  return out;
}

std::string base64_decode(const std::string& text) {
  static const std::string k_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (const char c : text) {
    const auto value = k_alphabet.find(c);
    if (value == std::string::npos) continue;  // '=' padding, line breaks
    bits = (bits << 6) | static_cast<unsigned>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  return out;
}

std::string tail(const std::string& text, std::size_t max) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

// The text of a console call's arguments, as the console would print them.
std::string console_text(const json& args) {
  std::string out;
  for (const auto& a : args) {
    if (!out.empty()) out += " ";
    if (a.contains("value"))
      out += a["value"].is_string() ? a["value"].get<std::string>() : a["value"].dump();
    else
      out += a.value("description", a.value("type", "?"));
  }
  return out;
}

}  // namespace

Chromium::Chromium() : m_log(m_profile.file("chromium.log")) {
  const std::string binary = chromium_binary();
  if (access(binary.c_str(), X_OK) != 0)
    throw std::runtime_error("no Chromium at " + binary +
                             " (apt-get install chromium, or set PATTERND_CHROMIUM)");
  // Chromium's crash handlers detach from it, and its helpers outlive a
  // killed browser for a moment: as their subreaper this process gets to
  // reap them all (the container's init may never do it).
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Chromium gone must fail a write, not kill the test.
  std::signal(SIGPIPE, SIG_IGN);
  start(binary);
  try {
    const json target = call("Target.createTarget", {{"url", "about:blank"}}, "");
    const json attached =
        call("Target.attachToTarget", {{"targetId", target["targetId"]}, {"flatten", true}}, "");
    m_session = attached["sessionId"];
    for (const char* domain : {"Runtime.enable", "Log.enable", "Page.enable"}) page(domain);
    page("Emulation.setDeviceMetricsOverride",
         {{"width", 1280}, {"height", 900}, {"deviceScaleFactor", 1}, {"mobile", false}});
  } catch (...) {
    stop();
    throw;
  }
}

Chromium::~Chromium() { stop(); }

void Chromium::start(const std::string& binary) {
  // Made before fork(): the child may only make async-signal-safe calls.
  auto arguments = chromium_arguments(binary, m_profile.file("profile"));
  auto environment = environment_in(m_profile.path().string());
  const auto argv = c_strings(arguments);
  const auto envp = c_strings(environment);
  int commands[2];
  int answers[2];
  if (pipe2(commands, O_CLOEXEC) != 0 || pipe2(answers, O_CLOEXEC) != 0)
    throw std::runtime_error("Chromium: pipe2 failed");
  m_pid = fork();
  if (m_pid < 0) throw std::runtime_error("Chromium: fork failed");
  if (m_pid == 0) {
    // Its own process group, so that stop() can end all its processes.
    setpgid(0, 0);
    // Lifted above 4 first: dup2 onto 3 or 4 could close the other pipe.
    const int in = fcntl(commands[0], F_DUPFD_CLOEXEC, 10);
    const int out = fcntl(answers[1], F_DUPFD_CLOEXEC, 10);
    dup2(in, 3);  // the copies lose close-on-exec
    dup2(out, 4);
    const int log = open(m_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    dup2(null, 0);
    dup2(log, 1);
    dup2(log, 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  setpgid(m_pid, m_pid);  // also here: whichever runs first
  close(commands[0]);
  close(answers[1]);
  m_commands = commands[1];
  m_answers = answers[0];
}

json Chromium::page(const std::string& method, json params) {
  return call(method, std::move(params), m_session);
}

json Chromium::call(const std::string& method, json params, const std::string& session) {
  const long id = m_next_id++;
  json command{{"id", id}, {"method", method}, {"params", std::move(params)}};
  if (!session.empty()) command["sessionId"] = session;
  std::string bytes = command.dump();
  bytes.push_back('\0');
  for (std::size_t sent = 0; sent < bytes.size();) {
    const ssize_t n = write(m_commands, bytes.data() + sent, bytes.size() - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("could not send " + method);
    sent += static_cast<std::size_t>(n);
  }
  const auto until = Clock::now() + k_deadline;
  while (!m_results.contains(id))
    if (!read_until(until)) fail("no answer to " + method + " within 15 s");
  json answer = std::move(m_results[id]);
  m_results.erase(id);
  if (answer.contains("error")) fail(method + " failed: " + answer["error"].dump());
  return answer.value("result", json::object());
}

bool Chromium::read_until(Clock::time_point until) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
  pollfd fd{m_answers, POLLIN, 0};
  const int ready = poll(&fd, 1, static_cast<int>(std::max<long>(0, left)));
  if (ready < 0 && errno == EINTR) return true;
  if (ready <= 0) return false;
  char buffer[65536];
  const ssize_t n = read(m_answers, buffer, sizeof buffer);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) fail("the DevTools pipe closed: Chromium exited");
  m_unparsed.append(buffer, static_cast<std::size_t>(n));
  for (auto end = m_unparsed.find('\0'); end != std::string::npos; end = m_unparsed.find('\0')) {
    json message = json::parse(m_unparsed.substr(0, end), nullptr, false);
    m_unparsed.erase(0, end + 1);
    if (message.is_discarded()) fail("Chromium sent a message that is not JSON");
    if (!message.contains("id")) {
      record_event(message);
      continue;
    }
    const long id = message["id"].get<long>();
    m_results[id] = std::move(message);
  }
  return true;
}

void Chromium::record_event(const json& message) {
  const std::string method = message.value("method", "");
  const json params = message.value("params", json::object());
  if (method == "Runtime.consoleAPICalled" && params.value("type", "") == "error") {
    m_errors.push_back("console.error: " + console_text(params.value("args", json::array())));
  } else if (method == "Runtime.exceptionThrown") {
    const json details = params.value("exceptionDetails", json::object());
    const json exception = details.value("exception", json::object());
    m_errors.push_back("uncaught: " + exception.value("description", details.value("text", "?")));
  } else if (method == "Log.entryAdded") {
    const json entry = params.value("entry", json::object());
    if (entry.value("level", "") == "error")
      m_errors.push_back("log: " + entry.value("text", "") + " (" + entry.value("url", "") + ")");
  } else if (method == "Inspector.targetCrashed") {
    m_errors.push_back("the page crashed");
  }
}

void Chromium::navigate(const std::string& url) {
  const json r = page("Page.navigate", {{"url", url}});
  if (r.contains("errorText")) fail("navigating to " + url + ": " + r["errorText"].dump());
}

json Chromium::evaluate(const std::string& expression) {
  const json r =
      page("Runtime.evaluate",
           {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}});
  if (r.contains("exceptionDetails"))
    fail("evaluating " + expression + ": " + r["exceptionDetails"].dump());
  return r["result"].value("value", json());
}

std::string Chromium::text() {
  const json value = evaluate("document.body ? document.body.innerText : ''");
  return value.is_string() ? value.get<std::string>() : "";
}

bool Chromium::wait_for_text(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  for (;;) {
    if (text().find(needle) != std::string::npos) return true;
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::vector<std::string> Chromium::console_errors() {
  // A failed load is logged a moment after the page moved on: let it come.
  const auto until = Clock::now() + std::chrono::milliseconds(300);
  while (read_until(until)) {
  }
  return m_errors;
}

void Chromium::screenshot(const std::string& path) {
  const json r = page("Page.captureScreenshot", {{"format", "png"}});
  std::ofstream(path, std::ios::binary) << base64_decode(r.value("data", ""));
}

void Chromium::fail(const std::string& what) {
  throw std::runtime_error("Chromium: " + what + "\nits log:\n" + tail(read_file(m_log), 2000));
}

// Browser.close lets Chromium end its helper processes itself; whatever is
// left after 5 s is killed. Every process of its group is reaped, and its
// crash handlers, which are not in the group.
void Chromium::stop() {
  if (m_pid <= 0) return;
  if (m_commands >= 0) {
    const std::string close = json{{"id", m_next_id++}, {"method", "Browser.close"}}.dump();
    [[maybe_unused]] const ssize_t ignored = write(m_commands, close.c_str(), close.size() + 1);
  }
  const auto until = Clock::now() + std::chrono::seconds(5);
  bool exited = false;
  while (!exited && Clock::now() < until) {
    exited = waitpid(m_pid, nullptr, WNOHANG) == m_pid;
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-m_pid, SIGKILL);
  if (!exited) waitpid(m_pid, nullptr, 0);
  while (waitpid(-m_pid, nullptr, 0) > 0 || errno == EINTR) {
  }
  for (const pid_t stray : crash_handlers()) {
    kill(stray, SIGKILL);
    waitpid(stray, nullptr, 0);
  }
  if (m_commands >= 0) close(m_commands);
  if (m_answers >= 0) close(m_answers);
  m_commands = m_answers = m_pid = -1;
}

}  // namespace patternd::testing
