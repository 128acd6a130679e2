#pragma once
// The next offset to consume per partition, as stored by the batch writer in
// the same transaction as the rows it covers.

#include <cstdint>
#include <optional>
#include <string>

#include "store/database.hpp"

namespace patternd::store {

std::optional<std::int64_t> stored_offset(Database& db, const std::string& topic,
                                          std::int32_t partition);

}  // namespace patternd::store
