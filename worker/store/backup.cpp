#include "store/backup.hpp"

#include <SQLiteCpp/Backup.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

namespace patternd::store {

using core::Error;

core::Result<BackupReport> backup(Database& source, const std::string& out) {
  namespace fs = std::filesystem;
  const auto started = std::chrono::steady_clock::now();
  if (fs::exists(out)) return Error{out + ": exists already; choose a new file name"};
  const std::string partial = out + ".partial-" + std::to_string(::getpid());
  if (auto e = create_private_file(partial)) return *e;
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
        return Error{out + ": the copy failed PRAGMA integrity_check: " + check};
      }
      SQLite::Statement q(copy,
                          "SELECT count(*), coalesce(sum(next_offset), 0) FROM kafka_offsets");
      q.executeStep();
      report.partitions = q.getColumn(0).getInt64();
      report.messages_covered = q.getColumn(1).getInt64();
    }
    fs::rename(partial, out);
  } catch (const std::exception& e) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    return Error{out + ": backup failed: " + e.what()};
  }
  report.bytes = static_cast<std::int64_t>(fs::file_size(out));
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace patternd::store
