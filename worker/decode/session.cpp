// The sessions stream (SPEC section 12): an agent process's lifecycle.

#include "decode/parser.hpp"

namespace patternd::decode {

namespace {

// Exit codes as processes report them: 0..255, negative for a signal in
// some runtimes; anything far outside is a producer's bug.
constexpr std::int64_t k_min_exit_code = -2'147'483'648LL;
constexpr std::int64_t k_max_exit_code = 2'147'483'647LL;

}  // namespace

Result<core::SessionEvent, DecodeError> Decoder::decode_session(std::string_view payload,
                                                                core::TimestampMs default_time) {
  auto parsed = m_impl->parse_object(payload);
  if (!parsed) return parsed.error();

  core::SessionEvent e;
  FieldReader read;
  std::optional<core::TimestampMs> timestamp;
  std::string state;
  for (const auto field : parsed.value()) {
    const std::string_view key = field.key;
    const element value = field.value;
    if (read.is(key, "session_id", 0)) {
      read.string(key, value, e.session_id);
    } else if (read.is(key, "agent_name", 1)) {
      read.string(key, value, e.agent_name);
    } else if (read.is(key, "state", 2)) {
      read.string(key, value, state);
    } else if (read.is(key, "timestamp", 3)) {
      read.time(key, value, timestamp);
    } else if (read.is(key, "environment", 4)) {
      read.optional_string(key, value, e.environment);
    } else if (read.is(key, "exit_code", 5)) {
      read.integer(key, value, k_min_exit_code, k_max_exit_code, e.exit_code);
    } else if (read.is(key, "lines_processed", 6)) {
      read.count(key, value, e.lines_processed);
    } else if (read.is(key, "stdout_log_path", 7)) {
      read.optional_string(key, value, e.stdout_log_path);
    } else if (read.is(key, "stderr_log_path", 8)) {
      read.optional_string(key, value, e.stderr_log_path);
    } else if (read.is(key, "extraction_config_version", 9)) {
      read.optional_string(key, value, e.extraction_config_version);
    } else if (read.is(key, "environment_config_version", 10)) {
      read.optional_string(key, value, e.environment_config_version);
    } else if (read.is(key, "metadata", 11)) {
      if (!value.is_null()) e.metadata_json = simdjson::minify(value);
    }
    if (read.failure) return *read.failure;
  }
  for (const auto& [name, text] :
       {std::pair{"session_id", &e.session_id}, std::pair{"agent_name", &e.agent_name},
        std::pair{"state", &state}}) {
    if (text->empty())
      return error(RejectClass::missing_field,
                   std::string("missing required field ") + name + " (a non-empty string)");
  }
  const auto parsed_state = core::parse_session_state(state);
  if (!parsed_state)
    return error(RejectClass::out_of_range,
                 "field state is \"" + state.substr(0, 64) +
                     "\", expected started, running, paused, completed, failed or killed");
  e.state = *parsed_state;

  // Identity: every field as sent (a lifecycle event has no id of its own);
  // the same event delivered twice is one state change.
  auto& sha = m_impl->sha;
  sha.add_field("session").add_field(e.session_id).add_field(e.agent_name).add_field(state);
  sha.add_field(timestamp ? std::to_string(*timestamp) : std::string());
  sha.add_field(e.environment);
  sha.add_field(e.exit_code ? std::to_string(*e.exit_code) : std::string());
  sha.add_field(e.lines_processed ? std::to_string(*e.lines_processed) : std::string());
  sha.add_field(e.stdout_log_path).add_field(e.stderr_log_path);
  sha.add_field(e.extraction_config_version).add_field(e.environment_config_version);
  sha.add_field(e.metadata_json);
  e.identity = sha.finish();
  e.timestamp = timestamp.value_or(default_time);
  return e;
}

}  // namespace patternd::decode
