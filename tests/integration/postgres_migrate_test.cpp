// `patternd migrate` and `check-config` against a real PostgreSQL (a
// throwaway server, tests/support/postgres.hpp).

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <map>
#include <memory>

#include "support/helpers.hpp"
#include "support/postgres.hpp"

namespace patternd {
namespace {

using testing::PostgresServer;

class PostgresMigrate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      s_server = std::make_unique<PostgresServer>();
    } catch (const std::exception& e) {
      s_error = e.what();
    }
  }
  static void TearDownTestSuite() { s_server.reset(); }
  void SetUp() override { ASSERT_TRUE(s_server) << "the test server did not start: " << s_error; }

  // A config for `uri`, everything else as write_config gives it.
  std::string config_for(const std::string& uri, const std::string& name = "pg.yaml") {
    const std::string path = m_dir.file(name);
    testing::write_file(path,
                        // storage.path too: a command that took this config for SQLite's
                        // would write there, not into the working directory.
                        "storage:\n  type: postgresql\n  path: " + m_dir.file("unused.db") +
                            "\n  uri: \"" + uri +
                            "\"\nretention:\n  days: 0\ndetection:\n  rules: " +
                            testing::source_path("config/patterns.yaml") +
                            "\nmetrics:\n  listen: 127.0.0.1:0\napi:\n  listen: 127.0.0.1:0\n");
    return path;
  }

  PostgresServer& server() { return *s_server; }

  static std::unique_ptr<PostgresServer> s_server;
  static std::string s_error;
  testing::TempDir m_dir;
};

std::unique_ptr<PostgresServer> PostgresMigrate::s_server;
std::string PostgresMigrate::s_error;

// Every column of every table of a fresh SQLite database at the latest
// schema, in order. FTS5's prompt_search (a virtual table and its shadow
// tables) is a column of prompt_history in PostgreSQL instead.
std::map<std::string, std::vector<std::string>> sqlite_columns(const testing::TempDir& dir) {
  const std::string config = testing::write_config(dir, "sqlite.yaml");
  const auto migrated = testing::run_patternd({"migrate", "--config", config});
  EXPECT_EQ(migrated.exit_code, 0) << migrated.err;
  SQLite::Database db(dir.file("patternd.db"), SQLite::OPEN_READONLY);
  std::map<std::string, std::vector<std::string>> columns;
  for (const auto& table : testing::table_names(dir.file("patternd.db"))) {
    if (table.rfind("prompt_search", 0) == 0) continue;
    SQLite::Statement q(db, "SELECT name FROM pragma_table_info(?) ORDER BY cid");
    q.bind(1, table);
    while (q.executeStep()) columns[table].push_back(q.getColumn(0).getString());
  }
  return columns;
}

std::map<std::string, std::vector<std::string>> postgres_columns(PostgresServer& server,
                                                                 const std::string& database) {
  std::map<std::string, std::vector<std::string>> columns;
  for (const auto& row : server.query(database,
                                      "SELECT c.table_name, c.column_name "
                                      "FROM information_schema.columns c "
                                      "JOIN information_schema.tables t USING (table_schema, "
                                      "table_name) WHERE c.table_schema = 'public' "
                                      "AND t.table_type = 'BASE TABLE' "
                                      "ORDER BY c.table_name, c.ordinal_position"))
    columns[row[0]].push_back(row[1]);
  return columns;
}

std::string type_of(PostgresServer& server, const std::string& database, const std::string& table,
                    const std::string& column) {
  const auto rows = server.query(database,
                                 "SELECT data_type || ' ' || is_nullable || ' ' || is_identity "
                                 "FROM information_schema.columns WHERE table_schema = 'public' "
                                 "AND table_name = '" +
                                     table + "' AND column_name = '" + column + "'");
  return rows.empty() ? "missing" : rows[0][0];
}

