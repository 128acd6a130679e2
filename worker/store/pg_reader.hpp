#pragma once
// The read side of the store on PostgreSQL: the Reader of store/reader.hpp,
// answering the same queries with the same rows, orders and pages as the
// SQLite reader, from a read-only session of its own.
//
// Every read is one REPEATABLE READ transaction (one snapshot for all its
// statements), each statement cut short by the server at
// api.query_timeout_ms (statement_timeout). What can go wrong, and what the
// caller sees:
// * a statement cut short, or a connection that broke (server restart,
//   pg_terminate_backend): Unavailable (503). After a break the reader
//   connects again at its next read; if it cannot, that read is Unavailable
//   too. Nothing waits longer than the timeout and libpq's connect_timeout.
// * any other error of the server: ReadFailed.
//
// Full-text search (PromptQuery::q) is PostgreSQL's own: the FTS5 query
// translated to a tsquery (store/pg_fts_query.hpp; what FTS5 refuses is
// InvalidQuery), read by to_tsquery with patternd_search ('simple' behind
// unaccent: words lower-cased and diacritics folded, as FTS5's unicode61
// does; schema/postgresql/003) over prompt_history.search, ranked by
// ts_rank_cd (negated, so lower is better as with SQLite's bm25). Its rank
// values and so its order differ from SQLite's; which prompts match does
// not. A query with no word in it is InvalidQuery, as FTS5 refuses it.

#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/result.hpp"
#include "store/reader.hpp"

namespace patternd::store::pg {

// A reader on its own connection to storage.uri, once the database is at the
// latest PostgreSQL schema (else an error that says to migrate).
core::Result<std::unique_ptr<Reader>, OpenError> open_reader(const config::Config& config);

// What a failed read is to its caller, from the server's SQLSTATE (empty when
// libpq has none) and whether the connection still stands.
enum class ReadError {
  timed_out,        // statement_timeout: Unavailable, the connection is kept
  connection_lost,  // Unavailable, connect again at the next read
  failed,           // ReadFailed
};
ReadError classify_read_error(const std::string& sqlstate, bool connection_broken);

}  // namespace patternd::store::pg
