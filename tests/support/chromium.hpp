#pragma once
// Headless Chromium driven over the Chrome DevTools Protocol, for the tests
// of the page (SPEC section 15). Chromium runs with --remote-debugging-pipe:
// it reads NUL-terminated JSON commands on its fd 3 and writes
// NUL-terminated JSON answers and events on its fd 4. One page is opened and
// attached in flat mode, so every page command carries its sessionId.
//
// Every wait has a deadline: a Chromium that is missing, crashes or hangs
// makes the call throw std::runtime_error saying so (with the end of its
// log), never a test that hangs. The destructor closes the browser and
// reaps every process it started. Not thread-safe: one test thread drives it.

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/helpers.hpp"

namespace patternd::testing {

class Chromium {
 public:
  static constexpr std::chrono::seconds k_deadline{15};

  // Starts $PATTERND_CHROMIUM (default /usr/bin/chromium) with a fresh
  // profile and opens a 1280x900 page on about:blank.
  Chromium();
  ~Chromium();
  Chromium(const Chromium&) = delete;
  Chromium& operator=(const Chromium&) = delete;

  // A command to the page; its "result". Throws on an error answer, or when
  // no answer came within k_deadline.
  nlohmann::json page(const std::string& method, nlohmann::json params = nlohmann::json::object());

  void navigate(const std::string& url);
  // The value of `expression` in the page (a promise is awaited); throws if
  // it threw.
  nlohmann::json evaluate(const std::string& expression);
  // What the page shows: document.body.innerText ("" before there is a body).
  std::string text();
  // Polls text() until it contains `needle`; false when it did not within
  // `timeout`.
  bool wait_for_text(const std::string& needle, std::chrono::milliseconds timeout = k_deadline);
  // What the page reported as errors so far: console.error() calls, uncaught
  // exceptions, and the browser's log entries at level error (a file or a
  // request that failed). Reads the events still on their way first.
  std::vector<std::string> console_errors();
  void clear_console_errors() { m_errors.clear(); }
  // A PNG of the viewport, written to `path`.
  void screenshot(const std::string& path);

 private:
  using Clock = std::chrono::steady_clock;

  void start(const std::string& binary);
  nlohmann::json call(const std::string& method, nlohmann::json params, const std::string& session);
  // Reads what Chromium sent until `until` (events are recorded, answers
  // kept by id); false when nothing more came by then.
  bool read_until(Clock::time_point until);
  void record_event(const nlohmann::json& message);
  [[noreturn]] void fail(const std::string& what);
  void stop();

  TempDir m_profile;
  std::string m_log;
  int m_pid = -1;
  int m_commands = -1;                       // our end of its fd 3
  int m_answers = -1;                        // our end of its fd 4
  std::string m_unparsed;                    // bytes after the last NUL
  std::map<long, nlohmann::json> m_results;  // answers not yet asked for, by id
  long m_next_id = 1;
  std::string m_session;
  std::vector<std::string> m_errors;
};

}  // namespace patternd::testing
