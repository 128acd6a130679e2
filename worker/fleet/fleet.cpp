#include "fleet/fleet.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

namespace patternd::fleet {
namespace {

using nlohmann::json;

constexpr std::array k_agents = {"ci-fixer",    "codex",      "claude-code",      "prompt-improver",
                                 "test-writer", "deploy-bot", "dependabot-agent", "reviewer"};

struct Task {
  const char* text;
  const char* template_name;
};

// What agents are asked to do, most of it recurring (worth automating).
constexpr std::array k_tasks = {
    Task{"Run backend tests with pytest", "adw_test"},
    Task{"Fix failing jest tests in the frontend", "adw_test"},
    Task{"Run the vitest suite for the web app", "adw_test"},
    Task{"Run go test for the cli", "adw_test"},
    Task{"Run cargo test on the core library", "adw_test"},
    Task{"Lint the backend with ruff and fix warnings", "adw_lint"},
    Task{"Run eslint and prettier on the frontend", "adw_lint"},
    Task{"Reformat python code with black", "adw_chore"},
    Task{"Run mypy type checks on the api", "adw_typecheck"},
    Task{"Type check the web app with tsc", "adw_typecheck"},
    Task{"Deploy the api to staging with kubectl", "adw_deploy"},
    Task{"Upgrade the helm chart in staging", "adw_deploy"},
    Task{"Apply the terraform plan for production infra", "adw_deploy"},
    Task{"Run alembic migrations on the database", "adw_migrate"},
    Task{"Install frontend dependencies with npm", "adw_chore"},
    Task{"Install pip requirements and run pytest for the backend", "adw_test"},
    Task{"Build the docker image for the backend", "adw_build"},
    Task{"Build the frontend bundle with npm run build", "adw_build"},
    Task{"Write a README section about configuration", "adw_docs"},
    Task{"Refactor the authentication module", "adw_patch"},
    Task{"Investigate flaky tests in CI", "adw_test"},
    Task{"Bump dependencies and fix the lockfile", "adw_chore"},
};

// Failures that recur with varying details (paths, lines, values).
constexpr std::array k_errors = {
    "TypeError: Cannot read properties of undefined (reading '{w}') at /app/src/{f}.js:{n}:{m}",
    "ModuleNotFoundError: No module named '{w}'",
    "AssertionError: expected {n} to equal {m}",
    "error[E0308]: mismatched types at src/{f}.rs:{n}",
    "FAILED tests/test_{f}.py::test_{w} - AssertionError: assert {n} == {m}",
    "Error: connect ECONNREFUSED 127.0.0.1:{n}",
    "Error: Command failed with exit code {n}: npm run build",
    "panic: runtime error: index out of range [{n}] with length {m}",
    "sqlite3.OperationalError: database is locked",
    "TS2322: Type 'string' is not assignable to type 'number'. ({f}.ts:{n})",
    "KeyError: '{w}'",
    "ImportError: cannot import name '{w}' from '{f}'",
    "TimeoutError: Navigation timeout of {n} ms exceeded",
    "java.lang.NullPointerException at com.acme.{f}.Service.handle(Service.java:{n})",
    "permission denied while trying to connect to the Docker daemon socket at "
    "unix:///var/run/docker.sock",
};

constexpr std::array k_words = {"id",     "user",   "config", "session", "token", "items",
                                "name",   "email",  "length", "data",    "props", "value",
                                "parser", "client", "router", "handler"};
constexpr std::array k_files = {"index",   "app",    "utils", "models", "views", "server",
                                "handler", "parser", "auth",  "api",    "main",  "db"};
constexpr std::array k_packages = {"requests", "pydantic", "numpy", "urllib3",
                                   "lodash",   "axios",    "react", "express"};

constexpr std::array k_commands = {
    "pytest -x tests/",      "npm run build",         "git push origin main", "rm -rf node_modules",
    "kubectl apply -f k8s/", "docker build -t app .", "alembic upgrade head", "ruff check --fix .",
    "go test ./...",         "cargo test --all"};

struct Snippet {
  const char* language;
  const char* content;
};
constexpr std::array k_snippets = {
    Snippet{"python", "def add(a, b):\n    return a + b\n"},
    Snippet{"python",
            "import pytest\n\n@pytest.fixture\ndef client():\n    return make_client()\n"},
    Snippet{"javascript", "export const sum = (a, b) => a + b;\n"},
    Snippet{"typescript", "interface User {\n  id: number;\n  name: string;\n}\n"},
    Snippet{"sql", "SELECT id, name FROM users WHERE active = 1;\n"},
    Snippet{"bash", "set -euo pipefail\nnpm ci && npm test\n"},
    Snippet{"rust", "fn main() {\n    println!(\"hello\");\n}\n"},
    Snippet{"go", "func Add(a, b int) int {\n\treturn a + b\n}\n"},
};

constexpr std::array k_event_types = {"error",        "command",    "code_block", "file_write",
                                      "risky_action", "error",      "command",    "file_write",
                                      "code_block",   "test_result"};

// Shares of --kind mixed, in percent: an agent reports an outcome once per
// fix it tries, far less often than the events and workflows around it, and
// a session's lifecycle in a handful of events. Lifecycle events are sent
// when due rather than drawn: the plan holds as many as their share asks.
struct Share {
  core::TopicKind kind;
  std::uint64_t percent;
};
constexpr std::array k_mixed_shares = {
    Share{core::TopicKind::workflows, 43}, Share{core::TopicKind::extractions, 43},
    Share{core::TopicKind::outcomes, 9}, Share{core::TopicKind::sessions, 5}};
constexpr std::uint64_t mixed_percent(core::TopicKind kind) {
  for (const Share& share : k_mixed_shares)
    if (share.kind == kind) return share.percent;
  return 0;
}

// Without lifecycle events, a fleet of this many sessions over the span
// (one to two hundred at work at once), however many messages are produced:
// runs of different kinds and counts from one seed share their sessions.
constexpr std::uint64_t k_sessions_without_lifecycle = 1000;
// --kind sessions plans a little fewer events than messages: the last few
// are further reports of sessions at work rather than a cut-off story.
constexpr double k_lifecycle_margin = 0.98;
// The first versions drew 400 session ids and agents, 13 draws each, from
// the messages' generator before the first message: skipping as many keeps
// each seed's workflows the messages they were.
constexpr std::uint64_t k_former_session_draws = 400 * 13;

PlanOptions plan_options(const Options& options) {
  PlanOptions plan;
  plan.seed = options.seed;
  plan.start = options.start;
  plan.span_ms = std::max<core::TimestampMs>(1, options.span_ms);
  plan.agents = static_cast<std::uint32_t>(k_agents.size());
  plan.events = options.mix == Mix::extractions || options.mix == Mix::outcomes ||
                options.mix == Mix::prompts || options.mix == Mix::mixed;
  plan.lifecycle = options.mix == Mix::sessions || options.mix == Mix::mixed;
  // Valid lifecycle messages: duplicates and invalid ones tell no story.
  double events =
      static_cast<double>(options.count) * (1 - options.duplicates) * (1 - options.invalid);
  if (options.mix == Mix::sessions) events *= k_lifecycle_margin;
  if (options.mix == Mix::mixed)
    events *= static_cast<double>(mixed_percent(core::TopicKind::sessions)) / 100;
  plan.sessions = plan.lifecycle
                      ? std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(
                                                       events / SessionPlan::events_per_session())))
                      : k_sessions_without_lifecycle;
  return plan;
}

}  // namespace

