#include "store/backup.hpp"

#include <SQLiteCpp/Backup.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace patternd::store {
namespace {

BackupError exists_already(const std::string& out) {
  return {out + ": exists already; choose a new file name", true};
}

// Gives `from` the name `to` unless `to` exists, atomically: rename() would
// replace a file created at `to` since the start. 0, or the errno.
int rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return errno;
  // A file system without RENAME_NOREPLACE: link() refuses an existing name too.
  if (::link(from.c_str(), to.c_str()) != 0) return errno;
  ::unlink(from.c_str());
  return 0;
}

}  // namespace

core::Result<BackupReport, BackupError> backup(Database& source, const std::string& out) {
  namespace fs = std::filesystem;
  const auto started = std::chrono::steady_clock::now();
  if (fs::exists(out)) return exists_already(out);
  const std::string partial = out + ".partial-" + std::to_string(::getpid());
  if (auto e = create_private_file(partial)) return BackupError{e->message};
  BackupReport report;
  try {
    {
      SQLite::Database copy(partial, SQLite::OPEN_READWRITE);
      SQLite::Backup(copy, source.sql()).executeStep(-1);
      // One file to move around; a worker opening it switches back to WAL.
      copy.exec("PRAGMA journal_mode = DELETE");
      const std::string check = copy.execAndGet("PRAGMA integrity_check").getString();
      if (check != "ok") {
        fs::remove(partial);
        return BackupError{out + ": the copy failed PRAGMA integrity_check: " + check};
      }
      SQLite::Statement q(copy,
                          "SELECT count(*), coalesce(sum(next_offset), 0) FROM kafka_offsets");
      q.executeStep();
      report.partitions = q.getColumn(0).getInt64();
      report.messages_covered = q.getColumn(1).getInt64();
    }
  } catch (const std::exception& e) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    return BackupError{out + ": backup failed: " + e.what()};
  }
  if (const int error = rename_no_replace(partial, out); error != 0) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    if (error == EEXIST) return exists_already(out);
    return BackupError{out + ": cannot give the copy its name: " + std::strerror(error)};
  }
  report.bytes = static_cast<std::int64_t>(fs::file_size(out));
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace patternd::store
