// The page of SPEC section 15 (issue 20) in real headless Chromium, against
// databases whose content the test wrote: every view renders what the read
// API holds (or says honestly that it holds nothing), the console stays free
// of errors, and with api.tokens set the page asks for a token first.
//
// With PATTERND_SCREENSHOTS_DIR set, each view is also saved there as a PNG
// (`./dev screenshots` writes docs/screenshots/ this way).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/time.hpp"
#include "support/chromium.hpp"
#include "support/helpers.hpp"

namespace patternd {
namespace {

using nlohmann::json;
using testing::Chromium;

const std::string k_token = "web-page-test-token-0123456789";
const std::string k_stored_error =
    "ConnectionError: request 550e8400-e29b-41d4-a716-446655440000 to 'db-1' failed after 3 "
    "retries";
// The same failure with other details: the lookup finds it by signature.
const std::string k_asked_error =
    "ConnectionError: request 123e4567-e89b-12d3-a456-426614174000 to 'cache-7' failed after 12 "
    "retries";

std::string lines(const std::vector<json>& records) {
  std::string out;
  for (const auto& r : records) out += r.dump() + "\n";
  return out;
}

// Eight pytest runs and three eslint ones over the last days: the pytest
// pattern has the larger savings, so it tops the patterns view.
std::string workflows() {
  const core::TimestampMs base = core::now_ms() - 3 * 86'400'000;
  std::vector<json> out;
  for (int i = 0; i < 11; ++i) {
    const bool pytest = i < 8;
    out.push_back(
        {{"workflow_id", "wf-" + std::to_string(i)},
         {"agent_name", "codex"},
         {"nl_input", pytest ? "Run backend tests with pytest" : "Lint the frontend with eslint"},
         {"workflow_template", pytest ? "adw_test" : "adw_chore"},
         {"status", i == 3 ? "failed" : "completed"},
         {"total_tokens", 1000},
         {"actual_cost_total", 0.25},
         {"error_count", 0},
         {"retry_count", 0},
         {"duration_seconds", 60},
         {"completed_at", core::format_rfc3339(base + i * 3'600'000)}});
  }
  return lines(out);
}

// done: started, running, completed, with two events between; live: started.
std::string lifecycles() {
  auto change = [](const std::string& session, const std::string& state, const std::string& at,
                   json extra = json::object()) {
    json j{{"session_id", session}, {"agent_name", "codex"}, {"state", state}, {"timestamp", at}};
    j.update(extra);
    return j;
  };
  return lines({change("done", "started", "2026-11-20T10:00:00Z", {{"environment", "ci"}}),
                change("done", "running", "2026-11-20T10:02:00Z", {{"lines_processed", 500}}),
                change("done", "completed", "2026-11-20T10:05:00Z", {{"exit_code", 0}}),
                change("live", "started", "2026-11-20T11:00:00Z")});
}

std::string extractions() {
  return lines({{{"agent_name", "codex"},
                 {"session_id", "done"},
                 {"event_type", "command"},
                 {"pattern", "npm_command"},
                 {"matched_value", "npm test -- --watch=false"},
                 {"timestamp", "2026-11-20T10:01:00Z"}},
                {{"agent_name", "codex"},
                 {"session_id", "done"},
                 {"event_type", "error"},
                 {"matched_value", k_stored_error},
                 {"timestamp", "2026-11-20T10:03:00Z"}}});
}

// retry_logic worked 9 times of 10, pin_dependency once of 2.
std::string outcomes() {
  std::vector<json> out;
  for (int i = 0; i < 12; ++i) {
    const bool retry = i < 10;
    out.push_back({{"outcome_id", "out-" + std::to_string(i)},
                   {"agent_name", "codex"},
                   {"session_id", "done"},
                   {"timestamp", "2026-11-20T10:" + std::to_string(10 + i) + ":00Z"},
                   {"pattern", retry ? "retry_logic" : "pin_dependency"},
                   {"success", retry ? i != 0 : i == 10},
                   {"error", k_stored_error},
                   {"fix", retry ? "retry with backoff" : "pin the driver version"},
                   {"duration_ms", 200}});
  }
  return lines(out);
}

std::string prompts() {
  auto prompt = [](const std::string& id, const std::string& idea, const std::string& improved,
                   const std::string& backend, double confidence, int latency) {
    return json{{"prompt_id", id},
                {"timestamp", "2026-11-20T10:00:00Z"},
                {"agent_name", "improver"},
                {"original_idea", idea},
                {"context", ""},
                {"improved_prompt", improved},
                {"role", "engineer"},
                {"directive", "do it well"},
                {"framework", "CO-STAR"},
                {"guardrails", "no secrets"},
                {"backend", backend},
                {"model_version", backend + "-1"},
                {"confidence", confidence},
                {"latency_ms", latency}};
  };
  return lines({prompt("p-login", "make the login page faster",
                       "Profile the login page and cut the latency of the login form.", "anthropic",
                       0.9, 120),
                prompt("p-deploy", "deploy to staging", "Roll out the release with kubectl.",
                       "openai", 0.6, 900)});
}

// A database the test wrote, served by `patternd serve`.
class Served {
 public:
  // Ingests each (topic, JSON lines); with none, an empty database.
  Served(const std::vector<std::pair<std::string, std::string>>& inputs, const std::string& extra) {
    m_config = testing::write_config(m_dir, "patternd.yaml", "", extra);
    EXPECT_EQ(testing::run_patternd({"migrate", "--config", m_config}).exit_code, 0);
    int n = 0;
    for (const auto& [topic, text] : inputs) {
      const std::string file = m_dir.file("input-" + std::to_string(n++) + ".jsonl");
      testing::write_file(file, text);
      const auto r =
          testing::run_patternd({"ingest", "--config", m_config, "--topic", topic, file});
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    m_serve = std::make_unique<testing::BackgroundProcess>(
        std::vector<std::string>{"serve", "--config", m_config}, m_dir.file("serve.log"));
    port = testing::api_port(m_dir.file("serve.log"), 20);
    EXPECT_GT(port, 0) << testing::read_file(m_dir.file("serve.log"));
  }

  std::string url(const std::string& hash) const {
    return "http://127.0.0.1:" + std::to_string(port) + "/" + hash;
  }

  int port = -1;

 private:
  testing::TempDir m_dir;
  std::string m_config;
  std::unique_ptr<testing::BackgroundProcess> m_serve;
};

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += "\n  " + i;
  return out;
}

// Saved as PATTERND_SCREENSHOTS_DIR/name when that is set; nothing otherwise.
void screenshot(Chromium& browser, const std::string& name) {
  const char* dir = std::getenv("PATTERND_SCREENSHOTS_DIR");
  if (!dir || !*dir) return;
  std::filesystem::create_directories(dir);
  browser.screenshot((std::filesystem::path(dir) / name).string());
}

// A JavaScript string literal holding `text`.
std::string js(const std::string& text) { return json(text).dump(); }

class WebPage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_served = new Served({{"workflows", workflows()},
                           {"sessions", lifecycles()},
                           {"extractions", extractions()},
                           {"outcomes", outcomes()},
                           {"prompts", prompts()}},
                          "");
  }
  static void TearDownTestSuite() { delete s_served; }

