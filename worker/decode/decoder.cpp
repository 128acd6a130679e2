#include "decode/decoder.hpp"

#include "decode/parser.hpp"

namespace patternd::decode {

using core::Result;
using namespace fields;

Decoder::Decoder(std::size_t max_message_bytes)
    : m_impl(std::make_unique<Impl>(max_message_bytes)) {}
Decoder::~Decoder() = default;

Result<core::Workflow, DecodeError> Decoder::decode_workflow(std::string_view payload,
                                                             core::TimestampMs default_time) {
  auto parsed = m_impl->parse_object(payload);
  if (!parsed) return parsed.error();

  core::Workflow w;
  FieldReader read;
  bool has_id = false, has_input = false;
  std::string status;
  std::optional<core::TimestampMs> completed_at;
  for (const auto field : parsed.value()) {
    const std::string_view key = field.key;
    const element value = field.value;
    if (read.is(key, "workflow_id", 0)) {
      has_id = read.string(key, value, w.workflow_id);
    } else if (read.is(key, "nl_input", 1)) {
      has_input = read.string(key, value, w.nl_input);
    } else if (read.is(key, "agent_name", 2)) {
      read.optional_string(key, value, w.agent_name);
    } else if (read.is(key, "workflow_template", 3)) {
      read.optional_string(key, value, w.workflow_template);
    } else if (read.is(key, "status", 4)) {
      read.optional_string(key, value, status);
    } else if (read.is(key, "total_tokens", 5)) {
      read.count(key, value, w.total_tokens);
    } else if (read.is(key, "actual_cost_total", 6)) {
      read.scaled(key, value, k_max_cost_usd, 1e6, w.cost_micros);
    } else if (read.is(key, "error_count", 7)) {
      read.count(key, value, w.error_count);
    } else if (read.is(key, "retry_count", 8)) {
      read.count(key, value, w.retry_count);
    } else if (read.is(key, "duration_seconds", 9)) {
      read.scaled(key, value, k_max_duration_seconds, 1e3, w.duration_ms);
    } else if (read.is(key, "completed_at", 10)) {
      read.time(key, value, completed_at);
    }
    if (read.failure) return *read.failure;
  }
  if (!has_id) return error(RejectClass::missing_field, "missing required field workflow_id");
  if (!has_input) return error(RejectClass::missing_field, "missing required field nl_input");
  const std::size_t id_chars = count_code_points(w.workflow_id);
  if (id_chars < 1 || id_chars > 256)
    return error(RejectClass::out_of_range, "field workflow_id has " + std::to_string(id_chars) +
                                                " characters, expected 1..256");
  if (status.empty() || status == "completed") {
    w.status = core::WorkflowStatus::completed;
  } else if (status == "failed") {
    w.status = core::WorkflowStatus::failed;
  } else if (status == "cancelled") {
    w.status = core::WorkflowStatus::cancelled;
  } else {
    return error(RejectClass::out_of_range, "field status is \"" + status.substr(0, 64) +
                                                "\", expected completed, failed or cancelled");
  }
  w.completed_at = completed_at.value_or(default_time);
  return w;
}

Result<core::Extraction, DecodeError> Decoder::decode_extraction(std::string_view payload,
                                                                 core::TimestampMs default_time) {
  auto parsed = m_impl->parse_object(payload);
  if (!parsed) return parsed.error();

  core::Extraction e;
  FieldReader read;
  std::optional<core::TimestampMs> timestamp;
  for (const auto field : parsed.value()) {
    const std::string_view key = field.key;
    const element value = field.value;
    if (read.is(key, "event_id", 0)) {
      read.optional_string(key, value, e.event_id);
    } else if (read.is(key, "agent_name", 1)) {
      read.string(key, value, e.agent_name);
    } else if (read.is(key, "session_id", 2)) {
      read.string(key, value, e.session_id);
    } else if (read.is(key, "event_type", 3)) {
      read.string(key, value, e.event_type);
    } else if (read.is(key, "timestamp", 4)) {
      read.time(key, value, timestamp);
    } else if (read.is(key, "pattern", 5)) {
      read.optional_string(key, value, e.pattern);
    } else if (read.is(key, "matched_value", 6)) {
      read.optional_string(key, value, e.matched_value);
    } else if (read.is(key, "original_line", 7)) {
      read.optional_string(key, value, e.original_line);
    } else if (read.is(key, "line_number", 8)) {
      read.count(key, value, e.line_number);
    } else if (read.is(key, "risk_level", 9)) {
      read.optional_string(key, value, e.risk_level);
    } else if (read.is(key, "auto_confirmable", 10)) {
      read.boolean(key, value, e.auto_confirmable);
    } else if (read.is(key, "metadata", 11)) {
      if (!value.is_null()) e.metadata_json = simdjson::minify(value);
    } else if (read.is(key, "code_block", 12)) {
      if (read.failure) return *read.failure;
      if (value.is_null()) continue;
      simdjson::dom::object block;
      if (value.get_object().get(block) != simdjson::SUCCESS)
        return wrong_type(key, "an object", value);
      core::CodeBlock code;
      bool has_content = false;
      for (const auto inner : block) {
        const std::string_view k = inner.key;
        if (k == "language") {
          read.optional_string("code_block.language", inner.value, code.language);
        } else if (k == "content") {
          has_content = read.string("code_block.content", inner.value, code.content);
        } else if (k == "line_start") {
          read.count("code_block.line_start", inner.value, code.line_start);
        } else if (k == "line_end") {
          read.count("code_block.line_end", inner.value, code.line_end);
        } else if (k == "parseable") {
          read.boolean("code_block.parseable", inner.value, code.parseable);
        }
        if (read.failure) return *read.failure;
      }
      if (!has_content)
        return error(RejectClass::missing_field, "missing required field code_block.content");
      code.digest = m_impl->sha.add_field(code.language).add_field(code.content).finish();
      e.code_block = std::move(code);
    }
    if (read.failure) return *read.failure;
  }
  for (const auto& [name, text] :
       {std::pair{"agent_name", &e.agent_name}, std::pair{"session_id", &e.session_id},
        std::pair{"event_type", &e.event_type}}) {
    if (text->empty())
      return error(RejectClass::missing_field,
                   std::string("missing required field ") + name + " (a non-empty string)");
  }
  if (!e.risk_level.empty() && e.risk_level != "low" && e.risk_level != "medium" &&
      e.risk_level != "high")
    return error(RejectClass::out_of_range, "field risk_level is \"" + e.risk_level.substr(0, 64) +
                                                "\", expected low, medium or high");

  // Identity: the producer's event_id, or the identifying fields as sent. A
  // missing timestamp hashes as absent (not as the defaulted time), so the
  // same line backfilled twice is the same event.
  auto& sha = m_impl->sha;
  if (!e.event_id.empty()) {
    sha.add_field("event_id").add_field(e.event_id);
  } else {
    sha.add_field("fields").add_field(e.agent_name).add_field(e.session_id);
    sha.add_field(timestamp ? std::to_string(*timestamp) : std::string());
    sha.add_field(e.event_type).add_field(e.pattern).add_field(e.matched_value);
    sha.add_field(e.original_line);
    sha.add_field(e.line_number ? std::to_string(*e.line_number) : std::string());
  }
  e.identity = sha.finish();
  e.timestamp = timestamp.value_or(default_time);
  return e;
}

}  // namespace patternd::decode