TEST_F(PostgresMigrate, MigrateCreatesEveryTableAndColumnOfTheSqliteSchema) {
  const std::string uri = server().create_database("tables");
  const auto migrated = testing::run_patternd({"migrate", "--config", config_for(uri)});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
  EXPECT_EQ(migrated.out, uri + ": schema migrated from version 0 to 3\n");

  auto expected = sqlite_columns(m_dir);
  // SQLite's packed keys (store/row_keys) are not PostgreSQL's: raw rows
  // there are unique by their identity itself (schema/postgresql/002).
  for (const auto& [table, key] : {std::pair{"workflow_history", "workflow_key"},
                                   {"extraction_events", "identity_key"},
                                   {"outcomes", "identity_key"}}) {
    auto& columns = expected[table];
    columns.erase(std::find(columns.begin(), columns.end(), key));
  }
  expected["prompt_history"].push_back("search");  // prompt_search, as a tsvector
  expected["patternd_migrations"] = {"version", "name", "applied_at", "applied_by"};
  const auto actual = postgres_columns(server(), "tables");
  std::vector<std::string> expected_tables, actual_tables;
  for (const auto& [table, _] : expected) expected_tables.push_back(table);
  for (const auto& [table, _] : actual) actual_tables.push_back(table);
  ASSERT_EQ(actual_tables, expected_tables);
  for (const auto& [table, columns] : expected) EXPECT_EQ(actual.at(table), columns) << table;

  // Every index SQLite's reads use, by the same name (the FTS5 index is
  // prompt_history_search, a GIN index, in PostgreSQL).
  std::vector<std::string> sqlite_indexes, postgres_indexes;
  {
    SQLite::Database db(m_dir.file("patternd.db"), SQLite::OPEN_READONLY);
    SQLite::Statement q(db,
                        "SELECT name FROM sqlite_schema WHERE type = 'index' "
                        "AND sql IS NOT NULL ORDER BY name");
    while (q.executeStep()) sqlite_indexes.push_back(q.getColumn(0).getString());
  }
  sqlite_indexes.push_back("prompt_history_search");
  for (const char* packed :
       {"workflow_history_key", "workflow_history_unkeyed", "extraction_events_key",
        "extraction_events_unkeyed", "outcomes_key", "outcomes_unkeyed"})
    std::erase(sqlite_indexes, packed);
  std::sort(sqlite_indexes.begin(), sqlite_indexes.end());
  for (const auto& row :
       server().query("tables",
                      "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
                      // not those of PRIMARY KEY and UNIQUE constraints
                      "AND indexname NOT IN (SELECT conname FROM pg_constraint) "
                      "ORDER BY indexname"))
    postgres_indexes.push_back(row[0]);
  std::sort(postgres_indexes.begin(), postgres_indexes.end());
  EXPECT_EQ(postgres_indexes, sqlite_indexes);

  // The translation of types, spot-checked.
  EXPECT_EQ(type_of(server(), "tables", "workflow_history", "id"), "bigint NO YES");
  EXPECT_EQ(type_of(server(), "tables", "code_blocks", "digest"), "bytea NO NO");
  EXPECT_EQ(type_of(server(), "tables", "failure_fixes", "confidence"), "double precision NO NO");
  EXPECT_EQ(type_of(server(), "tables", "dead_letters", "offset"), "bigint NO NO");
  EXPECT_EQ(type_of(server(), "tables", "prompt_history", "search"), "tsvector YES NO");
  EXPECT_EQ(server().query("tables", "SELECT count(*) FROM operation_pattern_stats")[0][0], "0");
  EXPECT_EQ(server().query("tables",
                           "SELECT value FROM patternd_meta "
                           "WHERE key = 'schema_version'")[0][0],
            "3");
  // A check kept: an identity must be a 32-byte digest.
  EXPECT_THROW(server().query("tables",
                              "INSERT INTO session_state_changes "
                              "(identity, session_id, agent_name, state, event_time) "
                              "VALUES ('\\x00', 's', 'a', 'started', 1)"),
               std::runtime_error);
}

