// The PostgreSQL Reader: the read API's queries (store/pg_read_queries.cpp)
// on a read-only session of its own. Readers never block the writers under
// MVCC; what a reader can hold back is vacuum, for as long as its snapshot
// lives, so every request runs in one short transaction that the server cuts
// short at api.query_timeout_ms.

#include "store/pg_reader.hpp"

#include <chrono>

#include "store/pg_connection.hpp"
#include "store/pg_read_prompts.hpp"
#include "store/pg_read_queries.hpp"
#include "store/pg_read_rows.hpp"
#include "store/pg_schema.hpp"

namespace patternd::store::pg {
namespace {

using Milliseconds = std::chrono::milliseconds;

// A connection with the reader's session: read-only whatever a statement
// says, every statement cut short at `timeout`, values in the text forms
// pg_read_rows.cpp reads (bytea as hex, doubles exact).
core::Result<std::unique_ptr<Connection>> connect_session(const std::string& uri,
                                                          Milliseconds timeout) {
  auto connected = Connection::connect(uri);
  if (!connected) return connected.error();
  try {
    connected.value()->exec("SET default_transaction_read_only = on; SET statement_timeout = " +
                            std::to_string(timeout.count()) +
                            "; SET bytea_output = 'hex'; SET extra_float_digits = 1");
  } catch (const PgError& e) {
    return core::Error{e.what()};
  }
  return std::move(connected).value();
}

// A list query's page: the cursor's position and limit + 1 rows (the extra
// one says a next page exists).
Statement& paged(Statement& s, const Page& page) {
  if (page.after) s.bind_position(*page.after);
  return s.bind(":limit", page.limit + 1);
}

template <typename Row>
std::optional<Row> first_of(std::vector<Row> rows) {
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

class PgReader final : public Reader {
 public:
  PgReader(std::unique_ptr<Connection> connection, std::string uri, Milliseconds timeout)
      : m_connection(std::move(connection)), m_uri(std::move(uri)), m_timeout(timeout) {}

  std::string backend() const override { return "postgresql"; }

  std::vector<PatternRow> patterns(const PatternQuery& q) override {
    return read([&](Connection& c) {
      Statement s(sql::patterns(q));
      s.bind(":category", q.category)
          .bind(":tool", q.tool)
          .bind(":target", q.target)
          .bind(":min_confidence", q.min_confidence)
          .bind(":min_occurrences", q.min_occurrences);
      return rows_of(paged(s, q.page).run(c), pattern_row);
    });
  }

  std::optional<PatternDetail> pattern(const std::string& signature) override {
    return read([&](Connection& c) -> std::optional<PatternDetail> {
      auto row = first_of(
          rows_of(Statement(sql::k_pattern).bind(":signature", signature).run(c), pattern_row));
      if (!row) return std::nullopt;
      PatternDetail d{*row, {}};
      const PgResult days = Statement(sql::k_pattern_days)
                                .bind(":id", row->id)
                                .bind(":from", core::now_ms() / 86'400'000 - 30)
                                .run(c);
      d.runs_per_day = rows_of(days, [](const Cells& day) {
        return std::pair{day.integer(0), day.integer(1)};
      });
      return d;
    });
  }

  std::vector<FailureRow> failures(const FailureQuery& q) override {
    return read([&](Connection& c) {
      Statement s(sql::failures(q));
      s.bind(":agent", q.agent).bind(":since", q.since).bind(":until", q.until);
      return rows_of(paged(s, q.page).run(c), failure_row);
    });
  }

  std::optional<FailureRow> failure(const std::string& signature) override {
    return read([&](Connection& c) {
      return first_of(
          rows_of(Statement(sql::k_failure).bind(":signature", signature).run(c), failure_row));
    });
  }

  std::vector<FixRow> fixes(const FixQuery& q) override {
    return read([&](Connection& c) {
      Statement s(sql::fixes(q));
      s.bind(":signature", q.signature)
          .bind(":pattern", q.pattern)
          .bind(":min_confidence", q.min_confidence);
      return rows_of(paged(s, q.page).run(c), fix_row);
    });
  }

  std::vector<OutcomeStatsRow> outcome_stats(const OutcomeStatsQuery& q) override {
    return read([&](Connection& c) {
      Statement s(sql::outcome_stats(q));
      s.bind(":agent", q.agent).bind(":pattern", q.pattern).bind(":limit", q.page.limit + 1);
      if (q.page.after) s.bind(":text", q.page.after->text);
      return rows_of(s.run(c), outcome_stats_row);
    });
  }

  std::vector<ExtractionRow> extractions(const ExtractionQuery& q) override {
    return read([&](Connection& c) {
      Statement s(sql::extractions(q));
      s.bind(":agent", q.agent)
          .bind(":session", q.session)
          .bind(":type", q.type)
          .bind(":pattern", q.pattern)
          .bind(":risk", q.risk)
          .bind(":since", q.since)
          .bind(":until", q.until);
      if (!q.types.empty()) {
        std::string types = ",";
        for (const auto& t : q.types) types += t + ",";
        s.bind(":types", types);
      }
      return rows_of(paged(s, q.page).run(c), extraction_row);
    });
  }

  std::vector<SessionRow> sessions(const SessionQuery& q) override {
    return read([&](Connection& c) {
      Statement s(sql::sessions(q));
      s.bind(":agent", q.agent).bind(":since", q.since).bind(":until", q.until);
      return rows_of(paged(s, q.page).run(c), session_row);
    });
  }

  std::optional<SessionDetail> session(const std::string& session_id) override {
    return read([&](Connection& c) -> std::optional<SessionDetail> {
      auto row = session_of(c, session_id);
      if (!row) return std::nullopt;
      SessionDetail d{*row, {}, {}};
      d.state_changes = rows_of(
          Statement(sql::k_session_changes).bind(":session", session_id).run(c), state_change_row);
      d.events_by_type = rows_of(
          Statement(sql::k_session_types).bind(":session", session_id).run(c), [](const Cells& t) {
            return std::pair{t.text(0), t.integer(1)};
          });
      return d;
    });
  }

  std::optional<StoredSession> stored_session(const std::string& session_id) override {
    return read([&](Connection& c) -> std::optional<StoredSession> {
      auto row = session_of(c, session_id);
      if (!row) return std::nullopt;
      const PgResult counts = Statement(sql::k_session_stored).bind(":session", session_id).run(c);
      const Cells n(counts.get(), 0);
      return StoredSession{*row, n.integer(0), n.integer(1)};
    });
  }

  std::vector<StateChange> state_changes(const StateChangeQuery& q) override {
    return read([&](Connection& c) {
      Statement s(sql::state_changes(q));
      s.bind(":session", q.session_id);
      return rows_of(paged(s, q.page).run(c), state_change_row);
    });
  }

  std::vector<CodeBlockRow> code_blocks(const CodeBlockQuery& q) override {
    return read([&](Connection& c) {
      Statement s(sql::code_blocks(q));
      s.bind(":language", q.language).bind(":since", q.since);
      return rows_of(paged(s, q.page).run(c), code_block_row);
    });
  }

  std::optional<CodeBlockRow> code_block(const core::Digest& digest) override {
    return read([&](Connection& c) {
      return first_of(rows_of(Statement(sql::k_code_block).bind_digest(":digest", digest).run(c),
                              code_block_row));
    });
  }

  std::vector<AgentRow> agents(const Page& page) override {
    return read([&](Connection& c) {
      Statement s(sql::agents(page));
      s.bind(":limit", page.limit + 1);
      if (page.after) s.bind(":text", page.after->text);
      std::vector<AgentRow> out;
      for (const auto& name : rows_of(s.run(c), [](const Cells& a) { return a.text(0); }))
        out.push_back(agent_stats_of(c, name).agent);
      return out;
    });
  }

  std::optional<AgentStats> agent_stats(const std::string& agent) override {
    return read([&](Connection& c) -> std::optional<AgentStats> {
      AgentStats stats = agent_stats_of(c, agent);
      if (stats.agent.workflows == 0 && stats.extractions_by_type.empty() &&
          stats.outcomes.attempts == 0)
        return std::nullopt;
      stats.top_failures =
          rows_of(Statement(sql::k_agent_failures).bind(":agent", agent).run(c), failure_row);
      return stats;
    });
  }

  std::vector<TimelineBucket> timeline(const TimelineQuery& q) override {
    return read([&](Connection& c) { return timeline_of(c, q); });
  }

  std::vector<PromptRow> prompts(const PromptQuery& q) override {
    return read([&](Connection& c) { return read_prompts(c, q); });
  }
  std::optional<PromptRow> prompt(const std::string& id) override {
    return read([&](Connection& c) { return read_prompt(c, id); });
  }
  std::vector<PromptStatsRow> prompt_stats(const std::optional<std::string>& backend) override {
    return read([&](Connection& c) { return read_prompt_stats(c, backend); });
  }

  StoreHealth health() override {
    return read([&](Connection& c) {
      StoreHealth h;
      h.location = c.location();
      h.schema_version = schema_version(c);
      const PgResult counts = Statement(sql::k_health).run(c);
      const Cells n(counts.get(), 0);
      h.size_bytes = n.integer(0);
      int column = 1;
      for (const char* table : sql::k_health_tables)
        h.rows.emplace_back(table, n.integer(column++));
      return h;
    });
  }

 private:
  static std::optional<SessionRow> session_of(Connection& c, const std::string& session_id) {
    return first_of(
        rows_of(Statement(sql::k_session).bind(":session", session_id).run(c), session_row));
  }

  // An agent's totals, as the SQLite reader gathers them (sqlite_reader.cpp).
  static AgentStats agent_stats_of(Connection& c, const std::string& agent) {
    AgentStats stats;
    AgentRow& row = stats.agent;
    row.agent = agent;
    auto widen = [&row](core::TimestampMs first, core::TimestampMs last) {
      row.first_seen = row.first_seen ? std::min(*row.first_seen, first) : first;
      row.last_seen = row.last_seen ? std::max(*row.last_seen, last) : last;
    };
    auto probe = [&](const char* sql) { return Statement(sql).bind(":agent", agent).run(c); };
    const PgResult sessions = probe(sql::k_agent_sessions);
    row.sessions = Cells(sessions.get(), 0).integer(0);
    const PgResult workflows = probe(sql::k_agent_workflows);
    if (PQntuples(workflows.get()) > 0) {
      const Cells w(workflows.get(), 0);
      row.workflows = w.integer(0);
      stats.workflow_successes = w.integer(1);
      stats.total_tokens = w.integer(2);
      stats.cost_micros = w.integer(3);
      widen(w.integer(4), w.integer(5));
    }
    const PgResult types = probe(sql::k_agent_types);
    for (int i = 0; i < PQntuples(types.get()); ++i) {
      const Cells t(types.get(), i);
      stats.extractions_by_type.emplace_back(t.text(0), t.integer(1));
      row.extractions += t.integer(1);
      widen(t.integer(2), t.integer(3));
    }
    const PgResult outcomes = probe(sql::k_agent_outcomes);
    const Cells o(outcomes.get(), 0);
    if (!o.null(0)) {
      stats.outcomes = figures_of(o, 0);
      row.outcomes = stats.outcomes.attempts;
      widen(stats.outcomes.first_seen, stats.outcomes.last_seen);
    }
    return stats;
  }

  // As the SQLite reader's: every bucket of [from, to), workflows and errors
  // from whole minutes (minute buckets) or hours, sessions by first event.
  static std::vector<TimelineBucket> timeline_of(Connection& c, const TimelineQuery& q) {
    const std::int64_t width = bucket_ms(q.bucket);
    std::vector<TimelineBucket> out;
    for (core::TimestampMs t = q.from; t < q.to; t += width) out.push_back({t, 0, 0, 0, 0});
    const auto bucket_at = [&](std::int64_t index) -> TimelineBucket* {
      if (index < 0 || index >= static_cast<std::int64_t>(out.size())) return nullptr;
      return &out[static_cast<std::size_t>(index)];
    };
    const bool minutes = q.bucket == Bucket::minute;
    const std::int64_t unit = minutes ? 60'000 : 3'600'000;
    Statement activity(sql::timeline_activity(minutes, q.agent.has_value()));
    activity.bind(":from", q.from / unit)
        .bind(":to", (q.to + unit - 1) / unit)
        .bind(":agent", q.agent);
    const PgResult active = activity.run(c);
    for (int i = 0; i < PQntuples(active.get()); ++i) {
      const Cells a(active.get(), i);
      if (auto* b = bucket_at((a.integer(0) * unit - q.from) / width)) {
        b->workflows += a.integer(1);
        b->errors += a.integer(2);
        b->outcomes += a.integer(3);
      }
    }
    Statement sessions(sql::timeline_sessions(q.agent.has_value()));
    sessions.bind(":bucket", width).bind(":from", q.from).bind(":to", q.to).bind(":agent", q.agent);
    const PgResult started = sessions.run(c);
    for (int i = 0; i < PQntuples(started.get()); ++i) {
      const Cells s(started.get(), i);
      if (auto* b = bucket_at(s.integer(0) - q.from / width)) b->sessions_started = s.integer(1);
    }
    return out;
  }

  // One transaction (one snapshot) on the connection, connecting again first
  // if the last one broke. Failures are turned into the Reader's errors.
  template <typename F>
  auto read(F&& f) -> decltype(f(std::declval<Connection&>())) {
    Connection& c = connection();
    try {
      c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
      auto result = f(c);
      c.exec("COMMIT");
      return result;
    } catch (const PgError& e) {
      fail(e);
    } catch (...) {
      roll_back();
      throw;
    }
  }

  Connection& connection() {
    if (m_connection && !m_connection->broken()) return *m_connection;
    m_connection.reset();
    auto connected = connect_session(m_uri, m_timeout);
    if (!connected) throw Unavailable(connected.error().message);
    m_connection = std::move(connected).value();
    return *m_connection;
  }

  [[noreturn]] void fail(const PgError& e) {
    switch (classify_read_error(e.sqlstate(), m_connection->broken())) {
      case ReadError::timed_out:
        roll_back();
        throw Unavailable("the query took longer than api.query_timeout_ms (" +
                          std::to_string(m_timeout.count()) + " ms)");
      case ReadError::connection_lost:
        m_connection.reset();
        throw Unavailable(std::string(e.what()) + " (the next read connects again)");
      case ReadError::failed:
        break;
    }
    roll_back();
    throw ReadFailed(e.what());
  }

  // Ends a failed transaction; a connection that cannot is dropped.
  void roll_back() noexcept {
    try {
      m_connection->exec("ROLLBACK");
    } catch (const PgError&) {
      m_connection.reset();
    }
  }

  std::unique_ptr<Connection> m_connection;  // null after a break, until the next read
  std::string m_uri;
  Milliseconds m_timeout;
};

}  // namespace

ReadError classify_read_error(const std::string& sqlstate, bool connection_broken) {
  if (connection_broken || sqlstate.empty()) return ReadError::connection_lost;
  if (sqlstate == "57014") return ReadError::timed_out;  // query_canceled: statement_timeout
  // Class 08, connection exceptions; 57P01..57P03: the server is shutting
  // down, crashed, or not accepting connections yet (the session is gone).
  if (sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03")
    return ReadError::connection_lost;
  return ReadError::failed;
}

core::Result<std::unique_ptr<Reader>, OpenError> open_reader(const config::Config& config) {
  const Milliseconds timeout(config.api.query_timeout_ms);
  auto connected = connect_session(config.storage.uri, timeout);
  if (!connected) return OpenError{connected.error().message};
  auto& connection = *connected.value();
  try {
    const int version = schema_version(connection);
    if (version != latest_schema_version())
      return OpenError{connection.location() + ": schema version " + std::to_string(version) +
                       ", expected " + std::to_string(latest_schema_version()) +
                       (version > latest_schema_version() ? " (upgrade patternd)"
                                                          : " (run `patternd migrate`)")};
  } catch (const PgError& e) {
    return OpenError{connection.location() + ": cannot read the database: " + e.reason()};
  }
  return std::unique_ptr<Reader>(
      new PgReader(std::move(connected).value(), config.storage.uri, timeout));
}

}  // namespace patternd::store::pg
