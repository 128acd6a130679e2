// The prompts stream (SPEC section 12): the prompt improver's records.

#include "decode/parser.hpp"

namespace patternd::decode {

namespace {

constexpr std::size_t k_max_id_chars = 256;
// A backend and a model name are aggregate keys and filters, not free text.
constexpr std::size_t k_max_name_chars = 256;

}  // namespace

Result<core::Prompt, DecodeError> Decoder::decode_prompt(std::string_view payload,
                                                         core::TimestampMs default_time) {
  auto parsed = m_impl->parse_object(payload);
  if (!parsed) return parsed.error();

  core::Prompt p;
  FieldReader read;
  std::optional<core::TimestampMs> timestamp;
  bool has_id = false;
  for (const auto field : parsed.value()) {
    const std::string_view key = field.key;
    const element value = field.value;
    if (read.is(key, "prompt_id", 0)) {
      has_id = !value.is_null();
      read.optional_string(key, value, p.prompt_id);
    } else if (read.is(key, "timestamp", 1)) {
      read.time(key, value, timestamp);
    } else if (read.is(key, "agent_name", 2)) {
      read.optional_string(key, value, p.agent_name);
    } else if (read.is(key, "session_id", 3)) {
      read.optional_string(key, value, p.session_id);
    } else if (read.is(key, "original_idea", 4)) {
      read.string(key, value, p.original_idea);
    } else if (read.is(key, "context", 5)) {
      read.optional_string(key, value, p.context);
    } else if (read.is(key, "improved_prompt", 6)) {
      read.string(key, value, p.improved_prompt);
    } else if (read.is(key, "role", 7)) {
      read.string(key, value, p.role);
    } else if (read.is(key, "directive", 8)) {
      read.string(key, value, p.directive);
    } else if (read.is(key, "framework", 9)) {
      read.string(key, value, p.framework);
    } else if (read.is(key, "guardrails", 10)) {
      read.string(key, value, p.guardrails);
    } else if (read.is(key, "backend", 11)) {
      read.string(key, value, p.backend);
    } else if (read.is(key, "model_version", 12)) {
      read.optional_string(key, value, p.model_version);
    } else if (read.is(key, "confidence", 13)) {
      if (!value.is_null()) {
        std::int64_t micros = 0;
        if (read.scaled(key, value, 1.0, 1e6, micros)) p.confidence_micros = micros;
      }
    } else if (read.is(key, "reasoning", 14)) {
      read.optional_string(key, value, p.reasoning);
    } else if (read.is(key, "latency_ms", 15)) {
      read.count(key, value, p.latency_ms);
    }
    if (read.failure) return *read.failure;
  }
  // Required strings; an empty one (but `context`, optional) says nothing.
  for (const auto& [name, text] :
       {std::pair{"original_idea", &p.original_idea},
        std::pair{"improved_prompt", &p.improved_prompt}, std::pair{"role", &p.role},
        std::pair{"directive", &p.directive}, std::pair{"framework", &p.framework},
        std::pair{"guardrails", &p.guardrails}, std::pair{"backend", &p.backend}}) {
    if (text->empty())
      return error(RejectClass::missing_field,
                   std::string("missing required field ") + name + " (a non-empty string)");
  }
  for (const auto& [name, text] :
       {std::pair{"backend", &p.backend}, std::pair{"model_version", &p.model_version}}) {
    if (const std::size_t n = count_code_points(*text); n > k_max_name_chars)
      return error(RejectClass::out_of_range, std::string("field ") + name + " has " +
                                                  std::to_string(n) + " characters, expected 1.." +
                                                  std::to_string(k_max_name_chars));
  }
  if (has_id) {
    const std::size_t n = count_code_points(p.prompt_id);
    if (n < 1 || n > k_max_id_chars)
      return error(RejectClass::out_of_range, "field prompt_id has " + std::to_string(n) +
                                                  " characters, expected 1.." +
                                                  std::to_string(k_max_id_chars));
  }

  // Identity: the producer's prompt_id, or the record's fields as sent.
  auto& sha = m_impl->sha;
  if (!p.prompt_id.empty()) {
    sha.add_field("prompt_id").add_field(p.prompt_id);
  } else {
    sha.add_field("prompt").add_field(p.agent_name).add_field(p.session_id);
    sha.add_field(timestamp ? std::to_string(*timestamp) : std::string());
    sha.add_field(p.original_idea).add_field(p.context).add_field(p.improved_prompt);
    sha.add_field(p.role).add_field(p.directive).add_field(p.framework).add_field(p.guardrails);
    sha.add_field(p.backend).add_field(p.model_version).add_field(p.reasoning);
    sha.add_field(p.confidence_micros ? std::to_string(*p.confidence_micros) : std::string());
    sha.add_field(p.latency_ms ? std::to_string(*p.latency_ms) : std::string());
  }
  p.identity = sha.finish();
  p.timestamp = timestamp.value_or(default_time);
  return p;
}

}  // namespace patternd::decode
