// The SQLite Reader: the read API's queries (store/read_queries.cpp) on a
// read-only connection of their own. WAL readers never block the writer;
// what a reader can do to it is hold back the checkpoint while it reads, so
// every request runs in one short read transaction (one snapshot for all its
// statements) that a progress handler cuts short at api.query_timeout_ms.

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "store/database.hpp"
#include "store/prompt_reads.hpp"
#include "store/read_queries.hpp"
#include "store/read_rows.hpp"
#include "store/reader.hpp"
#include "store/store.hpp"

namespace patternd::store {
namespace {

using Clock = std::chrono::steady_clock;

// Sort keys that are times or counts are bound as integers, so that the
// comparison is exact and the index range applies.
void bind_position(SQLite::Statement& s, const Position& p) {
  if (std::nearbyint(p.key) == p.key && std::fabs(p.key) < 9e15)
    s.bind(":key", static_cast<std::int64_t>(p.key));
  else
    s.bind(":key", p.key);
  s.bind(":id", p.id);
}

// A list query's page: the cursor's position and limit + 1 rows (the
// extra one says a next page exists), each row made by `row_of`.
template <typename RowOf>
auto page_rows(SQLite::Statement& s, const Page& page, RowOf row_of) {
  if (page.after) bind_position(s, *page.after);
  s.bind(":limit", page.limit + 1);
  std::vector<decltype(row_of(s))> out;
  while (s.executeStep()) out.push_back(row_of(s));
  return out;
}

void bind_if(SQLite::Statement& s, const char* name, const std::optional<std::string>& v) {
  if (v) s.bind(name, *v);
}
void bind_if(SQLite::Statement& s, const char* name, const std::optional<std::int64_t>& v) {
  if (v) s.bind(name, *v);
}

std::int64_t file_size(const std::string& path) {
  struct stat st {};
  // stat only: opening and closing the file would drop this process's locks.
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
}

class SqliteReader final : public Reader {
 public:
  SqliteReader(std::unique_ptr<Database> db, std::chrono::milliseconds timeout)
      : m_db(std::move(db)), m_timeout(timeout) {
    sqlite3_progress_handler(m_db->sql().getHandle(), 1000, &SqliteReader::on_progress, this);
  }
  ~SqliteReader() override {
    m_statements.clear();
    sqlite3_progress_handler(m_db->sql().getHandle(), 0, nullptr, nullptr);
  }

  std::string backend() const override { return "sqlite"; }

  std::vector<PatternRow> patterns(const PatternQuery& q) override {
    return read([&] {
      auto& s = prepare(sql::patterns(q));
      bind_if(s, ":category", q.category);
      bind_if(s, ":tool", q.tool);
      bind_if(s, ":target", q.target);
      if (q.min_confidence) s.bind(":min_confidence", *q.min_confidence);
      bind_if(s, ":min_occurrences", q.min_occurrences);
      return page_rows(s, q.page, pattern_row);
    });
  }

  std::optional<PatternDetail> pattern(const std::string& signature) override {
    return read([&]() -> std::optional<PatternDetail> {
      auto& s = prepare(sql::k_pattern);
      s.bind(":signature", signature);
      if (!s.executeStep()) return std::nullopt;
      PatternDetail d{pattern_row(s), {}};
      auto& days = prepare(sql::k_pattern_days);
      days.bind(":id", d.pattern.id);
      days.bind(":from", core::now_ms() / 86'400'000 - 30);
      while (days.executeStep())
        d.runs_per_day.emplace_back(days.getColumn(0).getInt64(), days.getColumn(1).getInt64());
      return d;
    });
  }

  std::vector<FailureRow> failures(const FailureQuery& q) override {
    return read([&] {
      auto& s = prepare(sql::failures(q));
      bind_if(s, ":agent", q.agent);
      bind_if(s, ":since", q.since);
      bind_if(s, ":until", q.until);
      return page_rows(s, q.page, failure_row);
    });
  }

  std::optional<FailureRow> failure(const std::string& signature) override {
    return read([&]() -> std::optional<FailureRow> {
      auto& s = prepare(sql::k_failure);
      s.bind(":signature", signature);
      if (!s.executeStep()) return std::nullopt;
      return failure_row(s);
    });
  }