  // Loads `hash` and waits for `text`; the page's text when it never came.
  ::testing::AssertionResult shows(const std::string& hash, const std::string& text) {
    m_browser.navigate(s_served->url(hash));
    return appears(text);
  }
  ::testing::AssertionResult appears(const std::string& text) {
    if (m_browser.wait_for_text(text)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "\"" << text << "\" never appeared; the page shows:\n"
                                         << m_browser.text();
  }
  ::testing::AssertionResult console_is_clean() {
    const auto errors = m_browser.console_errors();
    if (errors.empty()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the console shows errors:" << joined(errors);
  }

  static Served* s_served;
  Chromium m_browser;
};

Served* WebPage::s_served = nullptr;

TEST_F(WebPage, ThePatternsViewShowsTheTopPatternWithItsSavingsAndConfidence) {
  ASSERT_TRUE(shows("#/patterns", "Operation patterns"));
  ASSERT_TRUE(appears("test:pytest:backend"));
  EXPECT_EQ(m_browser.evaluate("document.querySelector('tbody tr a').textContent"),
            "test:pytest:backend");
  EXPECT_TRUE(appears("87.5%"));  // 7 of its 8 runs succeeded
  screenshot(m_browser, "patterns.png");
  EXPECT_TRUE(console_is_clean());

  m_browser.evaluate("document.querySelector('tbody tr a').click()");
  EXPECT_TRUE(appears("Runs per day"));
  // The detail view has no sort links: "Sort by" is the list, sorted anew.
  ASSERT_TRUE(shows("#/patterns?sort=occurrences", "Sort by"));
  EXPECT_EQ(m_browser.evaluate("document.querySelector('.sorts .current').textContent"), "Runs");
  EXPECT_EQ(m_browser.evaluate("document.querySelector('tbody tr a').textContent"),
            "test:pytest:backend");
  EXPECT_TRUE(console_is_clean());
}

TEST_F(WebPage, TheLookupOfAKnownErrorShowsItsFixesBestFirst) {
  ASSERT_TRUE(shows("#/lookup", "Error text"));
  m_browser.evaluate("document.getElementById('error-input').value = " + js(k_asked_error) +
                     "; document.getElementById('lookup-form').requestSubmit()");
  ASSERT_TRUE(appears("Seen 1 time"));
  EXPECT_TRUE(appears("retry with backoff"));
  EXPECT_TRUE(appears("9 of 10"));
  const std::string text = m_browser.text();
  EXPECT_LT(text.find("retry_logic"), text.find("pin_dependency")) << text;
  screenshot(m_browser, "lookup.png");
  EXPECT_TRUE(console_is_clean());

  EXPECT_TRUE(shows("#/lookup?error=ZeroDivisionError%3A%20oops", "Not seen before"));
  EXPECT_TRUE(console_is_clean());
}

TEST_F(WebPage, SessionsListActiveOnesFirstAndASessionShowsItsStateChanges) {
  ASSERT_TRUE(shows("#/sessions", "Active"));
  ASSERT_TRUE(appears("done"));
  std::string text = m_browser.text();
  EXPECT_LT(text.find("live"), text.find("done")) << text;
  screenshot(m_browser, "sessions.png");

  ASSERT_TRUE(shows("#/sessions/done", "State changes"));
  const std::string timeline =
      m_browser.evaluate("document.getElementById('timeline').innerText").get<std::string>();
  const auto started = timeline.find("started");
  const auto running = timeline.find("running");
  const auto completed = timeline.find("completed");
  EXPECT_NE(completed, std::string::npos) << timeline;
  EXPECT_LT(started, running) << timeline;
  EXPECT_LT(running, completed) << timeline;
  EXPECT_TRUE(appears("npm test -- --watch=false"));  // its events
  screenshot(m_browser, "session.png");
  EXPECT_TRUE(console_is_clean());
}

TEST_F(WebPage, TheReplayPlaysTheSessionToItsEndAndStops) {
  ASSERT_TRUE(shows("#/sessions/done/replay?speed=0", "Replay ended"));
  // Three state changes, two events and the end, in event-time order.
  EXPECT_EQ(m_browser.evaluate("document.querySelectorAll('#replay-log li').length"), 6);
  const std::string log =
      m_browser.evaluate("document.getElementById('replay-log').innerText").get<std::string>();
  EXPECT_LT(log.find("npm test"), log.find("running")) << log;
  EXPECT_TRUE(appears("2 events and 3 state changes"));
  screenshot(m_browser, "replay.png");
  EXPECT_TRUE(console_is_clean());

  // At its real pace the next entry is a minute away: Stop ends it there.
  ASSERT_TRUE(shows("#/sessions/done/replay?speed=1", "Playing"));
  ASSERT_TRUE(m_browser.wait_for_text("state started"));
  m_browser.evaluate("document.getElementById('replay-stop').click()");
  EXPECT_TRUE(appears("Stopped after 1 entry"));
  EXPECT_TRUE(console_is_clean());
}

TEST_F(WebPage, PromptSearchShowsTheMatchingPromptAndTheApisMessageForABadQuery) {
  ASSERT_TRUE(shows("#/prompts?q=login", "Matches for"));
  ASSERT_TRUE(appears("make the login page faster"));
  EXPECT_TRUE(appears("relevance"));
  EXPECT_EQ(m_browser.text().find("deploy to staging"), std::string::npos);
  EXPECT_TRUE(appears("anthropic"));  // the per-backend figures
  EXPECT_TRUE(appears("openai"));
  screenshot(m_browser, "prompts.png");
  EXPECT_TRUE(console_is_clean());

  // The 400 itself is logged by the browser as a failed request.
  ASSERT_TRUE(shows("#/prompts?q=%22unterminated", "The search was refused"));
  EXPECT_TRUE(appears("q: not a valid full-text query"));  // the API's message
}

TEST_F(WebPage, TheFilesAreServedWithTheirTypesAndAStrictPolicy) {
  const auto index = testing::http_get(s_served->port, "/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.headers.at("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.headers.at("content-security-policy"),
            "default-src 'self'; connect-src 'self'; img-src 'self' data:");
  EXPECT_EQ(index.headers.at("x-content-type-options"), "nosniff");
  EXPECT_EQ(testing::http_get(s_served->port, "/style.css").headers.at("content-type"),
            "text/css; charset=utf-8");
  EXPECT_EQ(testing::http_get(s_served->port, "/app.js").headers.at("content-type"),
            "text/javascript; charset=utf-8");
  EXPECT_EQ(testing::http_request(s_served->port, "HEAD", "/app.js").status, 200);
  EXPECT_EQ(testing::http_request(s_served->port, "POST", "/").status, 405);
  // Any other path is the read API's, as before: a JSON 404.
  for (const std::string path : {"/nothing-here.js", "/web/app.js", "/app.js/"}) {
    const auto unknown = testing::http_get(s_served->port, path);
    EXPECT_EQ(unknown.status, 404) << path;
    EXPECT_NE(unknown.body.find("\"error\""), std::string::npos) << path;
  }
}

TEST_F(WebPage, TheConsoleCheckSeesErrorsAndMissingFiles) {
  // The check the other tests rely on must see what it is meant to see.
  m_browser.navigate(s_served->url("#/patterns"));
  ASSERT_TRUE(appears("test:pytest:backend"));
  m_browser.evaluate(
      "console.error('injected'); const s = document.createElement('script');"
      "s.src = '/missing.js'; document.head.append(s);"
      "new Promise((done) => { s.onerror = done; })");
  const auto errors = m_browser.console_errors();
  EXPECT_NE(joined(errors).find("injected"), std::string::npos) << joined(errors);
  EXPECT_NE(joined(errors).find("404"), std::string::npos) << joined(errors);
}

TEST(WebPageEmpty, AnEmptyDatabaseShowsEmptyStates) {
  const Served served({}, "");
  Chromium browser;
  const std::vector<std::pair<std::string, std::string>> views = {
      {"#/patterns", "No patterns stored yet"},
      {"#/lookup?error=TypeError%3A%20x", "Not seen before"},
      {"#/sessions", "No sessions stored yet"},
      {"#/prompts", "No prompts stored yet"},
      {"#/prompts?q=login", "No prompt matches"}};
  for (const auto& [hash, text] : views) {
    browser.navigate(served.url(hash));
    EXPECT_TRUE(browser.wait_for_text(text)) << hash << ":\n" << browser.text();
  }
  const auto errors = browser.console_errors();
  EXPECT_TRUE(errors.empty()) << joined(errors);
}

TEST(WebPageTokens, ThePageAsksForTheTokenAndAWrongOneIsRefused) {
  const Served served({{"workflows", workflows()}}, "api:\n  tokens: [" + k_token + "]\n");
  // The files hold no data: served without a token, with a strict policy.
  const auto index = testing::http_get(served.port, "/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.headers.at("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.headers.at("content-security-policy"),
            "default-src 'self'; connect-src 'self'; img-src 'self' data:");
  EXPECT_EQ(index.headers.at("x-content-type-options"), "nosniff");
  EXPECT_EQ(testing::http_get(served.port, "/app.js").headers.at("content-type"),
            "text/javascript; charset=utf-8");
  EXPECT_EQ(testing::http_get(served.port, "/v1/patterns").status, 401);

  Chromium browser;
  browser.navigate(served.url("#/patterns"));
  ASSERT_TRUE(browser.wait_for_text("API token needed")) << browser.text();
  auto submit = [&](const std::string& token) {
    browser.evaluate("document.getElementById('token-input').value = " + js(token) +
                     "; document.getElementById('token-form').requestSubmit()");
  };
  submit("not-the-token");
  EXPECT_TRUE(browser.wait_for_text("The token was refused")) << browser.text();
  EXPECT_TRUE(browser.wait_for_text("API token needed")) << browser.text();
  submit(k_token);
  EXPECT_TRUE(browser.wait_for_text("test:pytest:backend")) << browser.text();
  // The browser logs each 401 as a failed request; nothing else may appear.
  for (const auto& e : browser.console_errors()) EXPECT_NE(e.find("401"), std::string::npos) << e;
}

}  // namespace
}  // namespace patternd
