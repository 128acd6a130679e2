// The PostgreSQL reader (store/pg_reader.hpp) and report (store/pg_report.hpp)
// against the SQLite ones on the same data: a mixed data set ingested into
// SQLite by `patternd ingest`, copied row for row into a throwaway
// PostgreSQL (tests/support/sqlite_to_postgres.hpp), then every Reader method
// asked the same questions of both, page after page, and the answers compared
// field by field. Then what only PostgreSQL can do to a read: a statement
// cut short by statement_timeout, and a connection the server terminated.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <variant>

#include "store/pg_connection.hpp"
#include "store/pg_read_prompts.hpp"
#include "store/pg_reader.hpp"
#include "store/pg_report.hpp"
#include "store/pg_schema.hpp"
#include "store/reader.hpp"
#include "store/store.hpp"
#include "support/helpers.hpp"
#include "support/postgres.hpp"
#include "support/sqlite_to_postgres.hpp"

namespace patternd {
namespace {

using store::Position;
using testing::PostgresServer;

// --- rows as lists of named fields, compared with a tolerance on doubles -------

using Value = std::variant<std::monostate, std::int64_t, double, std::string>;
using Fields = std::vector<std::pair<std::string, Value>>;

void put(Fields& f, const std::string& name, std::int64_t v) { f.emplace_back(name, v); }
void put(Fields& f, const std::string& name, int v) { f.emplace_back(name, std::int64_t{v}); }
void put(Fields& f, const std::string& name, bool v) { f.emplace_back(name, std::int64_t{v}); }
void put(Fields& f, const std::string& name, double v) { f.emplace_back(name, v); }
void put(Fields& f, const std::string& name, const std::string& v) { f.emplace_back(name, v); }
void put(Fields& f, const std::string& name, const core::Digest& v) {
  f.emplace_back(name, core::to_hex(v));
}
template <typename T>
void put(Fields& f, const std::string& name, const std::optional<T>& v) {
  if (v)
    put(f, name, *v);
  else
    f.emplace_back(name, std::monostate{});
}
template <typename A, typename B>
void put(Fields& f, const std::string& name, const std::vector<std::pair<A, B>>& pairs) {
  put(f, name + ".size", static_cast<std::int64_t>(pairs.size()));
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    put(f, name + "[" + std::to_string(i) + "].first", pairs[i].first);
    put(f, name + "[" + std::to_string(i) + "].second", pairs[i].second);
  }
}

#define PUT(field) put(f, #field, r.field)

void put(Fields& f, const std::string& prefix, const store::OperationPatternStats& r) {
  for (const auto& [name, v] : std::initializer_list<std::pair<const char*, Value>>{
           {"signature", r.signature},
           {"category", r.category},
           {"tool", r.tool},
           {"target", r.target},
           {"occurrences", r.occurrences},
           {"successes", r.successes},
           {"runs_last_30_days", r.runs_last_30_days},
           {"avg_tokens", r.avg_tokens},
           {"avg_cost_usd", r.avg_cost_usd},
           {"tool_cost_usd", r.tool_cost_usd},
           {"savings_per_run_usd", r.savings_per_run_usd},
           {"savings_last_30_days_usd", r.savings_last_30_days_usd},
           {"avg_duration_seconds", r.avg_duration_seconds},
           {"confidence", r.confidence},
           {"first_seen", r.first_seen},
           {"last_seen", r.last_seen}})
    f.emplace_back(prefix + name, v);
}
void put(Fields& f, const std::string& prefix, const store::FailureStats& r) {
  for (const auto& [name, v] :
       std::initializer_list<std::pair<const char*, Value>>{{"signature", r.signature},
                                                            {"error_type", r.error_type},
                                                            {"example", r.example},
                                                            {"frequency", r.frequency},
                                                            {"agent_count", r.agent_count},
                                                            {"session_count", r.session_count},
                                                            {"first_seen", r.first_seen},
                                                            {"last_seen", r.last_seen}})
    f.emplace_back(prefix + name, v);
}
void put(Fields& f, const std::string& prefix, const store::OutcomeFigures& r) {
  put(f, prefix + "attempts", r.attempts);
  put(f, prefix + "successes", r.successes);
  put(f, prefix + "success_rate", r.success_rate);
  put(f, prefix + "confidence", r.confidence);
  put(f, prefix + "mean_duration_ms", r.mean_duration_ms);
  put(f, prefix + "first_seen", r.first_seen);
  put(f, prefix + "last_seen", r.last_seen);
}

Fields fields(const store::PatternRow& r) {
  Fields f;
  PUT(id);
  PUT(success_rate);
  put(f, "stats.", r.stats);
  return f;
}
Fields fields(const store::PatternDetail& r) {
  Fields f = fields(r.pattern);
  PUT(runs_per_day);
  return f;
}
Fields fields(const store::FailureRow& r) {
  Fields f;
  PUT(id);
  put(f, "stats.", r.stats);
  return f;
}
Fields fields(const store::FixRow& r) {
  Fields f;
  PUT(id), PUT(signature), PUT(pattern), PUT(error_type), PUT(fix_example), PUT(agent_count);
  put(f, "figures.", r.figures);
  return f;
}
Fields fields(const store::OutcomeStatsRow& r) {
  Fields f;
  PUT(pattern), PUT(agent_count);
  put(f, "figures.", r.figures);
  return f;
}
Fields fields(const store::ExtractionRow& r) {
  Fields f;
  PUT(id), PUT(identity), PUT(event_id), PUT(agent), PUT(session_id), PUT(type), PUT(time);
  PUT(pattern), PUT(matched_value), PUT(original_line), PUT(risk_level), PUT(metadata);
  PUT(line_number), PUT(auto_confirmable);
  put(f, "code", r.code.has_value());
  if (r.code) {
    put(f, "code.digest", r.code->digest);
    put(f, "code.line_start", r.code->line_start);
    put(f, "code.line_end", r.code->line_end);
    put(f, "code.parseable", r.code->parseable);
  }
  return f;
}
Fields fields(const store::SessionRow& r) {
  Fields f;
  PUT(id), PUT(session_id), PUT(agent), PUT(first_event), PUT(last_event), PUT(event_count);
  PUT(error_count), PUT(feedback_outcomes), PUT(state_changes), PUT(started_at), PUT(ended_at);
  PUT(exit_code), PUT(lines_processed), PUT(state), PUT(end_state), PUT(environment);
  PUT(stdout_log_path), PUT(stderr_log_path), PUT(extraction_config_version);
  PUT(environment_config_version);
  return f;
}
Fields fields(const store::StateChange& r) {
  Fields f;
  PUT(id), PUT(session_id), PUT(agent), PUT(state), PUT(time), PUT(exit_code);
  PUT(lines_processed), PUT(environment), PUT(metadata), PUT(stdout_log_path);
  PUT(stderr_log_path), PUT(extraction_config_version), PUT(environment_config_version);
  return f;
}
Fields fields(const store::SessionDetail& r) {
  Fields f = fields(r.session);
  PUT(events_by_type);
  put(f, "state_changes.size", static_cast<std::int64_t>(r.state_changes.size()));
  for (const auto& change : r.state_changes)
    for (auto& field : fields(change)) f.push_back(field);
  return f;
}
Fields fields(const store::StoredSession& r) {
  Fields f = fields(r.session);
  PUT(events), PUT(state_changes);
  return f;
}
Fields fields(const store::CodeBlockRow& r) {
  Fields f;
  PUT(id), PUT(digest), PUT(language), PUT(content), PUT(times_seen), PUT(first_seen);
  PUT(last_seen);
  return f;
}
Fields fields(const store::AgentRow& r) {
  Fields f;
  PUT(agent), PUT(sessions), PUT(workflows), PUT(extractions), PUT(outcomes), PUT(first_seen);
  PUT(last_seen);
  return f;
}
Fields fields(const store::AgentStats& r) {
  Fields f = fields(r.agent);
  PUT(workflow_successes), PUT(total_tokens), PUT(cost_micros), PUT(extractions_by_type);
  put(f, "outcomes.", r.outcomes);
  for (const auto& failure : r.top_failures)
    for (auto& field : fields(failure)) f.push_back(field);
  return f;
}
Fields fields(const store::TimelineBucket& r) {
  Fields f;
  PUT(start), PUT(workflows), PUT(errors), PUT(outcomes), PUT(sessions_started);
  return f;
}
Fields fields(const store::PromptRow& r) {
  Fields f;
  PUT(id), PUT(identity), PUT(prompt_id), PUT(agent), PUT(session_id), PUT(model_version);
  PUT(reasoning), PUT(time), PUT(original_idea), PUT(context), PUT(improved_prompt), PUT(role);
  PUT(directive), PUT(framework), PUT(guardrails), PUT(backend), PUT(confidence);
  PUT(latency_ms);
  return f;  // not the rank: bm25 and ts_rank_cd are different measures
}
Fields fields(const store::PromptStatsRow& r) {
  Fields f;
  PUT(backend), PUT(prompts), PUT(mean_confidence), PUT(mean_latency_ms), PUT(latency_p50_ms);
  PUT(latency_p95_ms), PUT(first_seen), PUT(last_seen);
  return f;
}
Fields fields(const store::DeadLetter& r) {
  Fields f;
  PUT(id), PUT(topic), PUT(partition), PUT(offset), PUT(reason_class), PUT(reason), PUT(payload);
  PUT(payload_size), PUT(message_time), PUT(received_at), PUT(source_file), PUT(source_line);
  return f;
}
Fields fields(const store::Report& r) {
  Fields f;
  PUT(rules_version), PUT(workflows), PUT(extraction_events), PUT(sessions), PUT(code_blocks);
  PUT(operation_patterns), PUT(failure_patterns), PUT(dead_letters), PUT(dead_letters_by_reason);
  for (const auto& o : r.operations) put(f, "operations.", o);
  for (const auto& failure : r.failures) {
    put(f, "failures.", failure);
    for (const auto& x : failure.top_fixes) {
      put(f, "fix.pattern", x.pattern);
      put(f, "fix.fix_example", x.fix_example);
      put(f, "fix.attempts", x.attempts);
      put(f, "fix.successes", x.successes);
      put(f, "fix.confidence", x.confidence);
    }
  }
  return f;
}

#undef PUT

std::string shown(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return "null";
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  return "\"" + std::get<std::string>(v) + "\"";
}

void expect_same(const Fields& sqlite, const Fields& postgres, const std::string& what) {
  ASSERT_EQ(sqlite.size(), postgres.size()) << what;
  for (std::size_t i = 0; i < sqlite.size(); ++i) {
    const auto& [name, a] = sqlite[i];
    const auto& b = postgres[i].second;
    const auto* x = std::get_if<double>(&a);
    const auto* y = std::get_if<double>(&b);
    if (x && y)
      EXPECT_NEAR(*x, *y, 1e-9 * std::max(1.0, std::fabs(*x))) << what << ": " << name;
    else
      EXPECT_EQ(shown(a), shown(b)) << what << ": " << name;
  }
}

template <typename Row>
void expect_same_rows(const std::vector<Row>& sqlite, const std::vector<Row>& postgres,
                      const std::string& what) {
  ASSERT_EQ(sqlite.size(), postgres.size()) << what;
  for (std::size_t i = 0; i < sqlite.size(); ++i)
    expect_same(fields(sqlite[i]), fields(postgres[i]), what + ", row " + std::to_string(i));
}

template <typename Row>
void expect_same_row(const std::optional<Row>& sqlite, const std::optional<Row>& postgres,
                     const std::string& what) {
  ASSERT_EQ(sqlite.has_value(), postgres.has_value()) << what;
  if (sqlite) expect_same(fields(*sqlite), fields(*postgres), what);
}

// --- the data set, in SQLite and in PostgreSQL ----------------------------------

class PostgresReader : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      s_server = std::make_unique<PostgresServer>();
      s_dir = std::make_unique<testing::TempDir>();
      s_error = populate();
    } catch (const std::exception& e) {
      s_error = e.what();
    }
  }
  static void TearDownTestSuite() {
    s_sqlite.reset();
    s_postgres.reset();
    s_server.reset();
    s_dir.reset();
  }
  void SetUp() override { ASSERT_EQ(s_error, "") << "the data set is not ready"; }

  // Every stream of `patternd produce`, a few invalid messages among them
  // (dead letters with their source lines), ingested into SQLite; the same
  // rows copied into a migrated PostgreSQL. "" when done, else why not.
  static std::string populate() {
    const std::string sqlite_config = testing::write_config(*s_dir);
    int seed = 20;
    for (const char* kind : {"workflows", "extractions", "outcomes", "sessions", "prompts"}) {
      const std::string file = s_dir->file(std::string(kind) + ".jsonl");
      const auto produced =
          testing::run_patternd({"produce", "--kind", kind, "--count", "1200", "--seed",
                                 std::to_string(++seed), "--invalid", "0.02", "--output", file});
      if (produced.exit_code != 0) return "produce " + std::string(kind) + ": " + produced.err;
      const auto ingested =
          testing::run_patternd({"ingest", "--config", sqlite_config, "--topic", kind, file});
      if (ingested.exit_code != 0) return "ingest " + std::string(kind) + ": " + ingested.err;
    }
    s_uri = s_server->create_database("reader");
    const auto migrated = testing::run_patternd({"migrate", "--config", postgres_config(200000)});
    if (migrated.exit_code != 0) return "migrate: " + migrated.err;
    testing::copy_sqlite_to_postgres(s_dir->file("patternd.db"), s_uri);

    auto sqlite = store::open_reader(sqlite_settings());
    if (!sqlite) return sqlite.error().message;
    auto postgres = store::pg::open_reader(postgres_settings(60'000));
    if (!postgres) return postgres.error().message;
    s_sqlite = std::move(sqlite).value();
    s_postgres = std::move(postgres).value();
    return "";
  }

  static std::string postgres_config(std::int64_t query_timeout_ms) {
    const std::string path = s_dir->file("pg.yaml");
    testing::write_file(path, "storage:\n  type: postgresql\n  path: " + s_dir->file("unused.db") +
                                  "\n  uri: \"" + s_uri + "\"\napi:\n  query_timeout_ms: " +
                                  std::to_string(query_timeout_ms) + "\n");
    return path;
  }
  static config::Config sqlite_settings() {
    config::Config c;
    c.storage.path = s_dir->file("patternd.db");
    c.api.query_timeout_ms = 60'000;
    return c;
  }
  static config::Config postgres_settings(std::int64_t query_timeout_ms) {
    config::Config c;
    c.storage.type = "postgresql";
    c.storage.uri = s_uri;
    c.api.query_timeout_ms = query_timeout_ms;
    return c;
  }

  store::Reader& sqlite() { return *s_sqlite; }
  store::Reader& postgres() { return *s_postgres; }

  // Every page of a listing, `limit` rows at a time, asked of both readers
  // with the same cursor (the SQLite page's last row, as the API makes it):
  // the same rows on every page. Returns how many rows the pages held.
  template <typename Query, typename Read, typename PositionOf>
  std::size_t expect_same_pages(Query q, Read read, PositionOf position_of, const std::string& what,
                                std::int64_t limit = 7) {
    q.page.limit = limit;
    std::size_t rows = 0;
    for (int page = 0; page < 1000; ++page) {
      const auto a = read(sqlite(), q);
      const auto b = read(postgres(), q);
      expect_same_rows(a, b, what + ", page " + std::to_string(page));
      if (::testing::Test::HasFailure()) return rows;
      if (static_cast<std::int64_t>(a.size()) <= limit) return rows + a.size();
      rows += static_cast<std::size_t>(limit);
      q.page.after = position_of(a[static_cast<std::size_t>(limit) - 1]);
    }
    ADD_FAILURE() << what << ": more than 1000 pages";
    return rows;
  }

  static std::unique_ptr<PostgresServer> s_server;
  static std::unique_ptr<testing::TempDir> s_dir;
  static std::string s_uri, s_error;
  static std::unique_ptr<store::Reader> s_sqlite, s_postgres;
};

std::unique_ptr<PostgresServer> PostgresReader::s_server;
std::unique_ptr<testing::TempDir> PostgresReader::s_dir;
std::string PostgresReader::s_uri, PostgresReader::s_error;
std::unique_ptr<store::Reader> PostgresReader::s_sqlite, PostgresReader::s_postgres;

Position time_position(core::TimestampMs t, std::int64_t id) { return {double(t), "", id}; }

// A listing with no filter but its page (agents).
struct Paged {
  store::Page page;
};

// --- the same answers --------------------------------------------------------------

TEST_F(PostgresReader, EveryTableHoldsTheSameRowsAndHealthSaysSo) {
  EXPECT_EQ(postgres().backend(), "postgresql");
  const auto a = sqlite().health();
  const auto b = postgres().health();
  EXPECT_EQ(b.schema_version, store::pg::latest_schema_version());
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_GT(b.size_bytes, 0);
  for (const auto& [table, rows] : a.rows) {
    EXPECT_GT(rows, 0) << table << ": the data set should exercise it";
  }
}

TEST_F(PostgresReader, PatternsAreTheSameInEverySortFilterAndPage) {
  using store::PatternSort;
  for (const auto sort : {PatternSort::savings, PatternSort::occurrences, PatternSort::confidence,
                          PatternSort::last_seen}) {
    store::PatternQuery q;
    q.sort = sort;
    const auto position = [sort](const store::PatternRow& r) {
      const auto& s = r.stats;
      return Position{sort == PatternSort::savings       ? s.savings_last_30_days_usd
                      : sort == PatternSort::occurrences ? double(s.occurrences)
                      : sort == PatternSort::confidence  ? s.confidence
                                                         : double(s.last_seen),
                      "", r.id};
    };
    const auto read = [](store::Reader& r, const store::PatternQuery& q) { return r.patterns(q); };
    const std::string what = "patterns sorted " + std::to_string(int(sort));
    EXPECT_GT(expect_same_pages(q, read, position, what, 3), 3u);
    const auto all = sqlite().patterns(store::PatternQuery{});
    ASSERT_FALSE(all.empty());
    q.category = all.front().stats.category;
    expect_same_pages(q, read, position, what + " of a category", 2);
    q.category.reset();
    q.tool = all.back().stats.tool;
    q.min_confidence = 0.2;
    q.min_occurrences = 2;
    expect_same_pages(q, read, position, what + " of a tool, with minimums", 2);
  }
  for (const auto& row : sqlite().patterns(store::PatternQuery{}))
    expect_same_row(sqlite().pattern(row.stats.signature), postgres().pattern(row.stats.signature),
                    "pattern " + row.stats.signature);
  expect_same_row(sqlite().pattern("no:such:pattern"), postgres().pattern("no:such:pattern"),
                  "an unknown pattern");
}

TEST_F(PostgresReader, FailuresFixesAndOutcomeFiguresAreTheSame) {
  using store::FailureSort;
  const auto failures = sqlite().failures(store::FailureQuery{});
  ASSERT_FALSE(failures.empty());
  for (const auto sort : {FailureSort::frequency, FailureSort::last_seen}) {
    store::FailureQuery q;
    q.sort = sort;
    const auto position = [sort](const store::FailureRow& r) {
      return Position{
          double(sort == FailureSort::frequency ? r.stats.frequency : r.stats.last_seen), "", r.id};
    };
    const auto read = [](store::Reader& r, const store::FailureQuery& q) { return r.failures(q); };
    EXPECT_GT(expect_same_pages(q, read, position, "failures"), 7u);
    q.agent = "codex";
    q.since = failures.back().stats.first_seen;
    q.until = failures.front().stats.last_seen;
    expect_same_pages(q, read, position, "failures of an agent, in a range", 3);
  }
  for (const auto& f : {failures.front(), failures.back()})
    expect_same_row(sqlite().failure(f.stats.signature), postgres().failure(f.stats.signature),
                    "failure " + f.stats.signature);
  expect_same_row(sqlite().failure("nope"), postgres().failure("nope"), "an unknown failure");

  const auto fix_position = [](const store::FixRow& r) {
    return Position{r.figures.confidence, "", r.id};
  };
  const auto read_fixes = [](store::Reader& r, const store::FixQuery& q) { return r.fixes(q); };
  store::FixQuery fixes;
  EXPECT_GT(expect_same_pages(fixes, read_fixes, fix_position, "fixes", 5), 0u);
  const auto some_fixes = sqlite().fixes(store::FixQuery{});
  if (!some_fixes.empty()) {
    fixes.signature = some_fixes.front().signature;
    expect_same_pages(fixes, read_fixes, fix_position, "fixes of a signature", 2);
    fixes.signature.reset();
    fixes.pattern = some_fixes.front().pattern;
    fixes.min_confidence = 0.1;
    expect_same_pages(fixes, read_fixes, fix_position, "fixes of a pattern", 2);
  }

  const auto outcome_position = [](const store::OutcomeStatsRow& r) {
    return Position{0, r.pattern, 0};
  };
  const auto read_outcomes = [](store::Reader& r, const store::OutcomeStatsQuery& q) {
    return r.outcome_stats(q);
  };
  store::OutcomeStatsQuery outcomes;
  EXPECT_GT(expect_same_pages(outcomes, read_outcomes, outcome_position, "outcome stats", 3), 3u);
  outcomes.agent = "codex";
  expect_same_pages(outcomes, read_outcomes, outcome_position, "an agent's outcome stats", 3);
  outcomes.pattern = sqlite().outcome_stats(store::OutcomeStatsQuery{}).front().pattern;
  expect_same_pages(outcomes, read_outcomes, outcome_position, "an agent's approach", 3);
}

TEST_F(PostgresReader, ExtractionsAreTheSameWhateverTheFiltersAndOrder) {
  const auto position = [](const store::ExtractionRow& r) { return time_position(r.time, r.id); };
  const auto read = [](store::Reader& r, const store::ExtractionQuery& q) {
    return r.extractions(q);
  };
  const auto newest = sqlite().extractions(store::ExtractionQuery{});
  ASSERT_FALSE(newest.empty());
  store::ExtractionQuery q;
  EXPECT_GT(expect_same_pages(q, read, position, "extractions", 200), 1000u);
  q.agent = newest.front().agent;
  q.type = "error";
  expect_same_pages(q, read, position, "an agent's errors", 25);
  q = {};
  q.session = newest.front().session_id;
  q.oldest_first = true;
  expect_same_pages(q, read, position, "a session's events in time order", 3);
  q = {};
  q.types = {"error", "code_block"};
  q.risk = "high";
  q.since = newest.back().time;
  q.until = newest.front().time;
  expect_same_pages(q, read, position, "errors and code blocks of high risk, in a range", 20);
  q = {};
  q.pattern = newest.front().pattern;
  expect_same_pages(q, read, position, "one pattern's events", 30);
}

TEST_F(PostgresReader, SessionsTheirDetailAndStateChangesAreTheSame) {
  const auto position = [](const store::SessionRow& r) {
    return time_position(r.first_event, r.id);
  };
  const auto read = [](store::Reader& r, const store::SessionQuery& q) { return r.sessions(q); };
  const auto newest = sqlite().sessions(store::SessionQuery{});
  ASSERT_FALSE(newest.empty());
  store::SessionQuery q;
  EXPECT_GT(expect_same_pages(q, read, position, "sessions", 50), 100u);
  for (const bool active : {true, false}) {
    q.active = active;
    expect_same_pages(q, read, position, "active sessions or not", 40);
  }
  q.agent = newest.front().agent;
  q.since = newest.back().first_event;
  q.until = newest.front().first_event;
  expect_same_pages(q, read, position, "an agent's inactive sessions in a range", 10);

  std::size_t with_changes = 0;
  for (const auto& s : newest) {
    expect_same_row(sqlite().session(s.session_id), postgres().session(s.session_id),
                    "session " + s.session_id);
    expect_same_row(sqlite().stored_session(s.session_id), postgres().stored_session(s.session_id),
                    "stored session " + s.session_id);
    store::StateChangeQuery changes;
    changes.session_id = s.session_id;
    with_changes += expect_same_pages(
        changes,
        [](store::Reader& r, const store::StateChangeQuery& q) { return r.state_changes(q); },
        [](const store::StateChange& c) { return time_position(c.time, c.id); },
        "state changes of " + s.session_id, 2);
  }
  EXPECT_GT(with_changes, 0u);
  expect_same_row(sqlite().session("no-such-session"), postgres().session("no-such-session"),
                  "an unknown session");
  expect_same_row(sqlite().stored_session("no-such-session"),
                  postgres().stored_session("no-such-session"), "an unknown stored session");
}

TEST_F(PostgresReader, CodeBlocksAgentsAndTimelinesAreTheSame) {
  const auto position = [](const store::CodeBlockRow& r) {
    return time_position(r.first_seen, r.id);
  };
  const auto read = [](store::Reader& r, const store::CodeBlockQuery& q) {
    return r.code_blocks(q);
  };
  store::CodeBlockQuery q;
  expect_same_pages(q, read, position, "code blocks", 4);
  const auto blocks = sqlite().code_blocks(store::CodeBlockQuery{});
  if (!blocks.empty()) {
    q.language = blocks.front().language;
    q.since = blocks.back().first_seen;
    expect_same_pages(q, read, position, "code blocks of a language", 2);
    expect_same_row(sqlite().code_block(blocks.front().digest),
                    postgres().code_block(blocks.front().digest), "a code block");
  }
  expect_same_row(sqlite().code_block(core::Digest{}), postgres().code_block(core::Digest{}),
                  "an unknown code block");

  const std::size_t agents = expect_same_pages(
      Paged{}, [](store::Reader& r, const Paged& q) { return r.agents(q.page); },
      [](const store::AgentRow& r) {
        return Position{0, r.agent, 0};
      },
      "agents", 2);
  EXPECT_GT(agents, 2u);
  for (const auto& a : sqlite().agents(store::Page{1000, {}}))
    expect_same_row(sqlite().agent_stats(a.agent), postgres().agent_stats(a.agent),
                    "agent " + a.agent);
  expect_same_row(sqlite().agent_stats("nobody"), postgres().agent_stats("nobody"),
                  "an unknown agent");

  const core::TimestampMs now = core::now_ms();
  for (const auto bucket : {store::Bucket::minute, store::Bucket::hour, store::Bucket::day}) {
    const std::int64_t width = store::bucket_ms(bucket);
    store::TimelineQuery t;
    t.bucket = bucket;
    t.to = now + width;
    t.from = (now - (bucket == store::Bucket::minute ? 6 : 24 * 10) * 3'600'000) / width * width;
    expect_same_rows(sqlite().timeline(t), postgres().timeline(t), "timeline");
    t.agent = "codex";
    expect_same_rows(sqlite().timeline(t), postgres().timeline(t), "an agent's timeline");
  }
}

TEST_F(PostgresReader, PromptsAndTheirFiguresAreTheSame) {
  const auto position = [](const store::PromptRow& r) { return time_position(r.time, r.id); };
  const auto read = [](store::Reader& r, const store::PromptQuery& q) { return r.prompts(q); };
  const auto newest = sqlite().prompts(store::PromptQuery{});
  ASSERT_FALSE(newest.empty());
  store::PromptQuery q;
  EXPECT_GT(expect_same_pages(q, read, position, "prompts", 100), 500u);
  q.backend = newest.front().backend;
  q.since = newest.back().time;
  expect_same_pages(q, read, position, "a backend's recent prompts", 40);
  q = {};
  q.model = newest.front().model_version;
  q.min_confidence = 0.5;
  expect_same_pages(q, read, position, "a model's confident prompts", 40);

  for (const auto& p : {newest.front(), newest.back()}) {
    if (p.prompt_id)
      expect_same_row(sqlite().prompt(*p.prompt_id), postgres().prompt(*p.prompt_id),
                      "prompt " + *p.prompt_id);
    const std::string identity = core::to_hex(p.identity);
    expect_same_row(sqlite().prompt(identity), postgres().prompt(identity), "prompt " + identity);
  }
  expect_same_row(sqlite().prompt("no-such-prompt"), postgres().prompt("no-such-prompt"),
                  "an unknown prompt");
  expect_same_row(sqlite().prompt(std::string(64, 'f')), postgres().prompt(std::string(64, 'f')),
                  "an unknown identity");

  expect_same_rows(sqlite().prompt_stats(std::nullopt), postgres().prompt_stats(std::nullopt),
                   "prompt stats");
  expect_same_rows(sqlite().prompt_stats(newest.front().backend),
                   postgres().prompt_stats(newest.front().backend), "a backend's prompt stats");
  EXPECT_TRUE(postgres().prompt_stats(std::string("no-such-backend")).empty());
}

std::set<std::int64_t> ids_of(const std::vector<store::PromptRow>& rows) {
  std::set<std::int64_t> ids;
  for (const auto& r : rows) ids.insert(r.id);
  return ids;
}

// bm25 and ts_rank_cd rank differently, so a search's order is PostgreSQL's
// own; which prompts match is the same, and its pages are consistent.
TEST_F(PostgresReader, ASearchFindsTheSamePromptsRankedBestFirstPageAfterPage) {
  for (const char* words :
       {"login", "pytest", "revenue query", "\"the checkout form\"", "dashboard OR terraform",
        "engineer", "login AND the", "pytest NOT login", "the NOT \"login page\"", "dash*",
        "(login OR pytest) NOT flaky", "revenue OR dashboard query"}) {
    store::PromptQuery q;
    q.q = words;
    q.page.limit = store::k_search_window;  // every match: the ranks differ
    const auto a = sqlite().prompts(q);
    const auto b = postgres().prompts(q);
    EXPECT_FALSE(b.empty()) << words;
    EXPECT_EQ(ids_of(a), ids_of(b)) << words;
    for (std::size_t i = 1; i < b.size(); ++i) {
      ASSERT_TRUE(b[i].rank && b[i - 1].rank) << words;
      EXPECT_TRUE(*b[i - 1].rank < *b[i].rank ||
                  (*b[i - 1].rank == *b[i].rank && b[i - 1].id < b[i].id))
          << words << ": best (lowest rank) first, then by id";
    }
    std::vector<store::PromptRow> paged;
    q.page.limit = 40;
    for (int page = 0; page < 200; ++page) {
      auto rows = postgres().prompts(q);
      const bool more = rows.size() > 40;
      if (more) rows.pop_back();
      paged.insert(paged.end(), rows.begin(), rows.end());
      if (!more) break;
      q.page.after = Position{*rows.back().rank, "", rows.back().id};
    }
    expect_same_rows(b, paged, std::string(words) + ", page by page");
    q = {};
    q.q = words;
    q.backend = b.empty() ? "x" : b.front().backend;
    q.page.limit = store::k_search_window;
    EXPECT_EQ(ids_of(sqlite().prompts(q)), ids_of(postgres().prompts(q))) << words << ", filtered";
  }
  store::PromptQuery no_words;
  no_words.q = "!!! ???";
  EXPECT_THROW(sqlite().prompts(no_words), store::InvalidQuery);
  EXPECT_THROW(postgres().prompts(no_words), store::InvalidQuery);
}

TEST_F(PostgresReader, TheReportDeadLettersAndPatternCountsAreTheSame) {
  auto opened = store::open_store(sqlite_settings(), store::Access::read_only);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  store::Store& sqlite_store = *opened.value();
  auto connected = store::pg::Connection::connect(s_uri);
  ASSERT_TRUE(connected.ok()) << connected.error().message;
  store::pg::Connection& pg = *connected.value();

  for (const std::size_t top : {3u, 50u})
    expect_same(fields(sqlite_store.report(top)), fields(store::pg::report(pg, top)), "report");
  const auto counts = store::pg::count_patterns(pg);
  EXPECT_EQ(sqlite_store.count_patterns().operation, counts.operation);
  EXPECT_EQ(sqlite_store.count_patterns().failure, counts.failure);

  store::DeadLetterFilter all;
  all.limit = 100000;
  const auto letters = sqlite_store.find_dead_letters(all);
  ASSERT_GT(letters.size(), 20u) << "the data set has invalid messages";
  std::vector<store::DeadLetterFilter> filters(4);
  filters[1].reason_class = letters.front().reason_class;
  filters[2].topic = letters.back().topic;
  filters[3].since = letters[letters.size() / 3].received_at;
  filters[3].until = letters[2 * letters.size() / 3].received_at;
  for (auto& filter : filters) {
    EXPECT_EQ(sqlite_store.count_dead_letters(filter), store::pg::count_dead_letters(pg, filter));
    filter.limit = 6;
    for (int page = 0; page < 1000; ++page) {
      const auto a = sqlite_store.find_dead_letters(filter);
      expect_same_rows(a, store::pg::find_dead_letters(pg, filter), "dead letters");
      if (a.size() < 6 || ::testing::Test::HasFailure()) break;
      filter.after_id = a.back().id;
    }
  }
}

// --- what PostgreSQL can do to a read ---------------------------------------------

TEST_F(PostgresReader, AReadBlockedPastTheTimeoutIsUnavailableAndTheNextOneIsAnswered) {
  auto opened = store::pg::open_reader(postgres_settings(200));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  store::Reader& reader = *opened.value();
  auto locker = store::pg::Connection::connect(s_uri);
  ASSERT_TRUE(locker.ok());
  locker.value()->exec("BEGIN; LOCK TABLE agent_sessions IN ACCESS EXCLUSIVE MODE");
  const auto started = std::chrono::steady_clock::now();
  try {
    reader.sessions(store::SessionQuery{});
    FAIL() << "a read of a locked table was answered";
  } catch (const store::Unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("api.query_timeout_ms (200 ms)"), std::string::npos)
        << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  locker.value()->exec("ROLLBACK");
  EXPECT_FALSE(reader.sessions(store::SessionQuery{}).empty()) << "the connection still answers";
}

TEST_F(PostgresReader, ATerminatedConnectionIsUnavailableOnceThenTheReaderConnectsAgain) {
  config::Config settings = postgres_settings(60'000);
  settings.storage.uri += "&application_name=terminated-reader";
  auto opened = store::pg::open_reader(settings);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  store::Reader& reader = *opened.value();
  ASSERT_FALSE(reader.agents(store::Page{}).empty());
  const std::string backends = "FROM pg_stat_activity WHERE application_name = 'terminated-reader'";
  ASSERT_EQ(s_server->query("reader", "SELECT pg_terminate_backend(pid) " + backends).size(), 1u);
  ASSERT_TRUE(testing::eventually(
      [&] { return s_server->query("reader", "SELECT pid " + backends).empty(); }, 10));

  EXPECT_THROW(reader.agents(store::Page{}), store::Unavailable);
  expect_same_rows(sqlite().agents(store::Page{}), reader.agents(store::Page{}),
                   "agents, connected again");
  EXPECT_EQ(s_server->query("reader", "SELECT pid " + backends).size(), 1u);
}

TEST(PostgresReadErrors, EachServerErrorIsClassifiedAsTheCallerShouldSeeIt) {
  using store::pg::classify_read_error;
  using store::pg::ReadError;
  EXPECT_EQ(classify_read_error("57014", false), ReadError::timed_out);
  EXPECT_EQ(classify_read_error("57P01", false), ReadError::connection_lost);  // terminated
  EXPECT_EQ(classify_read_error("57P02", false), ReadError::connection_lost);  // crash shutdown
  EXPECT_EQ(classify_read_error("57P03", false), ReadError::connection_lost);  // starting up
  EXPECT_EQ(classify_read_error("08006", false), ReadError::connection_lost);
  EXPECT_EQ(classify_read_error("", false), ReadError::connection_lost);  // libpq's own
  EXPECT_EQ(classify_read_error("57014", true), ReadError::connection_lost);
  EXPECT_EQ(classify_read_error("42P01", false), ReadError::failed);  // undefined table
  EXPECT_EQ(classify_read_error("22P02", false), ReadError::failed);  // invalid text input
  EXPECT_EQ(classify_read_error("25006", false), ReadError::failed);  // read-only transaction
}

}  // namespace
}  // namespace patternd
