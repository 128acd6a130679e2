#pragma once
// A full-text query in SQLite's FTS5 syntax, the one the read API documents
// for `q`, as a PostgreSQL tsquery (to_tsquery's syntax), so that a search
// means the same on both backends: words, "phrases", prefix*, AND (or
// nothing), OR, NOT, parentheses, with FTS5's precedence (NOT, then AND,
// then OR). What FTS5 refuses is refused here too, with a reason: an
// unterminated phrase, an operator without an operand, unbalanced
// parentheses, and the syntax this reader does not carry over (NEAR groups,
// column filters such as `col:`, `^`, `+`).
//
// Each word or phrase becomes a quoted operand, which to_tsquery normalizes
// with the search configuration (lower case, diacritics folded); values are
// never SQL: the result is bound as a parameter.

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace patternd::store::pg {

core::Result<std::string> tsquery_of_fts5(std::string_view query);

}  // namespace patternd::store::pg
