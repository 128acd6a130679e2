#pragma once
// Reading the dead_letters table: what was rejected, why, and the payloads to
// replay (`patternd dead-letters list|replay`).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "store/database.hpp"

namespace patternd::store {

struct DeadLetterFilter {
  std::optional<std::string> reason_class;  // invalid_json, too_large, missing_field, ...
  std::optional<std::string> topic;
  std::optional<core::TimestampMs> since, until;  // rejected at or after / before
  std::int64_t after_id = 0;                      // keyset paging: ids above this
  std::int64_t limit = 100;
};

struct DeadLetter {
  std::int64_t id = 0;
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string reason_class;
  std::string reason;
  std::string payload;             // the first 64 KiB
  std::int64_t payload_size = 0;   // the whole message's size
  std::optional<core::TimestampMs> message_time;
  core::TimestampMs received_at = 0;

  bool truncated() const { return payload_size > static_cast<std::int64_t>(payload.size()); }
};

// Matching letters in id order (oldest first), at most filter.limit.
std::vector<DeadLetter> find_dead_letters(Database& db, const DeadLetterFilter& filter);

// How many letters match (ignoring after_id and limit).
std::int64_t count_dead_letters(Database& db, const DeadLetterFilter& filter);

}  // namespace patternd::store
