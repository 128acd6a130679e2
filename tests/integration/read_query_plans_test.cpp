// Every statement the read API can issue (store::sql::every_read_statement)
// is answered from an index: no scan of a raw-row table, no sort of one. And
// the check has teeth: with any of migration 6's indexes dropped, it fails.

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "store/read_queries.hpp"
#include "support/helpers.hpp"

namespace patternd {
namespace {

// Tables whose rows grow with the traffic: one row per message, session,
// distinct code block or distinct error. Only operation_patterns (one row
// per signature the rules can make) may be read whole.
const std::set<std::string> k_growing_tables = {
    "workflow_history", "extraction_events",      "agent_sessions",
    "code_blocks",      "dead_letters",           "pattern_occurrences",
    "failure_patterns", "failure_pattern_agents", "failure_pattern_sessions"};

const std::set<std::string> k_few_values = {"event_type", "pattern", "risk_level"};

// What is wrong with the plan of `sql`, if anything: a growing table read
// whole; filtered by equality (col = :value) yet walked rather than searched
// on one of those columns; or its rows sorted for an ORDER BY.
std::vector<std::string> plan_faults(SQLite::Database& db, const std::string& sql) {
  std::vector<std::string> faults;
  // Plans name a table by its alias when it has one ("SCAN a").
  std::map<std::string, std::string> tables;
  std::string first_table;
  const std::regex from(R"((?:FROM|JOIN) (\w+)(?: (?:AS )?(\w+))?)");
  for (std::sregex_iterator it(sql.begin(), sql.end(), from), end; it != end; ++it) {
    tables[(*it)[1]] = (*it)[1];
    if ((*it)[2].matched) tables[(*it)[2]] = (*it)[1];
    if (first_table.empty()) first_table = (*it)[1];
  }
  // The columns each table is filtered on by equality with a parameter
  // (not the cursor's :key and :id: a position, not a filter), but for
  // columns of a few values (event types, patterns, risks): a filter on one
  // of those is applied while walking the time index (schema/006 says why).
  std::map<std::string, std::set<std::string>> equalities;
  const std::regex equality(R"((?:(\w+)\.)?(\w+) = :(?!key\b|id\b)\w+)");
  for (std::sregex_iterator it(sql.begin(), sql.end(), equality), end; it != end; ++it) {
    const std::string table = (*it)[1].matched ? tables[(*it)[1]] : first_table;
    if (k_few_values.count((*it)[2]) == 0) equalities[table].insert((*it)[2]);
  }
  std::map<std::string, bool> searched_on_equality;
  SQLite::Statement plan(db, "EXPLAIN QUERY PLAN " + sql);
  const std::regex access(R"((SCAN|SEARCH) (\w+)( AS \w+)?(.*))");
  while (plan.executeStep()) {
    const std::string detail = plan.getColumn(3).getString();
    std::smatch m;
    if (std::regex_match(detail, m, access)) {
      const std::string name = tables.count(m[2]) ? tables[m[2]] : m[2].str();
      if (k_growing_tables.count(name) != 0) {
        if (m[1] == "SCAN" && m[4].str().find("USING") == std::string::npos)
          faults.push_back("reads all of " + name + ": " + detail);
        for (const auto& column : equalities[name])
          if (m[1] == "SEARCH" && detail.find(column + "=?") != std::string::npos)
            searched_on_equality[name] = true;
      }
    }
    // (The agents' walk sorts the names it found, at most two pages of them.)
    if (detail.find("TEMP B-TREE FOR ORDER BY") != std::string::npos &&
        sql.find("GROUP BY") == std::string::npos) {
      for (const auto& table : {"FROM extraction_events", "FROM agent_sessions", "FROM code_blocks",
                                "FROM failure_patterns f WHERE"})
        if (sql.find(table) != std::string::npos)
          faults.push_back(std::string("sorts rows ") + table + ": " + detail);
    }
  }
  for (const auto& [table, columns] : equalities)
    if (k_growing_tables.count(table) != 0 && !columns.empty() && !searched_on_equality[table])
      faults.push_back("filters " + table + " by equality but searches none of those columns");
  return faults;
}

std::vector<std::string> all_faults(SQLite::Database& db) {
  std::vector<std::string> out;
  for (const auto& sql : store::sql::every_read_statement())
    for (const auto& f : plan_faults(db, sql)) out.push_back(f + "\n  in: " + sql);
  return out;
}

class ReadQueryPlans : public ::testing::Test {
 protected:
  void SetUp() override {
    m_config = testing::write_config(m_dir);
    const auto r = testing::run_patternd({"migrate", "--config", m_config});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  testing::TempDir m_dir;
  std::string m_config;
};

TEST_F(ReadQueryPlans, EveryReadStatementUsesAnIndexAndNeverScansOrSortsARawTable) {
  SQLite::Database db(m_dir.file("patternd.db"), SQLite::OPEN_READONLY);
  const auto statements = store::sql::every_read_statement();
  EXPECT_GT(statements.size(), 700u);
  for (const auto& fault : all_faults(db)) ADD_FAILURE() << fault;
}

TEST_F(ReadQueryPlans, DroppingAnyReadIndexMakesSomeStatementFail) {
  std::vector<std::string> indexes;
  {
    SQLite::Database db(m_dir.file("patternd.db"), SQLite::OPEN_READONLY);
    const std::string schema =
        testing::read_file(testing::source_path("schema/006_read_api_indexes.sql"));
    const std::regex create(R"(CREATE INDEX (\w+))");
    for (std::sregex_iterator it(schema.begin(), schema.end(), create), end; it != end; ++it)
      indexes.push_back((*it)[1]);
  }
  ASSERT_EQ(indexes.size(), 9u);
  for (const auto& index : indexes) {
    SQLite::Database db(m_dir.file("patternd.db"), SQLite::OPEN_READWRITE);
    SQLite::Transaction transaction(db);
    db.exec("DROP INDEX " + index);
    EXPECT_FALSE(all_faults(db).empty()) << "nothing needs " << index;
    // rolled back at the end of the scope
  }
}

}  // namespace
}  // namespace patternd