TEST_F(PostgresMigrate, TheSearchColumnAndTheLatencyCountsFollowInsertsAndDeletes) {
  const std::string uri = server().create_database("prompts");
  ASSERT_EQ(testing::run_patternd({"migrate", "--config", config_for(uri)}).exit_code, 0);
  const std::string insert =
      "INSERT INTO prompt_history (identity, created_at, original_idea, context, "
      "improved_prompt, role, directive, framework, guardrails, backend, latency_ms) VALUES ";
  server().query("prompts", insert +
                                "(decode(repeat('ab', 32), 'hex'), 1, 'Fix the flaky pytest', "
                                "'', 'Stabilise it', 'r', 'd', 'f', 'g', 'claude', 120), "
                                "(decode(repeat('cd', 32), 'hex'), 2, 'Write docs', 'ctx', "
                                "'Explain it', 'r', 'd', 'f', 'g', 'claude', 120)");
  EXPECT_EQ(server().query("prompts",
                           "SELECT original_idea FROM prompt_history "
                           "WHERE search @@ plainto_tsquery('simple', 'PYTEST')"),
            (std::vector<std::vector<std::string>>{{"Fix the flaky pytest"}}));
  const std::string counts = "SELECT backend, latency_ms, prompts FROM prompt_latency_counts";
  EXPECT_EQ(server().query("prompts", counts),
            (std::vector<std::vector<std::string>>{{"claude", "120", "2"}}));
  server().query("prompts", "DELETE FROM prompt_history WHERE created_at = 1");
  EXPECT_EQ(server().query("prompts", counts),
            (std::vector<std::vector<std::string>>{{"claude", "120", "1"}}));
  server().query("prompts", "DELETE FROM prompt_history");
  EXPECT_TRUE(server().query("prompts", counts).empty());
}

TEST_F(PostgresMigrate, MigratingAgainReportsUpToDate) {
  const std::string config = config_for(server().create_database("again"));
  ASSERT_EQ(testing::run_patternd({"migrate", "--config", config}).exit_code, 0);
  const auto again = testing::run_patternd({"migrate", "--config", config});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(": schema is at version 3 (up to date)"), std::string::npos)
      << again.out;
  EXPECT_EQ(server().query("again", "SELECT count(*) FROM patternd_migrations")[0][0], "3");
}

TEST_F(PostgresMigrate, TwoMigratesStartedTogetherBothSucceedAndMigrateOnce) {
  for (int round = 0; round < 3; ++round) {
    const std::string database = "together" + std::to_string(round);
    const std::string config = config_for(server().create_database(database));
    auto migrate = [&config] { return testing::run_patternd({"migrate", "--config", config}); };
    auto first = std::async(std::launch::async, migrate);
    auto second = std::async(std::launch::async, migrate);
    const auto a = first.get();
    const auto b = second.get();
    EXPECT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(b.exit_code, 0) << b.err;
    const std::string outputs = a.out + b.out;
    EXPECT_EQ(std::count(outputs.begin(), outputs.end(), '\n'), 2) << outputs;
    // Exactly one of them applied the migration; the other found it done.
    const auto applied = outputs.find("migrated from version 0 to 3");
    EXPECT_NE(applied, std::string::npos) << outputs;
    EXPECT_EQ(outputs.find("migrated from", applied + 1), std::string::npos) << outputs;
    EXPECT_NE(outputs.find("(up to date)"), std::string::npos) << outputs;
    EXPECT_EQ(server().query(database,
                             "SELECT version, count(*) FROM patternd_migrations "
                             "GROUP BY version ORDER BY version"),
              (std::vector<std::vector<std::string>>{{"1", "1"}, {"2", "1"}, {"3", "1"}}));
  }
}

TEST_F(PostgresMigrate, ADatabaseWithOtherTablesIsNotTouched) {
  server().create_database("foreign_db");
  server().query("foreign_db", "CREATE TABLE customers (id integer)");
  const auto r =
      testing::run_patternd({"migrate", "--config", config_for(server().uri("foreign_db"))});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a patternd database"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"customers\""), std::string::npos) << r.err;
  EXPECT_EQ(server().query("foreign_db",
                           "SELECT count(*) FROM information_schema.tables "
                           "WHERE table_schema = 'public'")[0][0],
            "1");
}

