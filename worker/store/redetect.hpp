#pragma once
// Rebuilds the pattern tables (operation patterns, their occurrences and
// daily runs, failure signatures and their agents and sessions) from the
// stored raw rows with the given rules, in one transaction, and records the
// rules version. Run with the workers stopped. The result equals a fresh
// ingest of the retained rows with those rules, because it feeds the same
// PatternAccumulator the batch writer uses.

#include <cstdint>
#include <functional>

#include "detect/rules.hpp"
#include "store/database.hpp"
#include "store/records.hpp"

namespace patternd::store {

// `progress` is called now and then with the rows read so far.
RedetectSummary redetect(Database& db, const detect::Rules& rules,
                         const std::function<void(std::uint64_t)>& progress = {});

}  // namespace patternd::store
