#pragma once
// Every statement the batch writer and redetect run, prepared once per
// connection. The SQL lives here as named constants; values are always bound.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace patternd::store {

struct Statements {
  explicit Statements(SQLite::Database& db);

  // Raw rows go in under their packed key (row_keys.hpp); *_key_holder
  // probes an older generation the key directory names, and, when the
  // insert adds nothing, tells a duplicate from a collision of 44 bits of
  // hash: a colliding row goes in unkeyed, by the same insert. Parameters
  // ?1..?N are the row's values, the last one its key (NULL for a row stored
  // unkeyed).
  // While any row is stored unkeyed, *_stored_unkeyed is asked first.
  SQLite::Statement insert_workflow;
  SQLite::Statement workflow_key_holder;  // ?1 key, ?2 workflow_id: 1 if the holder is that id
  SQLite::Statement any_unkeyed_workflow;
  SQLite::Statement workflow_stored_unkeyed;  // ?1 workflow_id
  SQLite::Statement upsert_operation_pattern;
  SQLite::Statement insert_occurrence;
  SQLite::Statement upsert_pattern_day;
  SQLite::Statement insert_event;
  SQLite::Statement event_key_holder;  // ?1 key, ?2 identity: 1 if the holder has that identity
  SQLite::Statement any_unkeyed_event;
  SQLite::Statement event_stored_unkeyed;  // ?1 identity
  SQLite::Statement insert_outcome;
  SQLite::Statement outcome_key_holder;  // ?1 key, ?2 identity: 1 if the holder has that identity
  SQLite::Statement any_unkeyed_outcome;
  SQLite::Statement outcome_stored_unkeyed;  // ?1 identity
  SQLite::Statement insert_state_change;
  SQLite::Statement upsert_code_block;
  SQLite::Statement upsert_failure_pattern;
  SQLite::Statement insert_failure_agent;
  SQLite::Statement insert_failure_session;
  SQLite::Statement add_failure_members;
  SQLite::Statement
      insert_dead_letter;  // a rejection seen again keeps its row, with the newest reason
  SQLite::Statement delete_dead_letter;
  SQLite::Statement upsert_offset;
};

}  // namespace patternd::store