  std::vector<FixRow> fixes(const FixQuery& q) override {
    return read([&] {
      auto& s = prepare(sql::fixes(q));
      bind_if(s, ":signature", q.signature);
      bind_if(s, ":pattern", q.pattern);
      if (q.min_confidence) s.bind(":min_confidence", *q.min_confidence);
      return page_rows(s, q.page, fix_row);
    });
  }

  std::vector<OutcomeStatsRow> outcome_stats(const OutcomeStatsQuery& q) override {
    return read([&] {
      auto& s = prepare(sql::outcome_stats(q));
      bind_if(s, ":agent", q.agent);
      bind_if(s, ":pattern", q.pattern);
      if (q.page.after) s.bind(":text", q.page.after->text);
      s.bind(":limit", q.page.limit + 1);
      std::vector<OutcomeStatsRow> out;
      while (s.executeStep()) out.push_back(outcome_stats_row(s));
      return out;
    });
  }

  std::vector<ExtractionRow> extractions(const ExtractionQuery& q) override {
    return read([&] {
      auto& s = prepare(sql::extractions(q));
      bind_if(s, ":agent", q.agent);
      bind_if(s, ":session", q.session);
      bind_if(s, ":type", q.type);
      if (!q.types.empty()) {
        std::string types = ",";
        for (const auto& t : q.types) types += t + ",";
        s.bind(":types", types);
      }
      bind_if(s, ":pattern", q.pattern);
      bind_if(s, ":risk", q.risk);
      bind_if(s, ":since", q.since);
      bind_if(s, ":until", q.until);
      return page_rows(s, q.page, extraction_row);
    });
  }

  std::vector<SessionRow> sessions(const SessionQuery& q) override {
    return read([&] {
      auto& s = prepare(sql::sessions(q));
      bind_if(s, ":agent", q.agent);
      bind_if(s, ":since", q.since);
      bind_if(s, ":until", q.until);
      return page_rows(s, q.page, session_row);
    });
  }

  std::optional<SessionDetail> session(const std::string& session_id) override {
    return read([&]() -> std::optional<SessionDetail> {
      auto& s = prepare(sql::k_session);
      s.bind(":session", session_id);
      if (!s.executeStep()) return std::nullopt;
      SessionDetail d{session_row(s), {}, {}};
      auto& changes = prepare(sql::k_session_changes);
      changes.bind(":session", session_id);
      while (changes.executeStep()) d.state_changes.push_back(state_change_row(changes));
      auto& types = prepare(sql::k_session_types);
      types.bind(":session", session_id);
      while (types.executeStep())
        d.events_by_type.emplace_back(types.getColumn(0).getString(),
                                      types.getColumn(1).getInt64());
      return d;
    });
  }

  std::optional<StoredSession> stored_session(const std::string& session_id) override {
    return read([&]() -> std::optional<StoredSession> {
      auto& s = prepare(sql::k_session);
      s.bind(":session", session_id);
      if (!s.executeStep()) return std::nullopt;
      StoredSession out{session_row(s), 0, 0};
      auto& counts = prepare(sql::k_session_stored);
      counts.bind(":session", session_id);
      counts.executeStep();
      out.events = counts.getColumn(0).getInt64();
      out.state_changes = counts.getColumn(1).getInt64();
      return out;
    });
  }

  std::vector<StateChange> state_changes(const StateChangeQuery& q) override {
    return read([&] {
      auto& s = prepare(sql::state_changes(q));
      s.bind(":session", q.session_id);
      return page_rows(s, q.page, state_change_row);
    });
  }

  std::optional<CodeBlockRow> code_block(const core::Digest& digest) override {
    return read([&]() -> std::optional<CodeBlockRow> {
      auto& s = prepare(sql::k_code_block);
      s.bind(":digest", digest.data(), static_cast<int>(digest.size()));
      if (!s.executeStep()) return std::nullopt;
      return code_block_row(s);
    });
  }

  std::vector<CodeBlockRow> code_blocks(const CodeBlockQuery& q) override {
    return read([&] {
      auto& s = prepare(sql::code_blocks(q));
      bind_if(s, ":language", q.language);
      bind_if(s, ":since", q.since);
      return page_rows(s, q.page, code_block_row);
    });
  }

