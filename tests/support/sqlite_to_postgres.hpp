#pragma once
// Test support: a PostgreSQL database with the content of a SQLite one, so
// that the same data can be read through both backends and the answers
// compared. The PostgreSQL database must be migrated and empty (but for
// patternd_meta's schema version).
//
// Generic over the schema: every table both databases have, the columns both
// have (a generated column such as prompt_history.search is the server's),
// BLOBs as bytea, in one transaction with triggers off (the copied
// prompt_latency_counts are the ones the triggers would rebuild), inserted in
// batches; then each identity sequence is moved past the largest id copied,
// so that rows added afterwards get new ids as they would in SQLite.

#include <cstdint>
#include <map>
#include <string>

namespace patternd::testing {

// Rows copied per table. Throws std::runtime_error (or PgError) on failure.
std::map<std::string, std::int64_t> copy_sqlite_to_postgres(const std::string& sqlite_path,
                                                            const std::string& postgres_uri);

}  // namespace patternd::testing
