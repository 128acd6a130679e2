#pragma once
// The PostgreSQL reader's prompt queries (prompt_history and its per-backend
// figures): listing and full-text search, one record, per-backend figures,
// with the same answers as store/prompt_reads.cpp gives on SQLite. Internal
// to the PostgreSQL reader; each runs inside the reader's transaction.

#include <optional>
#include <string>
#include <vector>

#include "store/pg_connection.hpp"
#include "store/reader.hpp"

namespace patternd::store::pg {

// Throws InvalidQuery for a `q` FTS5 would refuse (store/pg_fts_query.hpp)
// or with no word to search for.
std::vector<PromptRow> read_prompts(Connection& connection, const PromptQuery& q);
std::optional<PromptRow> read_prompt(Connection& connection, const std::string& id);
std::vector<PromptStatsRow> read_prompt_stats(Connection& connection,
                                              const std::optional<std::string>& backend);

}  // namespace patternd::store::pg
