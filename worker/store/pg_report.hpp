#pragma once
// `patternd report`, dead letters and pattern counts on PostgreSQL: the same
// results as store/report.cpp and store/dead_letters.cpp compute on SQLite,
// for the PostgreSQL store to answer Store::report, find_dead_letters,
// count_dead_letters and count_patterns with. Ordering is total, and ties on
// text are broken in byte order (COLLATE "C"), as SQLite breaks them, so that
// equal databases give equal reports on either backend.
//
// Each statement runs on `connection` as it is (in the caller's transaction,
// if one is open). Throws PgError.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "store/pg_connection.hpp"
#include "store/records.hpp"

namespace patternd::store::pg {

Report report(Connection& connection, std::size_t top);

// Matching letters in id order (oldest first), at most filter.limit.
std::vector<DeadLetter> find_dead_letters(Connection& connection, const DeadLetterFilter& filter);
// How many letters match (ignoring after_id and limit).
std::int64_t count_dead_letters(Connection& connection, const DeadLetterFilter& filter);

PatternCounts count_patterns(Connection& connection);

}  // namespace patternd::store::pg
