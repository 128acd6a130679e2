#pragma once
// The PostgreSQL schema: the migrations of schema/postgresql/*.sql (compiled
// in, k_postgresql_migrations), applied in order. The version is kept in
// patternd_meta (key schema_version), as SQLite keeps its own, and each
// migration applied is recorded in patternd_migrations.
//
// Any number of processes may migrate at once: the pending migrations run
// in one transaction under one advisory lock, and the version is read again
// once the lock is held, so each version is applied exactly once, by one
// process, and every process ends at the latest schema.

#include "core/result.hpp"
#include "store/pg_connection.hpp"
#include "store/records.hpp"

namespace patternd::store::pg {

// Brings the database of `connection` to the latest version. Refuses (with
// `foreign` set) a database that holds other tables but no patternd version,
// and one newer than this patternd knows. Errors show the URI masked.
core::Result<MigrationReport, OpenError> migrate(Connection& connection);

// The version `connection` is at: 0 before the first migration.
int schema_version(Connection& connection);
int latest_schema_version();

}  // namespace patternd::store::pg
