#pragma once
// Event times are integer milliseconds since the Unix epoch (UTC): exact,
// compact to store, and ordered the same way as the instants they name.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace patternd::core {

using TimestampMs = std::int64_t;

// Parses an RFC 3339 date-time ("2026-11-20T10:30:00.123Z",
// "2026-11-20 10:30:00+02:00"). Fractions beyond milliseconds are truncated.
// Returns nullopt for anything that is not a valid RFC 3339 instant.
std::optional<TimestampMs> parse_rfc3339(std::string_view text);

// Formats as "2026-11-20T10:30:00.123Z" (always UTC, always milliseconds).
std::string format_rfc3339(TimestampMs ms);

TimestampMs now_ms();

}  // namespace patternd::core
