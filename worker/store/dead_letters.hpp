#pragma once
// Reading the dead_letters table: what was rejected, why, and the payloads to
// replay (`patternd dead-letters list|replay`).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "store/database.hpp"
#include "store/records.hpp"

namespace patternd::store {

// Matching letters in id order (oldest first), at most filter.limit.
std::vector<DeadLetter> find_dead_letters(Database& db, const DeadLetterFilter& filter);

// How many letters match (ignoring after_id and limit).
std::int64_t count_dead_letters(Database& db, const DeadLetterFilter& filter);

}  // namespace patternd::store