  std::vector<AgentRow> agents(const Page& page) override {
    return read([&] {
      auto& s = prepare(sql::agents(page));
      if (page.after) s.bind(":text", page.after->text);
      s.bind(":limit", page.limit + 1);
      std::vector<std::string> names;
      while (s.executeStep()) names.push_back(s.getColumn(0).getString());
      std::vector<AgentRow> out;
      for (const auto& name : names) out.push_back(agent_stats_of(name).agent);
      return out;
    });
  }

  std::optional<AgentStats> agent_stats(const std::string& agent) override {
    return read([&]() -> std::optional<AgentStats> {
      AgentStats stats = agent_stats_of(agent);
      if (stats.agent.workflows == 0 && stats.extractions_by_type.empty() &&
          stats.outcomes.attempts == 0)
        return std::nullopt;
      auto& failures = prepare(sql::k_agent_failures);
      failures.bind(":agent", agent);
      while (failures.executeStep()) stats.top_failures.push_back(failure_row(failures));
      return stats;
    });
  }

  std::vector<TimelineBucket> timeline(const TimelineQuery& q) override {
    return read([&] {
      const std::int64_t width = bucket_ms(q.bucket);
      std::vector<TimelineBucket> out;
      for (core::TimestampMs t = q.from; t < q.to; t += width) out.push_back({t, 0, 0, 0, 0});
      // Workflows and errors: whole minutes (minute buckets) or hours.
      const bool minutes = q.bucket == Bucket::minute;
      const std::int64_t unit = minutes ? 60'000 : 3'600'000;
      auto& activity = prepare(sql::timeline_activity(minutes, q.agent.has_value()));
      activity.bind(":from", q.from / unit);
      activity.bind(":to", (q.to + unit - 1) / unit);
      if (q.agent) activity.bind(":agent", *q.agent);
      while (activity.executeStep()) {
        const std::int64_t index = (activity.getColumn(0).getInt64() * unit - q.from) / width;
        if (index < 0 || index >= static_cast<std::int64_t>(out.size())) continue;
        out[static_cast<std::size_t>(index)].workflows += activity.getColumn(1).getInt64();
        out[static_cast<std::size_t>(index)].errors += activity.getColumn(2).getInt64();
        out[static_cast<std::size_t>(index)].outcomes += activity.getColumn(3).getInt64();
      }
      auto& sessions = prepare(sql::timeline_sessions(q.agent.has_value()));
      sessions.bind(":bucket", width);
      sessions.bind(":from", q.from);
      sessions.bind(":to", q.to);
      if (q.agent) sessions.bind(":agent", *q.agent);
      while (sessions.executeStep()) {
        const std::int64_t index = sessions.getColumn(0).getInt64() - q.from / width;
        if (index >= 0 && index < static_cast<std::int64_t>(out.size()))
          out[static_cast<std::size_t>(index)].sessions_started = sessions.getColumn(1).getInt64();
      }
      return out;
    });
  }

  std::vector<PromptRow> prompts(const PromptQuery& q) override {
    return read([&] { return read_prompts(m_prepare, q); });
  }
  std::optional<PromptRow> prompt(const std::string& id) override {
    return read([&] { return read_prompt(m_prepare, id); });
  }
  std::vector<PromptStatsRow> prompt_stats(const std::optional<std::string>& backend) override {
    return read([&] { return read_prompt_stats(m_prepare, backend); });
  }

  StoreHealth health() override {
    return read([&] {
      StoreHealth h;
      h.location = m_db->path();
      h.schema_version = m_db->schema_version();
      for (const char* table :
           {"workflow_history", "operation_patterns", "pattern_occurrences", "extraction_events",
            "code_blocks", "agent_sessions", "failure_patterns", "outcomes", "failure_fixes",
            "session_state_changes", "prompt_history", "dead_letters"}) {
        auto& s = prepare(std::string("SELECT count(*) FROM ") + table);
        s.executeStep();
        h.rows.emplace_back(table, s.getColumn(0).getInt64());
      }
      h.size_bytes = file_size(m_db->path()) + file_size(m_db->path() + "-wal");
      return h;
    });
  }

