#pragma once
// Failure signatures: an error's text with the parts that vary from one
// occurrence to the next (numbers, hex, UUIDs, quoted strings, file paths)
// replaced by placeholders, so that the same error raised in another file, on
// another line or for another value shares one signature. Pure functions.

#include <string>
#include <string_view>

namespace patternd::detect {

inline constexpr std::size_t k_max_signature_bytes = 512;

// "TypeError: Cannot read properties of undefined (reading 'id') at /app/x.js:10:5"
//   -> "TypeError: Cannot read properties of undefined (reading <str>) at <path>"
// Whitespace runs collapse to one space; the result is trimmed and cut to
// k_max_signature_bytes (on a UTF-8 boundary).
std::string normalize_failure(std::string_view text);

// The error's type, derived from its signature only (so that it is the same
// for every occurrence): the leading name before a colon ("TypeError",
// "error[E0308]"), else the first word ending in Error or Exception, else
// "error".
std::string failure_type(std::string_view signature);

}  // namespace patternd::detect
