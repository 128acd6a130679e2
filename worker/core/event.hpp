#pragma once
// The decoded forms of the two input messages (SPEC section 6). Plain data:
// the decoder fills them, detection reads them, the store writes them.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/sha256.hpp"
#include "core/time.hpp"

namespace patternd::core {

enum class WorkflowStatus : std::uint8_t { completed, failed, cancelled };
std::string_view to_string(WorkflowStatus status);

struct Workflow {
  std::string workflow_id;
  std::string agent_name;
  std::string nl_input;
  std::string workflow_template;
  WorkflowStatus status = WorkflowStatus::completed;
  std::int64_t total_tokens = 0;
  std::int64_t cost_micros = 0;  // actual_cost_total in integer micro-dollars
  std::int64_t error_count = 0;
  std::int64_t retry_count = 0;
  std::int64_t duration_ms = 0;
  TimestampMs completed_at = 0;

  // A success is a completed workflow with no errors (SPEC section 7).
  bool succeeded() const { return status == WorkflowStatus::completed && error_count == 0; }
};

struct CodeBlock {
  Digest digest{};  // SHA-256 of (language, content)
  std::string language;
  std::string content;
  std::optional<std::int64_t> line_start;
  std::optional<std::int64_t> line_end;
  std::optional<bool> parseable;
};

struct Extraction {
  Digest identity{};     // from event_id, or from the identifying fields
  std::string event_id;  // empty when the producer sent none
  std::string agent_name;
  std::string session_id;
  TimestampMs timestamp = 0;
  std::string event_type;
  std::string pattern;
  std::string matched_value;
  std::string original_line;
  std::optional<std::int64_t> line_number;
  std::string risk_level;  // "", "low", "medium" or "high"
  std::optional<bool> auto_confirmable;
  std::string metadata_json;  // minified, empty when absent
  std::optional<CodeBlock> code_block;

  bool is_error() const { return event_type == "error"; }
};

// An agent process's lifecycle (SPEC section 12, the sessions stream).
enum class SessionState : std::uint8_t { started, running, paused, completed, failed, killed };
inline constexpr std::array<std::string_view, 6> k_session_state_names = {
    "started", "running", "paused", "completed", "failed", "killed"};
constexpr std::string_view to_string(SessionState s) {
  return k_session_state_names[static_cast<std::size_t>(s)];
}
constexpr std::optional<SessionState> parse_session_state(std::string_view name) {
  for (std::size_t i = 0; i < k_session_state_names.size(); ++i)
    if (k_session_state_names[i] == name) return static_cast<SessionState>(i);
  return std::nullopt;
}
// The states that end a session: it is active from `started` until one.
constexpr bool is_terminal(SessionState s) { return s >= SessionState::completed; }

struct SessionEvent {
  Digest identity{};  // the identifying fields, as sent
  std::string session_id;
  std::string agent_name;
  SessionState state = SessionState::started;
  TimestampMs timestamp = 0;
  std::string environment;  // each text field empty when absent
  std::optional<std::int64_t> exit_code;
  std::optional<std::int64_t> lines_processed;
  std::string stdout_log_path, stderr_log_path;
  std::string extraction_config_version, environment_config_version;
  std::string metadata_json;  // minified, empty when absent
};

// What an agent tried and whether it worked (SPEC section 12).
struct Outcome {
  Digest identity{};       // from outcome_id, or from the identifying fields
  std::string outcome_id;  // empty when the producer sent none
  std::string agent_name;
  std::string session_id;  // empty when absent
  TimestampMs timestamp = 0;
  std::string pattern;  // the approach tried
  bool success = false;
  std::optional<std::int64_t> duration_ms;
  std::string error;  // the error it addressed, as sent; empty when absent
  std::string fix;    // what was done, as sent; empty when absent
  std::string organization_id;
  std::string user_id;
};

// One improved prompt, as the prompt improver records it (SPEC section 12).
struct Prompt {
  Digest identity{};      // from prompt_id, or from the identifying fields
  std::string prompt_id;  // each text field empty when absent
  std::string agent_name, session_id;
  TimestampMs timestamp = 0;
  std::string original_idea, context, improved_prompt, role, directive, framework, guardrails;
  std::string backend, model_version, reasoning;
  std::optional<std::int64_t> confidence_micros;  // confidence 0..1 in millionths (exact sums)
  std::optional<std::int64_t> latency_ms;
};

}  // namespace patternd::core
