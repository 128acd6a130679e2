#include "store/errors.hpp"

#include <sqlite3.h>

namespace patternd::store {

ErrorKind classify_sqlite_error(int extended_code) {
  switch (extended_code & 0xFF) {
    case SQLITE_BUSY:      // another writer held the lock beyond busy_timeout
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

std::string_view error_label(int extended_code) {
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

}  // namespace patternd::store
