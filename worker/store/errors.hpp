#pragma once
// Classification of SQLite's error codes, in one pure function: what the
// worker does about a failed write depends only on this table.

#include <array>
#include <stdexcept>
#include <string>

namespace patternd::store {

enum class ErrorKind {
  transient,  // roll back, back off, retry the same batch: busy, locked, full, read-only, I/O
  record,     // one record broke a constraint: it becomes a dead letter, the rest commits
  fatal,      // corruption, misuse: stop and tell a person
};

ErrorKind classify_sqlite_error(int extended_code);

// The short label of an error for metrics (`patternd_db_errors_total{kind}`).
// `system_errno` (sqlite3_system_errno, 0 if none) tells what an I/O error
// really was: a file system gone read-only (EROFS) or full (ENOSPC) fails a
// write with SQLITE_IOERR_WRITE, not SQLITE_READONLY or SQLITE_FULL.
std::string_view error_label(int extended_code, int system_errno = 0);
// Every label error_label() gives, to initialise the error counter's series.
inline constexpr std::array<std::string_view, 7> k_error_labels = {
    "busy", "disk_full", "readonly", "io", "constraint", "corrupt", "other"};

// SQLite's message, with the operating system's reason when it has one:
// "disk I/O error (Read-only file system)".
std::string describe_sqlite_error(int extended_code, int system_errno, const std::string& message);

// A write that failed; what to do is in `kind`.
class StoreError : public std::runtime_error {
 public:
  StoreError(ErrorKind kind, int extended_code, int system_errno, const std::string& what)
      : std::runtime_error(what), m_kind(kind), m_code(extended_code), m_errno(system_errno) {}
  // An error of another database (PostgreSQL): no SQLite code, its label
  // (one of k_error_labels) given.
  StoreError(ErrorKind kind, std::string_view label, const std::string& what)
      : std::runtime_error(what), m_kind(kind), m_code(0), m_errno(0), m_label(label) {}
  ErrorKind kind() const { return m_kind; }
  int code() const { return m_code; }
  int system_errno() const { return m_errno; }
  std::string_view label() const {
    return m_label.empty() ? error_label(m_code, m_errno) : m_label;
  }

 private:
  ErrorKind m_kind;
  int m_code;
  int m_errno;
  std::string_view m_label;  // a literal, when not SQLite's
};

}  // namespace patternd::store
