#pragma once
// The queries behind `patternd report`: top operation patterns (from the
// operation_pattern_stats view), top failure signatures, and counts. Ordering
// is total (ties broken by signature) so that equal databases give equal
// reports.

#include <cstdint>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "store/database.hpp"
#include "store/records.hpp"

namespace patternd::store {

Report load_report(Database& db, std::size_t top);

}  // namespace patternd::store
