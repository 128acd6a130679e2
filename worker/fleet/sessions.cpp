// The fleet's sessions and their lifecycle events (SPEC section 12).

#include "fleet/sessions.hpp"

#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "fleet/fleet.hpp"

namespace patternd::fleet {
namespace {

using core::SessionState;
using nlohmann::json;

// Times are fractions of the span. The fleet is at work from the span's
// first minutes: as many sessions start then as are at work later on.
constexpr double k_early_end = 0.01;
constexpr double k_last_start = 0.97;
// Every ending session ends before the span does; the endless ones report
// until shortly before.
constexpr double k_last_end = 0.995;
constexpr double k_quiet_end = 0.998;
constexpr double k_endless_share = 0.1;
// A life lasts shortest + (longest - shortest) * u^2: mostly short, some long.
constexpr double k_shortest_life = 0.01;
constexpr double k_longest_life = 0.4;
constexpr double k_mean_life = k_shortest_life + (k_longest_life - k_shortest_life) / 3;

constexpr std::uint64_t k_most_reports = 4;  // `running` reports: 1 to 4, plus the resumption
constexpr double k_pause_share = 0.25;       // paused, then running again
constexpr double k_completed_share = 0.7;    // of the sessions that end
constexpr double k_failed_share = 0.2;       // the rest are killed
constexpr double k_host_share = 0.35;        // `started` says where the agent runs

constexpr std::array<std::string_view, 3> k_environments = {"ci", "dev", "staging"};
constexpr std::uint64_t k_config_versions = 4;
constexpr std::array<std::int64_t, 5> k_failure_exit_codes = {1, 2, 101, 124, 127};
constexpr std::array<std::string_view, 3> k_failure_reasons = {"tests failed", "build failed",
                                                               "out of retries"};
constexpr std::array<std::string_view, 3> k_pause_reasons = {"waiting for approval", "rate limited",
                                                             "operator"};
// Killed by the kernel or a watchdog (SIGKILL, 137), or stopped (SIGTERM, 143).
constexpr std::array<std::string_view, 3> k_kill_reasons = {"out of memory", "timeout",
                                                            "stopped by an operator"};
constexpr std::size_t k_endless_kept = 64;

// The plan's own generator: stories depend on the seed, not on the messages.
constexpr std::uint64_t k_plan_salt = 0x9e3779b97f4a7c15ULL;

}  // namespace

double SessionPlan::events_per_session() {
  const double reports = static_cast<double>(1 + k_most_reports) / 2 + 2 * k_pause_share;
  return 1 + reports + (1 - k_endless_share);
}

SessionPlan::SessionPlan(PlanOptions options)
    : m_options(options),
      m_dice(options.seed ^ k_plan_salt),
      m_early(std::min<std::uint64_t>(options.sessions - 1,
                                      static_cast<std::uint64_t>(std::llround(
                                          static_cast<double>(options.sessions) * k_mean_life /
                                          (k_mean_life + k_last_start - k_early_end))))) {
  m_upcoming = next_story();
}

core::TimestampMs SessionPlan::at(double fraction) const {
  return m_options.start + std::llround(fraction * static_cast<double>(m_options.span_ms));
}

std::shared_ptr<Story> SessionPlan::next_story() {
  if (m_made >= m_options.sessions) return nullptr;
  const std::uint64_t k = m_made++;
  const double u = m_dice.fraction();
  // One start in each equal slice of its window: as many sessions at work
  // early as late, however few there are.
  const double start =
      k < m_early
          ? k_early_end * (k == 0 ? 0.0 : static_cast<double>(k) + u) / static_cast<double>(m_early)
          : k_early_end + (k_last_start - k_early_end) * (static_cast<double>(k - m_early) + u) /
                              static_cast<double>(m_options.sessions - m_early);
  const bool endless = m_dice.chance(k_endless_share);
  return make_story(start, endless);
}

std::shared_ptr<Story> SessionPlan::make_story(double start, bool endless) {
  auto story = std::make_shared<Story>();
  story->id = "sess_" + m_dice.hex_id(12);
  story->agent = static_cast<std::uint32_t>(m_dice.below(m_options.agents));
  story->environment = k_environments[m_dice.below(k_environments.size())];
  story->extraction_config = 1 + static_cast<int>(m_dice.below(k_config_versions));
  story->environment_config = 1 + static_cast<int>(m_dice.below(k_config_versions));
  if (m_dice.chance(k_host_share)) story->host = 1 + static_cast<int>(m_dice.below(64));
  const double u = m_dice.fraction();
  const double life = k_shortest_life + (k_longest_life - k_shortest_life) * u * u;
  const double last =
      endless ? std::max(k_quiet_end, start + k_shortest_life) : std::min(start + life, k_last_end);

  std::vector<SessionState> middle(1 + m_dice.below(k_most_reports), SessionState::running);
  if (m_dice.chance(k_pause_share)) {
    const auto where =
        middle.begin() + static_cast<std::ptrdiff_t>(1 + m_dice.below(middle.size()));
    middle.insert(where, {SessionState::paused, SessionState::running});
  }

  story->start = at(start);
  story->steps.push_back({SessionState::started, story->start, 0, {}});
  std::int64_t lines = 0;
  core::TimestampMs previous = story->start;
  const double slices = static_cast<double>(middle.size() + 1);
  for (std::size_t j = 0; j < middle.size(); ++j) {
    // Within the j-th slice of the life: in order, never on the same millisecond.
    const double offset = (static_cast<double>(j) + 0.25 + 0.5 * m_dice.fraction()) / slices;
    const core::TimestampMs time = std::max(previous + 1, at(start + (last - start) * offset));
    std::string_view reason;
    if (middle[j] == SessionState::running) {
      lines += 50 + static_cast<std::int64_t>(m_dice.below(2500));
    } else {
      reason = k_pause_reasons[m_dice.below(k_pause_reasons.size())];
    }
    story->steps.push_back({middle[j], time, lines, reason});
    previous = time;
  }
  if (endless) return story;

  Step end{SessionState::completed,
           std::max(previous + 1, at(last)),
           lines + static_cast<std::int64_t>(m_dice.below(400)),
           {}};
  const double roll = m_dice.fraction();
  if (roll >= k_completed_share + k_failed_share) {
    end.state = SessionState::killed;
    end.reason = k_kill_reasons[m_dice.below(k_kill_reasons.size())];
    story->exit_code = end.reason == k_kill_reasons.back() ? 143 : 137;
  } else if (roll >= k_completed_share) {
    end.state = SessionState::failed;
    story->exit_code = k_failure_exit_codes[m_dice.below(k_failure_exit_codes.size())];
    if (m_dice.chance(0.5)) end.reason = k_failure_reasons[m_dice.below(k_failure_reasons.size())];
  }
  story->end = end.time;
  story->steps.push_back(end);
  return story;
}

void SessionPlan::admit(std::shared_ptr<Story> story) {
  if (m_options.events) {
    m_at_work.push_back(story);
    m_unreported.push_back(story);
  }
  if (m_options.lifecycle) {
    if (story->end == std::numeric_limits<core::TimestampMs>::max()) {
      if (m_endless.size() < k_endless_kept) {
        m_endless.push_back(story);
      } else {
        m_endless[m_admitted % k_endless_kept] = story;
      }
    }
    m_pending.push({story->steps.front().time, m_admitted, story});
  }
  ++m_admitted;
  m_last = std::move(story);
}

void SessionPlan::admit_upcoming() {
  auto story = std::move(m_upcoming);
  m_upcoming = next_story();
  admit(std::move(story));
}

void SessionPlan::admit_until(core::TimestampMs moment) {
  while (m_upcoming && m_upcoming->start <= moment) admit_upcoming();
}

const Story& SessionPlan::pick(core::TimestampMs moment, Dice& dice, bool for_extraction) {
  admit_until(moment);
  while (for_extraction && !m_unreported.empty()) {
    const std::shared_ptr<Story> story = std::move(m_unreported.front());
    m_unreported.pop_front();
    // Still held by m_at_work, unless it has ended: then it never reports.
    if (story->end > moment) return *story;
  }
  while (!m_at_work.empty()) {
    const std::size_t i = dice.below(m_at_work.size());
    if (m_at_work[i]->end > moment) return *m_at_work[i];
    m_at_work[i] = std::move(m_at_work.back());
    m_at_work.pop_back();
  }
  if (m_upcoming) admit_upcoming();
  return *m_last;
}

bool SessionPlan::due(core::TimestampMs moment) {
  admit_until(moment);
  return !m_pending.empty() && m_pending.top().time <= moment;
}

std::pair<const Story*, Step> SessionPlan::next_event(core::TimestampMs moment) {
  while (m_upcoming && (m_pending.empty() || m_upcoming->start <= m_pending.top().time))
    admit_upcoming();
  if (m_pending.empty()) {
    if (m_endless.empty()) {
      // Every session has ended: another one starts.
      const double now =
          static_cast<double>(moment - m_options.start) / static_cast<double>(m_options.span_ms);
      admit(make_story(now, true));
      return next_event(moment);
    }
    Story& story = *m_endless[m_dice.below(m_endless.size())];
    const Step& previous = story.steps.back();
    story.steps.push_back({SessionState::running,
                           std::max(moment, previous.time + 1),
                           previous.lines + 50 + static_cast<std::int64_t>(m_dice.below(2500)),
                           {}});
    story.sent = story.steps.size();
    return {&story, story.steps.back()};
  }
  const Pending next = m_pending.top();
  m_pending.pop();
  m_told = next.story;
  const Step step = m_told->steps[m_told->sent++];
  if (m_told->sent < m_told->steps.size())
    m_pending.push({m_told->steps[m_told->sent].time, next.order, next.story});
  return {m_told.get(), step};
}

std::string Fleet::lifecycle(core::TimestampMs moment, std::string& key) {
  const auto [story, step] = m_sessions.next_event(moment);
  key = story->id;
  json e = {{"session_id", story->id},
            {"agent_name", agent_name(story->agent)},
            {"state", core::to_string(step.state)},
            {"timestamp", core::format_rfc3339(step.time)}};
  switch (step.state) {
    case SessionState::started: {
      const std::string logs = "/var/log/agents/" + std::string(agent_name(story->agent)) + "/";
      e["environment"] = story->environment;
      e["extraction_config_version"] = "v" + std::to_string(story->extraction_config);
      e["environment_config_version"] = "v" + std::to_string(story->environment_config);
      e["stdout_log_path"] = logs + story->id + ".out";
      e["stderr_log_path"] = logs + story->id + ".err";
      if (story->host >= 0) e["metadata"] = {{"host", "runner-" + std::to_string(story->host)}};
      break;
    }
    case SessionState::running:
    case SessionState::paused:
      e["lines_processed"] = step.lines;
      break;
    case SessionState::completed:
    case SessionState::failed:
    case SessionState::killed:
      e["exit_code"] = story->exit_code;
      e["lines_processed"] = step.lines;
      break;
  }
  if (!step.reason.empty()) e["metadata"] = {{"reason", step.reason}};
  return e.dump();
}

// Each is rejected by decode_session; `tag` makes every one distinct.
std::string Fleet::invalid_session(std::uint64_t which, const std::string& tag) {
  switch (which) {
    case 0:  // a state that does not exist
      return R"({"session_id": "sess_)" + tag +
             R"(", "agent_name": "codex", "state": "exploded", "exit_code": 1})";
    case 1:  // an exit code sent as a string
      return R"({"session_id": "sess_)" + tag +
             R"(", "agent_name": "ci-fixer", "state": "killed", "exit_code": "137"})";
    case 2:  // missing a required field
      return R"({"agent_name": "deploy-bot", "state": "started", "environment": "ci", )"
             R"("stdout_log_path": "/var/log/agents/)" +
             tag + R"(.out"})";
    case 3:  // metadata nested far deeper than any decoder accepts
      return R"({"session_id": "sess_)" + tag +
             R"(", "agent_name": "reviewer", "state": "running", "metadata": )" +
             std::string(1000, '[') + std::string(1000, ']') + "}";
    default:  // invalid UTF-8
      return "{\"session_id\": \"sess_" + tag +
             "\", \"agent_name\": \"test-\xc3\x28writer\", \"state\": \"running\"}";
  }
}

}  // namespace patternd::fleet
