#include "decode/decoder.hpp"

#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

namespace patternd::decode {

using core::Result;

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string_view type_name(element_type type) {
  switch (type) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

// Offset of the first byte that breaks UTF-8, for an actionable reason.
// Only called on the error path.
std::size_t first_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    if (len == 0 || i + len > s.size() || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4))
      return i;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    if (len == 3) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) return i;  // overlong, surrogate
    }
    if (len == 4) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) return i;
    }
    i += len;
  }
  return s.size();
}

std::size_t count_code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.15g", value);
  return buffer;
}

DecodeError error(RejectClass reject, std::string detail) { return {reject, std::move(detail)}; }

DecodeError wrong_type(std::string_view field, std::string_view expected, element value) {
  return error(RejectClass::wrong_type, std::string("field ") + std::string(field) + " must be " +
                                            std::string(expected) + ", got " +
                                            std::string(type_name(value.type())));
}

// Field readers: each returns true on success, or false with the first reason
// kept in `failure`. A JSON null reads as "absent" for optional fields.
struct FieldReader {
  std::optional<DecodeError> failure;
  std::uint32_t seen = 0;  // the known top-level fields met so far, one bit each

  bool fail(DecodeError e) {
    if (!failure) failure = std::move(e);
    return false;
  }

  // Whether `key` is the known field `name` (number `index` < 32 of its
  // event kind). A second occurrence fails as duplicate_key: JSON parsers
  // disagree on which one wins, so what the producer meant is unknown. One
  // bit test per field, against the key comparisons the decoder makes
  // anyway: nothing measurable on the hot path.
  // Small enough to inline: the comparison with a literal compiles to a
  // length test and a fixed-size compare, as a plain `key == name` does.
  bool is(std::string_view key, std::string_view name, unsigned index) {
    if (key != name) return false;
    const std::uint32_t bit = std::uint32_t{1} << index;
    if ((seen & bit) != 0) duplicate(name);
    seen |= bit;
    return true;
  }

  [[gnu::cold, gnu::noinline]] void duplicate(std::string_view name) {
    fail(error(RejectClass::duplicate_key,
               "field " + std::string(name) + " appears more than once"));
  }

  bool string(std::string_view field, element value, std::string& out) {
    std::string_view s;
    if (value.get_string().get(s) != simdjson::SUCCESS)
      return fail(wrong_type(field, "a string", value));
    out.assign(s);
    return true;
  }

  bool optional_string(std::string_view field, element value, std::string& out) {
    if (value.is_null()) return true;
    return string(field, value, out);
  }

  bool count(std::string_view field, element value, std::optional<std::int64_t>& out) {
    if (value.is_null()) return true;
    std::int64_t n = 0;
    switch (value.type()) {
      case element_type::INT64:
        n = value.get_int64().value_unsafe();
        break;
      case element_type::UINT64:
        return fail(error(RejectClass::out_of_range, "field " + std::string(field) +
                                                         " is out of range (0.." +
                                                         std::to_string(k_max_count) + ")"));
      case element_type::DOUBLE: {
        const double d = value.get_double().value_unsafe();
        if (!(d == std::floor(d)) || std::fabs(d) > 9.0e15)
          return fail(error(RejectClass::wrong_type, "field " + std::string(field) +
                                                         " must be an integer, got " +
                                                         simdjson::minify(value)));
        n = static_cast<std::int64_t>(d);
        break;
      }
      default:
        return fail(wrong_type(field, "an integer", value));
    }
    if (n < 0 || n > k_max_count)
      return fail(error(RejectClass::out_of_range, "field " + std::string(field) + " is " +
                                                       std::to_string(n) + ", expected 0.." +
                                                       std::to_string(k_max_count)));
    out = n;
    return true;
  }

  bool count(std::string_view field, element value, std::int64_t& out) {
    std::optional<std::int64_t> n;
    if (!count(field, value, n)) return false;
    out = n.value_or(0);
    return true;
  }

