#pragma once
// Internal to store/ (it names an SQLite type): why the operating system
// refused a write.

#include <sqlite3.h>

namespace patternd::store {

// The errno of a refused write (EROFS, ENOSPC, EIO, ...; 0 if none) for a
// failed statement or COMMIT on `db`. The caller clears errno before the
// transaction.
int system_errno_of_failed_write(sqlite3* db);

}  // namespace patternd::store
