#pragma once
// The schema migrations of schema/*.sql (SQLite) and schema/postgresql/*.sql,
// compiled in (see cmake/embed_schema.cmake). Version N brings the schema
// from N-1 to N; the two backends count their versions separately.

#include <vector>

namespace patternd::store {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

extern const std::vector<Migration> k_migrations;             // schema/*.sql (SQLite)
extern const std::vector<Migration> k_postgresql_migrations;  // schema/postgresql/*.sql

}  // namespace patternd::store
