#include "support/test_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <thread>

namespace patternd::testing {
namespace {

struct ConnFinish {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultClear {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Conn = std::unique_ptr<PGconn, ConnFinish>;
using Result = std::unique_ptr<PGresult, ResultClear>;

Conn connect(const std::string& uri) {
  Conn conn(PQconnectdb(uri.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("cannot connect to " + uri + ": " + PQerrorMessage(conn.get()));
  return conn;
}

Result run(PGconn* conn, const std::string& sql) {
  Result result(PQexec(conn, sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    throw std::runtime_error(sql + ": " + PQresultErrorMessage(result.get()));
  return result;
}

class SqliteTestStore final : public TestStore {
 public:
  explicit SqliteTestStore(std::string path) : m_path(std::move(path)) {}
  std::string backend() const override { return "sqlite"; }
  // write_config() stores in its directory's patternd.db already.
  std::string config_yaml() const override { return ""; }
  std::string location() const override { return m_path; }
  std::int64_t covered() const override { return testing::covered(m_path); }
  std::map<std::pair<std::string, int>, std::int64_t> stored_offsets() const override {
    std::map<std::pair<std::string, int>, std::int64_t> offsets;
    try {
      SQLite::Database db(m_path, SQLite::OPEN_READONLY);
      SQLite::Statement q(db, "SELECT topic, partition, next_offset FROM kafka_offsets");
      while (q.executeStep())
        offsets[{q.getColumn(0).getString(), q.getColumn(1).getInt()}] = q.getColumn(2).getInt64();
    } catch (const SQLite::Exception&) {
    }
    return offsets;
  }
  std::int64_t count(const std::string& table) const override {
    SQLite::Database db(m_path, SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT count(*) FROM \"" + table + "\"").getInt64();
  }
  std::string sqlite_copy() const override { return m_path; }
  std::unique_ptr<Lock> hold_write_lock() const override {
    struct Held : Lock {
      explicit Held(const std::string& path) : db(path, SQLite::OPEN_READWRITE) {
        db.setBusyTimeout(10000);  // a worker may be mid-transaction
        db.exec("BEGIN IMMEDIATE");
      }
      ~Held() override { db.exec("ROLLBACK"); }
      SQLite::Database db;
    };
    return std::make_unique<Held>(m_path);
  }

 private:
  std::string m_path;
};

class PostgresTestStore final : public TestStore {
 public:
  PostgresTestStore(PostgresServer& server, const std::string& name, const TempDir& scratch)
      : m_uri(server.create_database(name)), m_scratch(scratch) {}
  std::string backend() const override { return "postgresql"; }
  std::string config_yaml() const override {
    return "storage:\n  type: postgresql\n  uri: \"" + m_uri + "\"\n";
  }
  std::string location() const override { return m_uri; }
  std::int64_t covered() const override {
    try {
      const Conn conn = connect(m_uri);
      const Result r = run(conn.get(), "SELECT coalesce(sum(next_offset), 0) FROM kafka_offsets");
      return std::stoll(PQgetvalue(r.get(), 0, 0));
    } catch (const std::runtime_error&) {
      return 0;  // not migrated yet
    }
  }
  std::map<std::pair<std::string, int>, std::int64_t> stored_offsets() const override {
    std::map<std::pair<std::string, int>, std::int64_t> offsets;
    try {
      const Conn conn = connect(m_uri);
      const Result r = run(conn.get(), "SELECT topic, partition, next_offset FROM kafka_offsets");
      for (int i = 0; i < PQntuples(r.get()); ++i)
        offsets[{PQgetvalue(r.get(), i, 0), std::stoi(PQgetvalue(r.get(), i, 1))}] =
            std::stoll(PQgetvalue(r.get(), i, 2));
    } catch (const std::runtime_error&) {
    }
    return offsets;
  }
  std::int64_t count(const std::string& table) const override {
    const Conn conn = connect(m_uri);
    return std::stoll(
        PQgetvalue(run(conn.get(), "SELECT count(*) FROM \"" + table + "\"").get(), 0, 0));
  }
  std::string sqlite_copy() const override {
    static std::atomic<int> copies{0};
    const std::string path = m_scratch.file("copy" + std::to_string(++copies) + ".db");
    copy_postgres_to_sqlite(m_uri, path);
    return path;
  }
  std::unique_ptr<Lock> hold_write_lock() const override {
    struct Held : Lock {
      explicit Held(const std::string& uri) : conn(connect(uri)) {
        run(conn.get(), "BEGIN");
        run(conn.get(), "LOCK TABLE kafka_offsets IN EXCLUSIVE MODE");
      }
      ~Held() override { Result(PQexec(conn.get(), "ROLLBACK")); }
      Conn conn;
    };
    return std::make_unique<Held>(m_uri);
  }
  const std::string& uri() const { return m_uri; }

 private:
  std::string m_uri;
  const TempDir& m_scratch;
};

std::string hex_to_bytes(const char* text, int length) {
  // \x then two hex digits per byte.
  std::string bytes;
  bytes.reserve(static_cast<std::size_t>(length) / 2);
  for (int i = 2; i + 1 < length; i += 2)
    bytes.push_back(static_cast<char>(std::stoi(std::string(text + i, 2), nullptr, 16)));
  return bytes;
}

constexpr unsigned k_bytea_oid = 17;

}  // namespace

bool TestStore::wait_for_coverage(std::int64_t at_least, int timeout_s, int poll_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (covered() >= at_least) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
  return false;
}

std::unique_ptr<TestStore> sqlite_store(const std::string& path) {
  return std::make_unique<SqliteTestStore>(path);
}

std::unique_ptr<TestStore> postgres_store(PostgresServer& server, const std::string& name,
                                          const TempDir& scratch) {
  return std::make_unique<PostgresTestStore>(server, name, scratch);
}

std::vector<std::string> backend_names() { return {"sqlite", "postgresql"}; }

std::unique_ptr<TestStore> store_for(const std::string& backend, const TempDir& dir,
                                     const std::string& prefix) {
  if (backend == "sqlite") return sqlite_store(dir.file("patternd.db"));
  static std::atomic<int> databases{0};
  return postgres_store(shared_postgres(), prefix + std::to_string(++databases), dir);
}

void copy_postgres_to_sqlite(const std::string& uri, const std::string& sqlite_path) {
  {
    TempDir dir;
    const std::string config = dir.file("copy.yaml");
    write_file(config, "storage:\n  path: " + sqlite_path + "\n");
    const auto migrated = run_patternd({"migrate", "--config", config});
    if (migrated.exit_code != 0) throw std::runtime_error("migrate: " + migrated.err);
  }
  SQLite::Database db(sqlite_path, SQLite::OPEN_READWRITE);
  const Conn conn = connect(uri);
  SQLite::Transaction txn(db);
  // prompt_history's triggers fill the full-text index and the latency
  // counts; the counts are then replaced by the server's own.
  std::vector<std::string> tables;
  for (const auto& table : table_names(sqlite_path))
    if (table.rfind("prompt_search", 0) != 0 && table != "prompt_latency_counts")
      tables.push_back(table);
  tables.push_back("prompt_latency_counts");
  for (const auto& table : tables) {
    std::vector<std::string> columns;
    {
      SQLite::Statement q(db, "SELECT name FROM pragma_table_info(?) ORDER BY cid");
      q.bind(1, table);
      const Result pg = run(conn.get(),
                            "SELECT column_name FROM information_schema.columns WHERE "
                            "table_schema = 'public' AND table_name = '" +
                                table + "'");
      std::set<std::string> in_postgres;
      for (int i = 0; i < PQntuples(pg.get()); ++i) in_postgres.insert(PQgetvalue(pg.get(), i, 0));
      while (q.executeStep())
        if (in_postgres.count(q.getColumn(0).getString()))
          columns.push_back(q.getColumn(0).getString());
    }
    if (columns.empty()) continue;
    std::string list, marks;
    for (const auto& column : columns) {
      list += (list.empty() ? "\"" : ", \"") + column + "\"";
      marks += marks.empty() ? "?" : ", ?";
    }
    // The schema version is each backend's own: the SQLite copy keeps its.
    const bool meta = table == "patternd_meta";
    db.exec("DELETE FROM \"" + table + "\"" +
            (meta ? " WHERE key <> 'schema_version'" : ""));  // the triggers' counts
    SQLite::Statement insert(db,
                             "INSERT INTO \"" + table + "\" (" + list + ") VALUES (" + marks + ")");
    const Result rows = run(conn.get(), "SELECT " + list + " FROM \"" + table + "\"" +
                                            (meta ? " WHERE key <> 'schema_version'" : ""));
    for (int r = 0; r < PQntuples(rows.get()); ++r) {
      for (int c = 0; c < PQnfields(rows.get()); ++c) {
        if (PQgetisnull(rows.get(), r, c))
          insert.bind(c + 1);
        else if (PQftype(rows.get(), c) == k_bytea_oid) {
          const std::string bytes =
              hex_to_bytes(PQgetvalue(rows.get(), r, c), PQgetlength(rows.get(), r, c));
          insert.bind(c + 1, bytes.data(), static_cast<int>(bytes.size()));
        } else {
          insert.bind(c + 1, std::string(PQgetvalue(rows.get(), r, c)));
        }
      }
      insert.exec();
      insert.reset();
    }
  }
  txn.commit();
}

PostgresServer& shared_postgres() {
  static PostgresServer server;
  return server;
}

}  // namespace patternd::testing
