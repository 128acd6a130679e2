#pragma once
// The SQLite reader's prompt queries (schema/010): listing and full-text
// search, one record, per-backend figures. Internal to the SQLite reader.

#include <SQLiteCpp/Statement.h>

#include <functional>
#include <string>
#include <vector>

#include "store/reader.hpp"

namespace patternd::store {

// The reader's cache of prepared statements (reset, bindings cleared).
using Prepare = std::function<SQLite::Statement&(const std::string&)>;

std::vector<PromptRow> read_prompts(const Prepare& prepare, const PromptQuery& q);
std::optional<PromptRow> read_prompt(const Prepare& prepare, const std::string& id);
std::vector<PromptStatsRow> read_prompt_stats(const Prepare& prepare,
                                              const std::optional<std::string>& backend);

namespace sql {
// Every prompt statement, for the plan checks.
std::vector<std::string> prompt_statements();
}  // namespace sql

}  // namespace patternd::store
