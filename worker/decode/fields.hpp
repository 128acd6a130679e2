#pragma once
// The decoder's field readers, shared by the decoder of every stream kind
// (decoder.cpp, outcome.cpp): each reads one JSON value into a typed field or
// says, in a reason a producer can act on, why it cannot. Internal to decode/.

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "decode/decoder.hpp"

namespace patternd::decode::fields {

using simdjson::dom::element;
using simdjson::dom::element_type;

inline std::string_view type_name(element_type type) {
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
inline std::size_t first_invalid_utf8(std::string_view s) {
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

inline std::size_t count_code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

inline std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.15g", value);
  return buffer;
}

inline DecodeError error(RejectClass reject, std::string detail) {
  return {reject, std::move(detail)};
}

inline DecodeError wrong_type(std::string_view field, std::string_view expected, element value) {
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

  // A signed integer in [min, max] (an exit code may be negative).
  bool integer(std::string_view field, element value, std::int64_t min, std::int64_t max,
               std::optional<std::int64_t>& out) {
    if (value.is_null()) return true;
    std::int64_t n = 0;
    if (value.type() == element_type::INT64) {
      n = value.get_int64().value_unsafe();
    } else if (value.type() == element_type::DOUBLE || value.type() == element_type::UINT64) {
      return fail(
          error(RejectClass::out_of_range, "field " + std::string(field) + " is " +
                                               simdjson::minify(value) + ", expected an integer " +
                                               std::to_string(min) + ".." + std::to_string(max)));
    } else {
      return fail(wrong_type(field, "an integer", value));
    }
    if (n < min || n > max)
      return fail(error(RejectClass::out_of_range,
                        "field " + std::string(field) + " is " + std::to_string(n) + ", expected " +
                            std::to_string(min) + ".." + std::to_string(max)));
    out = n;
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

}  // namespace patternd::decode::fields
