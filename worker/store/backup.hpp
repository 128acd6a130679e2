#pragma once
// An online backup of the database: one consistent snapshot (SQLite's backup
// API in a single step, so one read transaction: in WAL mode the workers keep
// writing meanwhile, and the copy is never restarted by their writes),
// verified with PRAGMA integrity_check before it takes its final name.

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "store/database.hpp"

namespace patternd::store {

struct BackupReport {
  std::int64_t bytes = 0;
  std::int64_t partitions = 0;        // partitions with a stored offset
  std::int64_t messages_covered = 0;  // the sum of stored next offsets
  double seconds = 0;
};

struct BackupError {
  std::string message;
  // `out` existed, at the start or by the time the copy was ready (another
  // program created it meanwhile): a usage error; it was left untouched.
  bool out_exists = false;
};

// Copies `source` to `out` (which must not exist): a self-contained file
// (rollback journal, no -wal beside it), mode 0600. The copy is written
// beside `out` and published under that name only if nothing is there by
// then: a file that appears at `out` while the copy runs is never replaced.
core::Result<BackupReport, BackupError> backup(Database& source, const std::string& out);

}  // namespace patternd::store
