#pragma once
// The schema migrations of schema/*.sql, compiled in (see
// cmake/embed_schema.cmake). Version N brings the schema from N-1 to N.

#include <vector>

namespace patternd::store {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

extern const std::vector<Migration> k_migrations;

}  // namespace patternd::store