  // A finite number 0..max, scaled to an integer (cost to micro-dollars,
  // duration to milliseconds) so that sums stay exact.
  bool scaled(std::string_view field, element value, double max, double scale, std::int64_t& out) {
    if (value.is_null()) return true;
    double d = 0;
    if (value.get_double().get(d) != simdjson::SUCCESS)
      return fail(wrong_type(field, "a number", value));
    if (!std::isfinite(d) || d < 0 || d > max)
      return fail(error(RejectClass::out_of_range,
                        "field " + std::string(field) + " is " + simdjson::minify(value) +
                            ", expected a number 0.." + format_number(max)));
    out = std::llround(d * scale);
    return true;
  }

  bool boolean(std::string_view field, element value, std::optional<bool>& out) {
    if (value.is_null()) return true;
    bool b = false;
    if (value.get_bool().get(b) != simdjson::SUCCESS)
      return fail(wrong_type(field, "a boolean", value));
    out = b;
    return true;
  }

  bool time(std::string_view field, element value, std::optional<core::TimestampMs>& out) {
    if (value.is_null()) return true;
    std::string_view s;
    if (value.get_string().get(s) != simdjson::SUCCESS)
      return fail(wrong_type(field, "an RFC 3339 time string", value));
    out = core::parse_rfc3339(s);
    if (!out)
      return fail(error(RejectClass::wrong_type, "field " + std::string(field) + " is \"" +
                                                     std::string(s.substr(0, 64)) +
                                                     "\", expected an RFC 3339 time such as "
                                                     "2026-11-20T10:30:00Z"));
    return true;
  }
};

}  // namespace

struct Decoder::Impl {
  explicit Impl(std::size_t max_bytes) : max_message_bytes(max_bytes) {
    buffer.resize(max_bytes + simdjson::SIMDJSON_PADDING);
    // Capacity for the largest accepted message and a depth limit: deeper
    // documents fail inside the parser, before any recursion of ours.
    if (parser.allocate(max_bytes, k_max_depth) != simdjson::SUCCESS) throw std::bad_alloc();
  }

  // Parses payload into an object, or explains why it cannot be one.
  Result<simdjson::dom::object, DecodeError> parse_object(std::string_view payload) {
    if (payload.size() > max_message_bytes)
      return error(RejectClass::too_large, "message is " + std::to_string(payload.size()) +
                                               " bytes, larger than limits.max_message_bytes (" +
                                               std::to_string(max_message_bytes) + ")");
    std::memcpy(buffer.data(), payload.data(), payload.size());
    element root;
    const auto code = parser.parse(buffer.data(), payload.size(), false).get(root);
    if (code != simdjson::SUCCESS) return explain(code, payload);
    simdjson::dom::object object;
    if (root.get_object().get(object) != simdjson::SUCCESS)
      return error(RejectClass::not_an_object, std::string("message is ") +
                                                   std::string(type_name(root.type())) +
                                                   ", expected a JSON object");
    return object;
  }

  static DecodeError explain(simdjson::error_code code, std::string_view payload) {
    switch (code) {
      case simdjson::UTF8_ERROR:
        return error(RejectClass::invalid_utf8,
                     "invalid UTF-8 at byte " + std::to_string(first_invalid_utf8(payload)));
      case simdjson::DEPTH_ERROR:
        return error(RejectClass::too_deep,
                     "JSON nests deeper than " + std::to_string(k_max_depth) + " levels");
      case simdjson::NUMBER_ERROR:
        return error(RejectClass::invalid_json,
                     "invalid JSON: a number is malformed or too large to represent");
      case simdjson::EMPTY:
        return error(RejectClass::invalid_json, "invalid JSON: the message is empty");
      default:
        return error(RejectClass::invalid_json,
                     std::string("invalid JSON: ") + simdjson::error_message(code));
    }
  }

  std::size_t max_message_bytes;
  std::vector<char> buffer;
  simdjson::dom::parser parser;
  core::Sha256 sha;
};

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
