#pragma once
// A PostgreSQL connection, through libpq's C API in RAII wrappers of our own.
//
// Why libpq and not libpqxx: Debian's libpqxx ties the build (and the runtime
// image) to one libpqxx ABI, and over libpq it adds little that a thin wrapper
// does not: connections and results that free themselves, parameters bound
// as text. libpq itself gives pipeline mode and COPY directly, which is how a
// batch store sends thousands of rows per transaction.
//
// One Connection is one thread at a time. Messages never hold the password:
// the URI is shown masked, and libpq's text is redacted (config/storage_uri).

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"

namespace patternd::store::pg {

struct ResultFree {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultFree>;

// A statement the server refused, or a connection that broke under it.
class PgError : public std::runtime_error {
 public:
  PgError(std::string sqlstate, const std::string& location, std::string reason)
      : std::runtime_error(location + ": " + reason),
        m_sqlstate(std::move(sqlstate)),
        m_reason(std::move(reason)) {}
  // The SQLSTATE ("40P01" deadlock, "08006" connection failure), or empty
  // when the server sent none (the connection is gone).
  const std::string& sqlstate() const { return m_sqlstate; }
  // The server's (or libpq's) words, without the location.
  const std::string& reason() const { return m_reason; }

 private:
  std::string m_sqlstate;
  std::string m_reason;
};

class Connection {
 public:
  // Connects to `uri` (a libpq URI, checked by config::check_storage). The
  // error names the URI with its password masked and says why, in libpq's
  // words with any password taken out.
  static core::Result<std::unique_ptr<Connection>> connect(const std::string& uri);

  // The URI, password masked: for messages and logs.
  const std::string& location() const { return m_location; }

  // Runs `sql` (one statement or several, no parameters). Throws PgError.
  void exec(const std::string& sql);
  // Runs one statement with its parameters bound as text (nullopt is NULL):
  // never SQL assembled from values. Throws PgError.
  PgResult query(const std::string& sql,
                 const std::vector<std::optional<std::string>>& params = {});

  // As query(), as a statement prepared on this connection at its first use
  // (parsed and planned once): for the statements run every batch.
  PgResult prepared(const std::string& sql,
                    const std::vector<std::optional<std::string>>& params = {});

  // Runs `sql`, a COPY ... FROM STDIN, sending `data` (in the format the
  // COPY names). Throws PgError.
  void copy_in(const std::string& sql, std::string_view data);

  // libpq's handle, for what the wrappers do not cover (cancel).
  PGconn* handle() { return m_conn.get(); }
  // The connection broke (server restart, pg_terminate_backend): every
  // statement fails; a caller reconnects.
  bool broken() const { return PQstatus(m_conn.get()) != CONNECTION_OK; }

  // One text value of a result (row, column), nullopt for NULL.
  static std::optional<std::string> value(const PGresult* result, int row, int column);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() = default;

 private:
  struct Finish {
    void operator()(PGconn* conn) const { PQfinish(conn); }
  };
  Connection(std::unique_ptr<PGconn, Finish> conn, std::string uri, std::string location);
  // Throws PgError unless `result` reports success.
  PgResult checked(PGresult* result);

  std::unique_ptr<PGconn, Finish> m_conn;
  std::unordered_map<std::string, std::string> m_statement_names;  // sql -> its prepared name
  std::string m_uri;                                               // to redact libpq's messages
  std::string m_location;                                          // the URI, masked
};

}  // namespace patternd::store::pg
