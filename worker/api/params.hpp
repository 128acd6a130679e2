#pragma once
// A request's query parameters, checked as SPEC section 13 says: every
// parameter known to the endpoint, given at most once, each value valid, or
// a BadRequest whose message names the parameter and what was expected.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "store/reader.hpp"

namespace patternd::api {

// Answered with 400 and {"error": what()}.
struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Percent-decodes `text` ('+' is a space in a query); nullopt when an escape
// is malformed, the result is not UTF-8, or it holds a NUL.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

inline constexpr std::int64_t k_default_limit = 50;
inline constexpr std::int64_t k_max_limit = 1000;
inline constexpr std::size_t k_max_value_bytes = 8192;

class Params {
 public:
  // Parses a raw query string; throws BadRequest for a malformed or repeated
  // parameter, or one not in `known`.
  Params(std::string_view query, const std::vector<std::string>& known);

  std::optional<std::string> text(const std::string& name) const;
  std::string required_text(const std::string& name) const;
  std::optional<std::int64_t> integer(const std::string& name, std::int64_t min,
                                      std::int64_t max) const;
  std::optional<double> number(const std::string& name, double min, double max) const;
  std::optional<core::TimestampMs> time(const std::string& name) const;
  // One of `choices`; the first when absent.
  std::string choice(const std::string& name, const std::vector<std::string>& choices) const;

  // limit and cursor; the cursor must come from the same listing (`listing`
  // names the resource and its sort).
  store::Page page(const std::string& listing) const;

 private:
  std::map<std::string, std::string> m_values;
};

// The opaque cursor after `position` in `listing`.
std::string encode_cursor(const std::string& listing, const store::Position& position);

}  // namespace patternd::api
