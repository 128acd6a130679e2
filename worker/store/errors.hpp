#pragma once
// Classification of SQLite's error codes, in one pure function: what the
// worker does about a failed write depends only on this table.

#include <stdexcept>
#include <string>

namespace patternd::store {

enum class ErrorKind {
  transient,  // roll back, back off, retry the same batch: busy, locked, full, read-only, I/O
  record,     // one record broke a constraint: it becomes a dead letter, the rest commits
  fatal,      // corruption, misuse: stop and tell a person
};

ErrorKind classify_sqlite_error(int extended_code);

// The short label of an error code for metrics (`patternd_db_errors_total{kind}`).
std::string_view error_label(int extended_code);

// A write that failed; what to do is in `kind`.
class StoreError : public std::runtime_error {
 public:
  StoreError(ErrorKind kind, int extended_code, const std::string& what)
      : std::runtime_error(what), m_kind(kind), m_code(extended_code) {}
  ErrorKind kind() const { return m_kind; }
  int code() const { return m_code; }

 private:
  ErrorKind m_kind;
  int m_code;
};

}  // namespace patternd::store
