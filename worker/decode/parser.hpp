#pragma once
// The parser state a Decoder owns (one per thread), shared by the decoders
// of each stream kind. Internal to decode/.

#include <simdjson.h>

#include <cstring>
#include <new>
#include <vector>

#include "core/sha256.hpp"
#include "decode/fields.hpp"

namespace patternd::decode {

using core::Result;
using namespace fields;

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

}  // namespace patternd::decode
