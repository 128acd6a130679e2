#pragma once
// An online backup of the database: one consistent snapshot (SQLite's backup
// API in a single step, so one read transaction: in WAL mode the workers keep
// writing meanwhile, and the copy is never restarted by their writes),
// verified with PRAGMA integrity_check before it takes its final name.

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "store/database.hpp"
#include "store/records.hpp"

namespace patternd::store {

// Copies `source` to `out` (which must not exist): a self-contained file
// (rollback journal, no -wal beside it), mode 0600. The copy is written
// beside `out` and published under that name only if nothing is there by
// then: a file that appears at `out` while the copy runs is never replaced.
core::Result<BackupReport, BackupError> backup(Database& source, const std::string& out);

}  // namespace patternd::store
