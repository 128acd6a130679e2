#include "support/sqlite_to_postgres.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <cstdio>
#include <set>
#include <stdexcept>
#include <vector>

#include "store/pg_connection.hpp"

namespace patternd::testing {
namespace {

using store::pg::Connection;

// Every stored column of every table of the public schema (generated ones are
// the server's to compute).
constexpr const char* k_postgres_columns =
    "SELECT c.table_name, c.column_name FROM information_schema.columns c "
    "JOIN information_schema.tables t USING (table_schema, table_name) "
    "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' "
    "AND c.is_generated = 'NEVER' ORDER BY c.table_name, c.ordinal_position";
constexpr const char* k_identity_columns =
    "SELECT table_name, column_name FROM information_schema.columns "
    "WHERE table_schema = 'public' AND is_identity = 'YES'";

// At most this many values per INSERT (the protocol allows 65,535).
constexpr std::size_t k_values_per_insert = 30'000;

std::string quoted(const std::string& name) { return "\"" + name + "\""; }

std::map<std::string, std::set<std::string>> postgres_columns(Connection& pg) {
  std::map<std::string, std::set<std::string>> out;
  const auto rows = pg.query(k_postgres_columns);
  for (int i = 0; i < PQntuples(rows.get()); ++i)
    out[*Connection::value(rows.get(), i, 0)].insert(*Connection::value(rows.get(), i, 1));
  return out;
}

// The SQLite table's columns that PostgreSQL's table has too, in SQLite's order.
std::vector<std::string> common_columns(SQLite::Database& db, const std::string& table,
                                        const std::set<std::string>& postgres) {
  std::vector<std::string> out;
  SQLite::Statement q(db, "SELECT name FROM pragma_table_info(?) ORDER BY cid");
  q.bind(1, table);
  while (q.executeStep())
    if (postgres.count(q.getColumn(0).getString()) > 0) out.push_back(q.getColumn(0).getString());
  return out;
}

// A SQLite value as PostgreSQL's text input for the column (nullopt: NULL).
std::optional<std::string> text_of(const SQLite::Column& c) {
  switch (c.getType()) {
    case SQLITE_NULL:
      return std::nullopt;
    case SQLITE_INTEGER:
      return std::to_string(c.getInt64());
    case SQLITE_FLOAT: {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.17g", c.getDouble());
      return std::string(buffer);
    }
    case SQLITE_BLOB: {
      static const char* const k_digits = "0123456789abcdef";
      const auto* bytes = static_cast<const unsigned char*>(c.getBlob());
      std::string hex = "\\x";
      for (int i = 0; i < c.getBytes(); ++i) {
        hex += k_digits[bytes[i] >> 4];
        hex += k_digits[bytes[i] & 15];
      }
      return hex;
    }
    default:
      return c.getString();
  }
}

// INSERT INTO table (columns) VALUES ($1, ..), .. for `rows` rows.
std::string insert_sql(const std::string& table, const std::vector<std::string>& columns,
                       std::size_t rows) {
  std::string sql = "INSERT INTO " + quoted(table) + " (";
  for (std::size_t i = 0; i < columns.size(); ++i) sql += (i ? ", " : "") + quoted(columns[i]);
  sql += ") VALUES ";
  std::size_t n = 0;
  for (std::size_t row = 0; row < rows; ++row) {
    sql += row ? ", (" : "(";
    for (std::size_t i = 0; i < columns.size(); ++i) sql += (i ? ", $" : "$") + std::to_string(++n);
    sql += ")";
  }
  // patternd_meta already holds PostgreSQL's own schema version.
  return sql + " ON CONFLICT DO NOTHING";
}

std::int64_t copy_table(SQLite::Database& db, Connection& pg, const std::string& table,
                        const std::vector<std::string>& columns) {
  std::string select = "SELECT ";
  for (std::size_t i = 0; i < columns.size(); ++i) select += (i ? ", " : "") + quoted(columns[i]);
  SQLite::Statement rows(db, select + " FROM " + quoted(table));
  const std::size_t per_insert = std::max<std::size_t>(1, k_values_per_insert / columns.size());
  std::vector<std::optional<std::string>> values;
  std::int64_t copied = 0;
  const auto flush = [&] {
    if (values.empty()) return;
    const std::size_t n = values.size() / columns.size();
    pg.query(insert_sql(table, columns, n), values);
    copied += static_cast<std::int64_t>(n);
    values.clear();
  };
  while (rows.executeStep()) {
    for (int i = 0; i < rows.getColumnCount(); ++i) values.push_back(text_of(rows.getColumn(i)));
    if (values.size() / columns.size() == per_insert) flush();
  }
  flush();
  return copied;
}

}  // namespace

std::map<std::string, std::int64_t> copy_sqlite_to_postgres(const std::string& sqlite_path,
                                                            const std::string& postgres_uri) {
  auto connected = Connection::connect(postgres_uri);
  if (!connected) throw std::runtime_error(connected.error().message);
  Connection& pg = *connected.value();
  SQLite::Database db(sqlite_path, SQLite::OPEN_READONLY);
  const auto columns = postgres_columns(pg);

  std::map<std::string, std::int64_t> copied;
  pg.exec("BEGIN; SET LOCAL session_replication_role = replica");  // no triggers
  SQLite::Statement tables(db,
                           "SELECT name FROM sqlite_schema WHERE type = 'table' "
                           "AND name NOT LIKE 'sqlite_%' ORDER BY name");
  while (tables.executeStep()) {
    const std::string table = tables.getColumn(0).getString();
    const auto postgres = columns.find(table);
    if (postgres == columns.end()) continue;  // FTS5's tables: prompt_history.search here
    const auto common = common_columns(db, table, postgres->second);
    if (!common.empty()) copied[table] = copy_table(db, pg, table, common);
  }
  const auto identities = pg.query(k_identity_columns);
  for (int i = 0; i < PQntuples(identities.get()); ++i) {
    const std::string table = *Connection::value(identities.get(), i, 0);
    const std::string column = *Connection::value(identities.get(), i, 1);
    pg.query("SELECT setval(pg_get_serial_sequence($1, $2), max(" + quoted(column) + ")) FROM " +
                 quoted(table) + " HAVING max(" + quoted(column) + ") IS NOT NULL",
             {quoted(table), column});
  }
  pg.exec("COMMIT; ANALYZE");
  return copied;
}

}  // namespace patternd::testing
