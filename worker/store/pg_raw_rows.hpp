#pragma once
// Raw rows of one stream kind into PostgreSQL, each stored once: sorted by
// their unique key, duplicates within the batch counted without a trip to
// the server, the rest streamed by binary COPY into a staging table (a
// temporary table of the connection, emptied at each commit) and moved by
// one `INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING key, id`:
// what comes back is what was new.
//
// Measured against sending the rows as arrays expanded by unnest() (as the
// aggregates are): see the closing figures in docs/operations.md. The
// arrays remain the way of the careful pass, one row at a time.

#include <algorithm>
#include <functional>
#include <numeric>
#include <string>
#include <unordered_map>
#include <vector>

#include "pipeline/batch.hpp"
#include "pipeline/outcome.hpp"
#include "store/pg_arrays.hpp"
#include "store/pg_connection.hpp"
#include "store/pg_copy.hpp"

namespace patternd::store::pg {

// A raw row the database refused (class 22 data exception, class 23
// integrity violation): the batch is written again row by row (careful).
struct RecordRefused {};

// Whether `e` is about a value of a record rather than the database.
bool refuses_a_record(const PgError& e);

// A bytea key as RETURNING renders it: \x and lower-case hex.
std::string bytea_text(const core::Digest& digest);

struct RawColumn {
  const char* name;
  const char* type;  // text, bigint, bytea or float8 (integer columns are sent as bigint)
};

// One raw table's statements, made from its columns once.
class RawTable {
 public:
  // `key`: the unique column the conflict is on, returned with the row id.
  RawTable(std::string table, std::vector<RawColumn> columns, std::string key);

  std::size_t columns() const { return m_columns.size(); }
  // INSERT ... SELECT * FROM unnest($1::type[], ...) ON CONFLICT DO NOTHING
  // RETURNING key, id
  const std::string& arrays_insert() const { return m_arrays_insert; }
  // CREATE TEMP TABLE IF NOT EXISTS ... ON COMMIT DELETE ROWS
  const std::string& staging_table() const { return m_staging_table; }
  const std::string& copy() const { return m_copy; }  // COPY staging FROM STDIN (binary)
  // INSERT ... SELECT ... FROM staging ON CONFLICT DO NOTHING RETURNING key, id
  const std::string& staged_insert() const { return m_staged_insert; }

 private:
  std::vector<RawColumn> m_columns;
  std::string m_arrays_insert, m_staging_table, m_copy, m_staged_insert;
};

// Inserts the records of one kind, new ones only. For each record new to
// the database calls fresh(record, row id); counts persisted and duplicates
// in `topic`; a record whose text PostgreSQL cannot hold, or (careful) that
// the database refuses, goes to `rejected`. Without `careful`, a refused
// record throws RecordRefused.
// key_of(record) orders (a string_view or a digest); key_text(record) is the
// key as RETURNING renders it.
template <class Record, class KeyOf, class KeyText, class Append, class Fresh>
void insert_raw(Connection& c, const RawTable& table, const std::vector<Record>& records,
                KeyOf key_of, KeyText key_text, Append append, bool careful,
                pipeline::TopicOutcome& topic, std::vector<pipeline::Rejection>& rejected,
                Fresh fresh);

// --- implementation ------------------------------------------------------------

void reject_nul(std::uint32_t message, std::vector<pipeline::Rejection>& rejected);
void reject_refused(std::uint32_t message, const PgError& e,
                    std::vector<pipeline::Rejection>& rejected);
// Runs `sql` with one row in a savepoint: the result, or null when the
// database refused the row (the savepoint rolled back).
PgResult insert_in_savepoint(Connection& c, const std::string& sql, const Rows& row,
                             std::uint32_t message, std::vector<pipeline::Rejection>& rejected);
// Streams `rows` into the staging table and inserts what is new.
PgResult insert_staged(Connection& c, const RawTable& table, const CopyRows& rows);

template <class Record, class KeyOf, class KeyText, class Append, class Fresh>
void insert_raw(Connection& c, const RawTable& table, const std::vector<Record>& records,
                KeyOf key_of, KeyText key_text, Append append, bool careful,
                pipeline::TopicOutcome& topic, std::vector<pipeline::Rejection>& rejected,
                Fresh fresh) {
  if (records.empty()) return;
  std::vector<std::size_t> order(records.size());
  std::iota(order.begin(), order.end(), 0);
  // Stable: of records with one key, the first in the batch is the one sent.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return key_of(records[a]) < key_of(records[b]);
  });
  // Careful: each record in its own statement, duplicates in the batch too
  // (the database tells them apart), so that a record refused does not take
  // a later one with its key along.
  if (careful) {
    for (const std::size_t index : order) {
      const Record& record = records[index];
      Rows one(table.columns());
      one.begin_row();
      append(one, record);
      if (one.holds_nul()) {
        reject_nul(record.message, rejected);
        continue;
      }
      one.end_row();
      const PgResult result =
          insert_in_savepoint(c, table.arrays_insert(), one, record.message, rejected);
      if (!result) continue;  // refused: a dead letter
      if (PQntuples(result.get()) == 0) {
        ++topic.duplicates;
        continue;
      }
      ++topic.persisted;
      fresh(record, std::stoll(PQgetvalue(result.get(), 0, 1)));
    }
    return;
  }

  std::vector<std::size_t> sent;
  sent.reserve(order.size());
  CopyRows rows(table.columns());
  const Record* last_sent = nullptr;
  for (const std::size_t index : order) {
    const Record& record = records[index];
    // A later copy of a record sent: a duplicate (of one dropped, not).
    if (last_sent != nullptr && !(key_of(*last_sent) < key_of(record))) {
      ++topic.duplicates;
      continue;
    }
    rows.begin_row();
    append(rows, record);
    if (rows.holds_nul()) {
      rows.drop_row();
      reject_nul(record.message, rejected);
      continue;
    }
    rows.end_row();
    sent.push_back(index);
    last_sent = &record;
  }
  if (sent.empty()) return;

  // key text -> row id, of the rows that were new.
  std::unordered_map<std::string, std::int64_t> inserted;
  try {
    const PgResult result = insert_staged(c, table, rows);
    for (int i = 0; i < PQntuples(result.get()); ++i)
      inserted.emplace(Connection::value(result.get(), i, 0).value_or(""),
                       std::stoll(PQgetvalue(result.get(), i, 1)));
  } catch (const PgError& e) {
    if (refuses_a_record(e)) throw RecordRefused{};
    throw;
  }
  for (const std::size_t index : sent) {
    const auto row = inserted.find(key_text(records[index]));
    if (row == inserted.end()) {
      ++topic.duplicates;
      continue;
    }
    ++topic.persisted;
    fresh(records[index], row->second);
  }
}

}  // namespace patternd::store::pg