 private:
  // An agent's totals: one probe each of its sessions, workflow and event
  // totals (store/agent_totals.hpp keeps them).
  AgentStats agent_stats_of(const std::string& agent) {
    AgentStats stats;
    AgentRow& row = stats.agent;
    row.agent = agent;
    auto widen = [&row](core::TimestampMs first, core::TimestampMs last) {
      row.first_seen = row.first_seen ? std::min(*row.first_seen, first) : first;
      row.last_seen = row.last_seen ? std::max(*row.last_seen, last) : last;
    };
    auto& s = prepare(sql::k_agent_sessions);
    s.bind(":agent", agent);
    s.executeStep();
    row.sessions = s.getColumn(0).getInt64();
    auto& w = prepare(sql::k_agent_workflows);
    w.bind(":agent", agent);
    if (w.executeStep()) {
      row.workflows = w.getColumn(0).getInt64();
      stats.workflow_successes = w.getColumn(1).getInt64();
      stats.total_tokens = w.getColumn(2).getInt64();
      stats.cost_micros = w.getColumn(3).getInt64();
      widen(w.getColumn(4).getInt64(), w.getColumn(5).getInt64());
    }
    auto& types = prepare(sql::k_agent_types);
    types.bind(":agent", agent);
    while (types.executeStep()) {
      stats.extractions_by_type.emplace_back(types.getColumn(0).getString(),
                                             types.getColumn(1).getInt64());
      row.extractions += types.getColumn(1).getInt64();
      widen(types.getColumn(2).getInt64(), types.getColumn(3).getInt64());
    }
    auto& o = prepare(sql::k_agent_outcomes);
    o.bind(":agent", agent);
    if (o.executeStep() && !o.getColumn(0).isNull()) {
      stats.outcomes = figures_of(o, 0);
      row.outcomes = stats.outcomes.attempts;
      widen(stats.outcomes.first_seen, stats.outcomes.last_seen);
    }
    return stats;
  }

  // A cached statement, reset and cleared for new bindings.
  SQLite::Statement& prepare(const std::string& text) {
    auto it = m_statements.find(text);
    if (it == m_statements.end())
      it = m_statements.emplace(text, std::make_unique<SQLite::Statement>(m_db->sql(), text)).first;
    it->second->tryReset();
    it->second->clearBindings();
    return *it->second;
  }

  // One read transaction (one snapshot) with a deadline. After a failure
  // the statements and the transaction are ended without the deadline, or
  // they would be interrupted too.
  template <typename F>
  auto read(F&& f) -> decltype(f()) {
    m_deadline = Clock::now() + m_timeout;
    try {
      m_db->sql().exec("BEGIN");
      auto result = f();
      for (auto& [text, statement] : m_statements) statement->tryReset();
      m_db->sql().exec("COMMIT");
      m_deadline = Clock::time_point::max();
      return result;
    } catch (const SQLite::Exception& e) {
      m_deadline = Clock::time_point::max();
      for (auto& [text, statement] : m_statements) statement->tryReset();
      sqlite3_exec(m_db->sql().getHandle(), "ROLLBACK", nullptr, nullptr, nullptr);
      if (e.getErrorCode() == SQLITE_INTERRUPT)
        throw Unavailable("the query took longer than api.query_timeout_ms (" +
                          std::to_string(m_timeout.count()) + " ms)");
      if (e.getErrorCode() == SQLITE_BUSY || e.getErrorCode() == SQLITE_LOCKED)
        throw Unavailable("the database is busy (" + std::string(e.what()) + "); try again");
      throw ReadFailed(m_db->path() + ": " + e.what());
    } catch (...) {
      m_deadline = Clock::time_point::max();
      for (auto& [text, statement] : m_statements) statement->tryReset();
      sqlite3_exec(m_db->sql().getHandle(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  static int on_progress(void* self) {
    return Clock::now() > static_cast<SqliteReader*>(self)->m_deadline ? 1 : 0;
  }

  std::unique_ptr<Database> m_db;
  std::chrono::milliseconds m_timeout;
  Prepare m_prepare = [this](const std::string& text) -> SQLite::Statement& {
    return prepare(text);
  };
  Clock::time_point m_deadline = Clock::time_point::max();
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> m_statements;
};

}  // namespace

core::Result<std::unique_ptr<Reader>, OpenError> open_sqlite_reader(const config::Config& config) {
  auto opened = Database::open_read_only(config.storage);
  if (!opened) return OpenError{opened.error().message};
  return std::unique_ptr<Reader>(new SqliteReader(
      std::move(opened).value(), std::chrono::milliseconds(config.api.query_timeout_ms)));
}

}  // namespace patternd::store
