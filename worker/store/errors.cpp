#include "store/errors.hpp"

#include <sqlite3.h>

#include <cerrno>
#include <cstring>

#include "store/os_errors.hpp"

namespace patternd::store {

ErrorKind classify_sqlite_error(int extended_code) {
  switch (extended_code & 0xFF) {
    case SQLITE_BUSY:  // another writer held the lock beyond busy_timeout
    case SQLITE_LOCKED:
    case SQLITE_FULL:      // disk full: space may come back
    case SQLITE_READONLY:  // file or directory made read-only
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:  // the file or its directory went away for a while
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_INTERRUPT:
      return ErrorKind::transient;
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return ErrorKind::record;
    default:  // SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_SCHEMA, SQLITE_MISUSE, ...
      return ErrorKind::fatal;
  }
}

namespace {

// sqlite3_system_errno() keeps the last failing system call's errno, which may
// be older than this error; it describes only errors that come from the OS.
bool from_the_os(int extended_code) {
  switch (extended_code & 0xFF) {
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string_view error_label(int extended_code, int system_errno) {
  if (from_the_os(extended_code)) {
    if (system_errno == EROFS || system_errno == EACCES || system_errno == EPERM) return "readonly";
    if (system_errno == ENOSPC || system_errno == EDQUOT) return "disk_full";
  }
  switch (extended_code & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "busy";
    case SQLITE_FULL:
      return "disk_full";
    case SQLITE_READONLY:
      return "readonly";
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return "io";
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return "constraint";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return "corrupt";
    default:
      return "other";
  }
}

std::string describe_sqlite_error(int extended_code, int system_errno, const std::string& message) {
  if (system_errno == 0 || !from_the_os(extended_code)) return message;
  return message + " (" + std::strerror(system_errno) + ")";
}

// Why the operating system refused a write, for the error's label and message.
// sqlite3_system_errno() knows only errors raised while a statement runs, not
// those of COMMIT (where WAL writes happen), so the thread's errno is the
// fallback: cleared before the transaction, and trusted only for the values a
// refused write produces (SQLite's own probing leaves ENOENT and the like).
int system_errno_of_failed_write(sqlite3* db) {
  const int saved = errno;
  if (const int e = sqlite3_system_errno(db); e != 0) return e;
  switch (saved) {
    case EROFS:
    case ENOSPC:
    case EDQUOT:
    case EIO:
    case EACCES:
    case EPERM:
    case EFBIG:
      return saved;
    default:
      return 0;
  }
}

}  // namespace patternd::store
