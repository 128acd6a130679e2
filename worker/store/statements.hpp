#pragma once
// Every statement the batch writer and redetect run, prepared once per
// connection. The SQL lives here as named constants; values are always bound.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace patternd::store {

struct Statements {
  explicit Statements(SQLite::Database& db);

  SQLite::Statement insert_workflow;
  SQLite::Statement upsert_operation_pattern;
  SQLite::Statement insert_occurrence;
  SQLite::Statement upsert_pattern_day;
  SQLite::Statement insert_event;
  SQLite::Statement upsert_session;
  SQLite::Statement upsert_code_block;
  SQLite::Statement upsert_failure_pattern;
  SQLite::Statement insert_failure_agent;
  SQLite::Statement insert_failure_session;
  SQLite::Statement add_failure_members;
  SQLite::Statement insert_dead_letter;  // a rejection seen again keeps its row, with the newest reason
  SQLite::Statement delete_dead_letter;
  SQLite::Statement upsert_offset;
};

}  // namespace patternd::store
