// The outcomes stream (SPEC section 12): what an agent tried and whether it
// worked.

#include "decode/parser.hpp"

namespace patternd::decode {

namespace {

// An approach is an aggregate's key (failure_fixes, outcome_stats): short,
// like an operation signature, not free text.
constexpr std::size_t k_max_pattern_chars = 256;
constexpr std::size_t k_max_id_chars = 256;

}  // namespace

Result<core::Outcome, DecodeError> Decoder::decode_outcome(std::string_view payload,
                                                           core::TimestampMs default_time) {
  auto parsed = m_impl->parse_object(payload);
  if (!parsed) return parsed.error();

  core::Outcome o;
  FieldReader read;
  std::optional<core::TimestampMs> timestamp;
  std::optional<bool> success;
  bool has_id = false;
  for (const auto field : parsed.value()) {
    const std::string_view key = field.key;
    const element value = field.value;
    if (read.is(key, "outcome_id", 0)) {
      has_id = !value.is_null();
      read.optional_string(key, value, o.outcome_id);
    } else if (read.is(key, "agent_name", 1)) {
      read.string(key, value, o.agent_name);
    } else if (read.is(key, "session_id", 2)) {
      read.optional_string(key, value, o.session_id);
    } else if (read.is(key, "timestamp", 3)) {
      read.time(key, value, timestamp);
    } else if (read.is(key, "pattern", 4)) {
      read.string(key, value, o.pattern);
    } else if (read.is(key, "success", 5)) {
      if (value.is_null())
        return error(RejectClass::wrong_type, "field success must be a boolean, got null");
      read.boolean(key, value, success);
    } else if (read.is(key, "duration_ms", 6)) {
      read.count(key, value, o.duration_ms);
    } else if (read.is(key, "error", 7)) {
      read.optional_string(key, value, o.error);
    } else if (read.is(key, "fix", 8)) {
      read.optional_string(key, value, o.fix);
    } else if (read.is(key, "organization_id", 9)) {
      read.optional_string(key, value, o.organization_id);
    } else if (read.is(key, "user_id", 10)) {
      read.optional_string(key, value, o.user_id);
    }
    if (read.failure) return *read.failure;
  }
  if (o.agent_name.empty())
    return error(RejectClass::missing_field,
                 "missing required field agent_name (a non-empty string)");
  if (o.pattern.empty())
    return error(RejectClass::missing_field,
                 "missing required field pattern (the approach tried, a non-empty string)");
  if (!success)
    return error(RejectClass::missing_field, "missing required field success (a boolean)");
  o.success = *success;
  if (const std::size_t n = count_code_points(o.pattern); n > k_max_pattern_chars)
    return error(RejectClass::out_of_range, "field pattern has " + std::to_string(n) +
                                                " characters, expected 1.." +
                                                std::to_string(k_max_pattern_chars));
  if (has_id) {
    const std::size_t n = count_code_points(o.outcome_id);
    if (n < 1 || n > k_max_id_chars)
      return error(RejectClass::out_of_range, "field outcome_id has " + std::to_string(n) +
                                                  " characters, expected 1.." +
                                                  std::to_string(k_max_id_chars));
  }

  // Identity: the producer's outcome_id, or the identifying fields as sent
  // (a missing timestamp hashes as absent, as for extractions).
  auto& sha = m_impl->sha;
  if (!o.outcome_id.empty()) {
    sha.add_field("outcome_id").add_field(o.outcome_id);
  } else {
    sha.add_field("outcome").add_field(o.agent_name).add_field(o.session_id);
    sha.add_field(timestamp ? std::to_string(*timestamp) : std::string());
    sha.add_field(o.pattern).add_field(o.success ? "1" : "0");
    sha.add_field(o.duration_ms ? std::to_string(*o.duration_ms) : std::string());
    sha.add_field(o.error).add_field(o.fix);
  }
  o.identity = sha.finish();
  o.timestamp = timestamp.value_or(default_time);
  return o;
}

}  // namespace patternd::decode
