#pragma once
// The SQLite reader's rows: one function per row type, reading the columns
// of its statement in store/read_queries.cpp in their order. Internal to the
// SQLite reader.

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include "store/reader.hpp"

namespace patternd::store {

// A column that may be NULL; a digest column (zeros unless 32 bytes).
std::optional<std::string> text_or_null(const SQLite::Column& c);
std::optional<std::int64_t> integer_or_null(const SQLite::Column& c);
core::Digest digest_of(const SQLite::Column& c);

PatternRow pattern_row(SQLite::Statement& s);
FailureRow failure_row(SQLite::Statement& s);
ExtractionRow extraction_row(SQLite::Statement& s);
SessionRow session_row(SQLite::Statement& s);
StateChange state_change_row(SQLite::Statement& s);
CodeBlockRow code_block_row(SQLite::Statement& s);
FixRow fix_row(SQLite::Statement& s);
OutcomeStatsRow outcome_stats_row(SQLite::Statement& s);
// Attempts, successes, duration sum and count, first and last seen, from
// column `first` on, with the rates derived.
OutcomeFigures figures_of(SQLite::Statement& s, int first);

}  // namespace patternd::store
