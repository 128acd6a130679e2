#include "store/pg_connection.hpp"

#include <algorithm>

#include "config/storage_uri.hpp"
#include "core/log.hpp"

namespace patternd::store::pg {
namespace {

// libpq ends its messages with a newline (and sometimes more lines).
std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Server notices ("relation ... already exists, skipping") go to the debug
// log, not to stderr where libpq prints them by default.
void log_notice(void*, const char* message) {
  log::debug("postgresql", trimmed(message != nullptr ? message : ""));
}

// libpq waits for a TCP connection as long as the kernel does (minutes) by
// default: a server that is down should be an error in seconds. A
// connect_timeout in the URI wins (see connect()).
constexpr const char* k_connect_timeout_s = "10";

}  // namespace

Connection::Connection(std::unique_ptr<PGconn, Finish> conn, std::string uri, std::string location)
    : m_conn(std::move(conn)), m_uri(std::move(uri)), m_location(std::move(location)) {
  PQsetNoticeProcessor(m_conn.get(), &log_notice, nullptr);
}

core::Result<std::unique_ptr<Connection>> Connection::connect(const std::string& uri) {
  // Keywords are applied in order and `dbname` (expanded: the whole URI) comes
  // last, so whatever the URI sets overrides these defaults.
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {k_connect_timeout_s, "patternd", uri.c_str(), nullptr};
  std::unique_ptr<PGconn, Finish> conn(PQconnectdbParams(keywords, values, 1));
  const std::string location = config::mask_password(uri);
  if (!conn) return core::Error{location + ": cannot connect to PostgreSQL: out of memory"};
  if (PQstatus(conn.get()) != CONNECTION_OK)
    return core::Error{location + ": cannot connect to PostgreSQL: " +
                       config::redact_passwords(trimmed(PQerrorMessage(conn.get())), uri)};
  return std::unique_ptr<Connection>(new Connection(std::move(conn), uri, location));
}

PgResult Connection::checked(PGresult* raw) {
  PgResult result(raw);
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
  const std::string why =
      result ? PQresultErrorMessage(result.get()) : PQerrorMessage(m_conn.get());
  throw PgError(state != nullptr ? state : "", m_location,
                config::redact_passwords(trimmed(why), m_uri));
}

void Connection::exec(const std::string& sql) { checked(PQexec(m_conn.get(), sql.c_str())); }

PgResult Connection::query(const std::string& sql,
                           const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  return checked(PQexecParams(m_conn.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0));
}

PgResult Connection::prepared(const std::string& sql,
                              const std::vector<std::optional<std::string>>& params) {
  auto [named, added] = m_statement_names.try_emplace(sql);
  if (added) {
    named->second = "patternd_" + std::to_string(m_statement_names.size());
    try {
      checked(PQprepare(m_conn.get(), named->second.c_str(), sql.c_str(), 0, nullptr));
    } catch (...) {
      m_statement_names.erase(named);
      throw;
    }
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  return checked(PQexecPrepared(m_conn.get(), named->second.c_str(),
                                static_cast<int>(values.size()), values.data(), nullptr, nullptr,
                                0));
}

void Connection::copy_in(const std::string& sql, std::string_view data) {
  PgResult started(PQexec(m_conn.get(), sql.c_str()));
  if (!started || PQresultStatus(started.get()) != PGRES_COPY_IN) {
    checked(started.release());
    return;
  }
  // In pieces: libpq buffers what it is given before sending it.
  constexpr std::size_t k_piece = 1 << 20;
  bool sent = true;
  for (std::size_t at = 0; sent && at < data.size(); at += k_piece) {
    const std::size_t n = std::min(k_piece, data.size() - at);
    sent = PQputCopyData(m_conn.get(), data.data() + at, static_cast<int>(n)) == 1;
  }
  // Ended either way: a COPY never ended keeps the connection in COPY_IN.
  PQputCopyEnd(m_conn.get(), sent ? nullptr : "patternd: sending the rows failed");
  // The COPY's result, then the end of results; an error is in the first.
  PgResult result(PQgetResult(m_conn.get()));
  while (PgResult more{PQgetResult(m_conn.get())}) {
    if (PQresultStatus(more.get()) == PGRES_COPY_IN) break;  // never ends: give up
  }
  checked(result.release());
}

std::optional<std::string> Connection::value(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column)) return std::nullopt;
  return std::string(PQgetvalue(result, row, column), PQgetlength(result, row, column));
}

}  // namespace patternd::store::pg
