#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cerrno>

#include "store/errors.hpp"

namespace patternd::store {
namespace {

TEST(StoreErrors, WhatMayPassIsTransient) {
  for (int code : {SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED, SQLITE_FULL, SQLITE_READONLY,
                   SQLITE_READONLY_DBMOVED, SQLITE_IOERR, SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC,
                   SQLITE_CANTOPEN, SQLITE_NOMEM})
    EXPECT_EQ(classify_sqlite_error(code), ErrorKind::transient) << code;
}

TEST(StoreErrors, AConstraintRejectsOneRecord) {
  for (int code : {SQLITE_CONSTRAINT, SQLITE_CONSTRAINT_CHECK, SQLITE_CONSTRAINT_NOTNULL,
                   SQLITE_TOOBIG, SQLITE_MISMATCH})
    EXPECT_EQ(classify_sqlite_error(code), ErrorKind::record) << code;
}

TEST(StoreErrors, CorruptionAndMisuseAreFatal) {
  for (int code : {SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_MISUSE, SQLITE_SCHEMA, SQLITE_ERROR})
    EXPECT_EQ(classify_sqlite_error(code), ErrorKind::fatal) << code;
}

TEST(StoreErrors, LabelsAreShortAndStable) {
  EXPECT_EQ(error_label(SQLITE_BUSY_TIMEOUT), "busy");
  EXPECT_EQ(error_label(SQLITE_FULL), "disk_full");
  EXPECT_EQ(error_label(SQLITE_READONLY), "readonly");
  EXPECT_EQ(error_label(SQLITE_IOERR_WRITE), "io");
  EXPECT_EQ(error_label(SQLITE_CORRUPT), "corrupt");
}

TEST(StoreErrors, TheOperatingSystemsReasonNamesAnIoError) {
  // A file system remounted read-only or full fails SQLite's write() with an I/O error.
  EXPECT_EQ(error_label(SQLITE_IOERR_WRITE, EROFS), "readonly");
  EXPECT_EQ(error_label(SQLITE_IOERR_WRITE, ENOSPC), "disk_full");
  EXPECT_EQ(error_label(SQLITE_IOERR_WRITE, EIO), "io");
  // A stale errno does not relabel an error that did not come from the OS.
  EXPECT_EQ(error_label(SQLITE_BUSY, EROFS), "busy");
  EXPECT_EQ(describe_sqlite_error(SQLITE_IOERR_WRITE, EROFS, "disk I/O error"),
            "disk I/O error (Read-only file system)");
  EXPECT_EQ(describe_sqlite_error(SQLITE_BUSY, EROFS, "database is locked"), "database is locked");
}

}  // namespace
}  // namespace patternd::store