std::string Fleet::fill(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{' && i + 2 < text.size() && text[i + 2] == '}') {
      switch (text[i + 1]) {
        case 'w':
          out += k_words[below(k_words.size())];
          break;
        case 'f':
          out += k_files[below(k_files.size())];
          break;
        case 'p':
          out += k_packages[below(k_packages.size())];
          break;
        case 'n':
          out += std::to_string(1 + below(5000));
          break;
        case 'm':
          out += std::to_string(1 + below(120));
          break;
      }
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string_view Fleet::agent_name(std::uint32_t agent) { return k_agents[agent]; }

std::string Fleet::error_text() { return fill(k_errors[below(k_errors.size())]); }

Fleet::Fleet(Options options)
    : m_options(options), m_dice(options.seed), m_sessions(plan_options(options)) {
  m_dice.skip(k_former_session_draws);
}

bool Fleet::next(Message& out) {
  if (m_index >= m_options.count) return false;
  const std::uint64_t i = m_index++;
  const auto moment =
      m_options.start +
      static_cast<core::TimestampMs>(static_cast<double>(i) / static_cast<double>(m_options.count) *
                                     static_cast<double>(m_options.span_ms));
  const auto time = moment + static_cast<core::TimestampMs>(below(1000));

  out.kind = next_kind(moment);
  out.duplicate = false;
  out.invalid = false;

  if (!m_recent.empty() && chance(m_options.duplicates)) {
    // Look for an earlier message of the kind wanted; keep the mix honest.
    const Message& earlier = m_recent[below(m_recent.size())];
    if (m_options.mix == Mix::mixed || earlier.kind == out.kind) {
      out = earlier;
      out.duplicate = true;
      return true;
    }
  }
  if (chance(m_options.invalid)) {
    out.key = hex_id(8);
    out.payload = invalid_message(out.kind);
    out.invalid = true;
    return true;
  }
  switch (out.kind) {
    case core::TopicKind::workflows:
      out.payload = workflow(time, out.key);
      break;
    case core::TopicKind::extractions:
      out.payload = extraction(moment, time, out.key);
      break;
    case core::TopicKind::outcomes:
      out.payload = outcome(moment, time, out.key);
      break;
    case core::TopicKind::sessions:
      out.payload = lifecycle(moment, out.key);
      break;
    case core::TopicKind::prompts:
      out.payload = prompt(moment, time, out.key);
      break;
  }
  if (m_recent.size() < 4096) {
    m_recent.push_back(out);
  } else {
    m_recent[below(m_recent.size())] = out;
  }
  return true;
}

core::TopicKind Fleet::next_kind(core::TimestampMs moment) {
  switch (m_options.mix) {
    case Mix::workflows:
      return core::TopicKind::workflows;
    case Mix::extractions:
      return core::TopicKind::extractions;
    case Mix::outcomes:
      return core::TopicKind::outcomes;
    case Mix::sessions:
      return core::TopicKind::sessions;
    case Mix::prompts:
      return core::TopicKind::prompts;
    case Mix::mixed:
      break;
  }
  if (m_sessions.due(moment)) return core::TopicKind::sessions;
  std::uint64_t roll = below(100 - mixed_percent(core::TopicKind::sessions));
  for (const Share& share : k_mixed_shares) {
    if (share.kind == core::TopicKind::sessions) continue;
    if (roll < share.percent) return share.kind;
    roll -= share.percent;
  }
  return core::TopicKind::workflows;
}

std::string Fleet::workflow(core::TimestampMs time, std::string& key) {
  // A skewed choice of task: a few operations dominate, as in real fleets.
  const std::size_t task_index = std::min<std::size_t>(
      k_tasks.size() - 1,
      static_cast<std::size_t>(std::pow(static_cast<double>(below(1000)) / 1000.0, 2.0) *
                               static_cast<double>(k_tasks.size())));
  const Task& task = k_tasks[task_index];
  const std::uint64_t roll = below(100);
  const char* status = roll < 84 ? "completed" : roll < 95 ? "failed" : "cancelled";
  const std::int64_t errors = roll < 76 ? 0 : static_cast<std::int64_t>(below(4));
  const auto tokens =
      static_cast<std::int64_t>(1500 + below(9000) + below(9000) * (task_index % 5));
  const double cost = static_cast<double>(tokens) * (3 + static_cast<double>(below(12))) / 1e6;

  key = "wf-" + hex_id(16);
  json w = {{"workflow_id", key},
            {"agent_name", k_agents[below(k_agents.size())]},
            {"nl_input", task.text},
            {"workflow_template", task.template_name},
            {"status", status},
            {"total_tokens", tokens},
            {"actual_cost_total", std::round(cost * 1e6) / 1e6},
            {"error_count", errors},
            {"retry_count", static_cast<std::int64_t>(below(100) < 10 ? 1 + below(3) : 0)},
            {"duration_seconds", static_cast<std::int64_t>(20 + below(600))},
            {"completed_at", core::format_rfc3339(time)}};
  return w.dump();
}

std::string Fleet::extraction(core::TimestampMs moment, core::TimestampMs time, std::string& key) {
  const Story& session = m_sessions.pick(moment, m_dice, true);
  const std::string type = k_event_types[below(k_event_types.size())];
  key = session.id;
  json e = {{"agent_name", agent_name(session.agent)},
            {"session_id", session.id},
            {"timestamp", core::format_rfc3339(session.within(time))},
            {"event_type", type},
            {"line_number", static_cast<std::int64_t>(1 + below(4000))}};
  // Most producers send an event_id; some rely on the identifying fields.
  if (below(10) != 0)
    e["event_id"] =
        hex_id(8) + "-" + hex_id(4) + "-" + hex_id(4) + "-" + hex_id(4) + "-" + hex_id(12);
  if (type == "error") {
    const std::string text = error_text();
    e["pattern"] = "error_detection";
    e["matched_value"] = text;
    e["original_line"] = "  " + text;
    e["risk_level"] = below(3) == 0 ? "high" : "medium";
  } else if (type == "command" || type == "risky_action") {
    const std::string command = k_commands[below(k_commands.size())];
    e["pattern"] = type == "command" ? "shell_command" : "destructive_command";
    e["matched_value"] = command;
    e["original_line"] = "$ " + command;
    e["risk_level"] = type == "risky_action" ? "high" : "low";
    e["auto_confirmable"] = type == "command";
  } else if (type == "code_block") {
    const Snippet& snippet = k_snippets[below(k_snippets.size())];
    const auto start = static_cast<std::int64_t>(1 + below(200));
    e["pattern"] = "fenced_code";
    e["code_block"] = {{"language", snippet.language},
                       {"content", snippet.content},
                       {"line_start", start},
                       {"line_end", start + 5},
                       {"parseable", below(10) != 0}};
  } else {
    e["pattern"] = type;
    e["matched_value"] = std::string("src/") + k_files[below(k_files.size())] + ".py";
    e["metadata"] = {{"bytes", static_cast<std::int64_t>(below(20000))}, {"tool", "write_file"}};
  }
  return e.dump();
}

std::string Fleet::invalid_message(core::TopicKind kind) {
  const bool workflow = kind == core::TopicKind::workflows;
  const std::string t = hex_id(8);  // each invalid message is distinct
  const std::uint64_t which = below(7);
  if (kind == core::TopicKind::outcomes && which < 5) return invalid_outcome(which, t);
  if (kind == core::TopicKind::sessions && which < 5) return invalid_session(which, t);
  if (kind == core::TopicKind::prompts && which < 5) return invalid_prompt(which, t);
  switch (which) {
    case 0:  // truncated JSON
      return workflow ? R"({"workflow_id": "wf-)" + t + R"(", "nl_input": "Run te)"
                      : R"({"agent_name": "codex", "session_id": "s)" + t;
    case 1:  // missing a required field
      return workflow
                 ? R"({"nl_input": "Run backend tests with pytest )" + t + R"("})"
                 : R"({"agent_name": "codex", "event_type": "error", "event_id": ")" + t + R"("})";
    case 2:  // wrongly typed field
      return workflow
                 ? R"({"workflow_id": "wf-)" + t + R"(", "nl_input": "x", "total_tokens": "many"})"
                 : R"({"agent_name": "codex", "session_id": 42, "event_type": "error", "event_id": ")" +
                       t + R"("})";
    case 3:  // out of range
      return workflow
                 ? R"({"workflow_id": "wf-)" + t + R"(", "nl_input": "x", "error_count": -3})"
                 : R"({"agent_name": "codex", "session_id": "s", "event_type": "error", "risk_level": "extreme", "event_id": ")" +
                       t + R"("})";
    case 4:  // invalid UTF-8
      return workflow ? "{\"workflow_id\": \"wf-\xff\xfe" + t + "\", \"nl_input\": \"x\"}"
                      : "{\"agent_name\": \"\xc3\x28\", \"session_id\": \"" + t +
                            "\", \"event_type\": \"e\"}";
    case 5:  // not an object
      return R"(["not", "an", "object", ")" + t + R"("])";
    default:  // not JSON at all
      return "Traceback (most recent call last): agent " + t + " printed plain text";
  }
}

}  // namespace patternd::fleet