// An operator may install extensions first (pg_stat_statements brings its
// views into the schema): they are not another application's tables.
TEST_F(PostgresMigrate, ADatabaseWithAnExtensionInstalledFirstIsMigrated) {
  const std::string uri = server().create_database("with_extension");
  server().query("with_extension", "CREATE EXTENSION pg_stat_statements");
  const auto r = testing::run_patternd({"migrate", "--config", config_for(uri)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("migrated from version 0"), std::string::npos) << r.out;
}

TEST_F(PostgresMigrate, CheckConfigShowsTheUriWithItsPasswordMasked) {
  const std::string config =
      config_for("postgresql://patternd:s3cr%40t:pw@db.example:5432/patternd?sslmode=require");
  const auto r = testing::run_patternd({"check-config", config});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("type: postgresql"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("uri: postgresql://patternd:***@db.example:5432/patternd?sslmode=require\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("s3cr"), std::string::npos) << r.out;
}

TEST_F(PostgresMigrate, AWrongPasswordIsRefusedClearlyAndNeverShown) {
  server().create_role("writer", "right-password");
  server().query("postgres", "CREATE DATABASE owned OWNER writer");
  const std::string base = "postgresql://writer:";
  const std::string where = "@/owned?host=" + server().socket_dir();
  const auto wrong =
      testing::run_patternd({"migrate", "--config", config_for(base + "wr%40ng-secret" + where)});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("cannot connect to PostgreSQL"), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("password authentication failed"), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("postgresql://writer:***@/owned"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find("ng-secret"), std::string::npos) << wrong.err;
  // The right one migrates.
  const auto right =
      testing::run_patternd({"migrate", "--config", config_for(base + "right-password" + where)});
  EXPECT_EQ(right.exit_code, 0) << right.err;
  EXPECT_EQ(right.out.find("right-password"), std::string::npos) << right.out;
}

// A working store shows where it is with the password masked: /v1/health
// (here through `query`) and what ingest and report print.
TEST_F(PostgresMigrate, HealthAndEveryOutputShowTheUriWithItsPasswordMasked) {
  server().create_role("owner2", "hunter2-secret");
  server().query("postgres", "CREATE DATABASE masked OWNER owner2");
  const std::string config =
      config_for("postgresql://owner2:hunter2-secret@/masked?host=" + server().socket_dir());
  const std::string input = m_dir.file("wf.jsonl");
  ASSERT_EQ(testing::run_patternd({"produce", "--kind", "workflows", "--count", "50", "--seed", "3",
                                   "--invalid", "0.1", "--output", input})
                .exit_code,
            0);
  const auto ingest =
      testing::run_patternd({"ingest", input, "--config", config, "--topic", "workflows"});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  const auto health = testing::run_patternd({"query", "health", "--config", config});
  ASSERT_EQ(health.exit_code, 0) << health.err;
  EXPECT_NE(health.out.find("backend: postgresql"), std::string::npos) << health.out;
  EXPECT_NE(health.out.find("database: postgresql://owner2:***@/masked"), std::string::npos)
      << health.out;
  const auto report = testing::run_patternd({"report", "--config", config});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  for (const auto* r : {&ingest, &health, &report})
    EXPECT_EQ((r->out + r->err).find("hunter2"), std::string::npos) << r->out << r->err;
}

TEST_F(PostgresMigrate, AnUnreachableServerIsAClearErrorWithoutThePassword) {
  // Port 1 on loopback: refused at once.
  const auto refused = testing::run_patternd(
      {"migrate", "--config",
       config_for("postgresql://u:hunter2-secret@127.0.0.1:1/patternd?connect_timeout=5")});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("postgresql://u:***@127.0.0.1:1/patternd"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("cannot connect to PostgreSQL"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("Connection refused"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find("hunter2"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace patternd
