#pragma once
// The read side of the store: the queries of the read API (SPEC section 13),
// answered from indexes on a read-only connection of their own, so that a
// read never blocks the writer. The API (api/) turns these rows into JSON;
// PgReader (store/pg_reader.hpp)
// implements the same interface on PostgreSQL.
//
// Lists are keyset-paginated: rows come in a stable order (a sort key, then
// the row id), `after` is the last row of the previous page, and a query
// returns up to `limit + 1` rows so the caller knows whether a page follows.
//
// One Reader is one connection: one thread at a time.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "core/sha256.hpp"
#include "core/time.hpp"
#include "store/records.hpp"

namespace patternd::store {

// Where a page ends: its last row's sort key (a number, or a text for lists
// sorted by name) and id.
struct Position {
  double key = 0;
  std::string text;
  std::int64_t id = 0;
};

struct Page {
  std::int64_t limit = 50;
  std::optional<Position> after;
};

// Outcome figures (schema/008), with what is derived on read.
struct OutcomeFigures {
  std::int64_t attempts = 0, successes = 0;
  double success_rate = 0, confidence = 0;  // confidence: Wilson lower bound, z = 1.96
  std::optional<double> mean_duration_ms;   // none when no attempt reported one
  core::TimestampMs first_seen = 0, last_seen = 0;
};

enum class PatternSort { savings, occurrences, confidence, last_seen };
struct PatternQuery {
  std::optional<std::string> category, tool, target;
  std::optional<double> min_confidence;
  std::optional<std::int64_t> min_occurrences;
  PatternSort sort = PatternSort::savings;
  Page page;
};
struct PatternRow {
  std::int64_t id = 0;
  OperationPatternStats stats;
  double success_rate = 0;
};
struct PatternDetail {
  PatternRow pattern;
  std::vector<std::pair<std::int64_t, std::int64_t>> runs_per_day;  // (day since epoch, runs)
};

enum class FailureSort { frequency, last_seen };
struct FailureQuery {
  std::optional<std::string> agent;
  std::optional<core::TimestampMs> since, until;  // seen in [since, until)
  FailureSort sort = FailureSort::frequency;
  Page page;
};
struct FailureRow {
  std::int64_t id = 0;
  FailureStats stats;
};

struct ExtractionQuery {
  std::optional<std::string> agent, session, type, pattern, risk;
  std::vector<std::string> types;                 // any of these event types (empty: all)
  std::optional<core::TimestampMs> since, until;  // event time in [since, until)
  bool oldest_first = false;                      // a session's events: in time order
  Page page;
};
struct ExtractionRow {
  std::int64_t id = 0;
  core::Digest identity{};
  std::optional<std::string> event_id;
  std::string agent, session_id, type;
  core::TimestampMs time = 0;
  std::optional<std::string> pattern, matched_value, original_line, risk_level, metadata;
  std::optional<std::int64_t> line_number;
  std::optional<bool> auto_confirmable;
  struct Code {
    core::Digest digest{};
    std::optional<std::int64_t> line_start, line_end;
    std::optional<bool> parseable;
  };
  std::optional<Code> code;
};

struct SessionQuery {
  std::optional<std::string> agent;
  std::optional<bool> active;                     // started and not ended (schema/009)
  std::optional<core::TimestampMs> since, until;  // first event in [since, until)
  Page page;
};
struct SessionRow {
  std::int64_t id = 0;
  std::string session_id, agent;
  core::TimestampMs first_event = 0, last_event = 0;
  std::int64_t event_count = 0, error_count = 0, feedback_outcomes = 0, state_changes = 0;
  // Its lifecycle (the sessions stream), each absent until an event says it.
  std::optional<core::TimestampMs> started_at, ended_at;
  std::optional<std::int64_t> exit_code, lines_processed;
  std::optional<std::string> state, end_state, environment, stdout_log_path, stderr_log_path,
      extraction_config_version, environment_config_version;
  bool active() const { return started_at && !ended_at; }
};
struct StateChange {
  std::int64_t id = 0;
  std::string session_id, agent, state;
  core::TimestampMs time = 0;
  std::optional<std::int64_t> exit_code, lines_processed;
  std::optional<std::string> environment, metadata, stdout_log_path, stderr_log_path,
      extraction_config_version, environment_config_version;
};
// A session's row and how many of its rows are stored (retention removes
// raw rows, not the counts): cheap whatever the session's size.
struct StoredSession {
  SessionRow session;
  std::int64_t events = 0, state_changes = 0;
};
// A session's state changes in time order (a replay reads them page by page).
struct StateChangeQuery {
  std::string session_id;
  Page page;
};
struct SessionDetail {
  SessionRow session;
  std::vector<StateChange> state_changes;  // in time order, the first 1000
  std::vector<std::pair<std::string, std::int64_t>> events_by_type;  // by type name
};

struct CodeBlockQuery {
  std::optional<std::string> language;
  std::optional<core::TimestampMs> since;  // first seen at or after
  Page page;
};
struct CodeBlockRow {
  std::int64_t id = 0;
  core::Digest digest{};
  std::string language, content;
  std::int64_t times_seen = 0;
  core::TimestampMs first_seen = 0, last_seen = 0;
};

struct AgentRow {
  std::string agent;
  std::int64_t sessions = 0, workflows = 0, extractions = 0, outcomes = 0;
  // Its first and last workflow, event or outcome. Workflow and event counts are
  // totals over all time (kept when retention prunes the rows).
  std::optional<core::TimestampMs> first_seen, last_seen;
};
struct AgentStats {
  AgentRow agent;
  std::int64_t workflow_successes = 0, total_tokens = 0, cost_micros = 0;
  std::vector<std::pair<std::string, std::int64_t>> extractions_by_type;
  OutcomeFigures outcomes;               // over all its approaches
  std::vector<FailureRow> top_failures;  // its five most frequent
};

enum class Bucket { minute, hour, day };
inline constexpr std::int64_t bucket_ms(Bucket b) {
  return b == Bucket::minute ? 60'000 : b == Bucket::hour ? 3'600'000 : 86'400'000;
}
struct TimelineQuery {
  std::optional<std::string> agent;
  core::TimestampMs from = 0, to = 0;  // [from, to), from aligned to the bucket
  Bucket bucket = Bucket::hour;
};
struct TimelineBucket {
  core::TimestampMs start = 0;
  std::int64_t workflows = 0, errors = 0, outcomes = 0, sessions_started = 0;
};

// failure_fixes rows, best first: by confidence, then by id.
struct FixQuery {
  std::optional<std::string> signature, pattern;
  std::optional<double> min_confidence;
  Page page;
};
struct FixRow {
  std::int64_t id = 0;
  std::string signature, pattern, error_type;
  OutcomeFigures figures;
  std::optional<std::string> fix_example;
  std::int64_t agent_count = 0;
};

// Per approach, over all outcomes or one agent's; by approach name.
struct OutcomeStatsQuery {
  std::optional<std::string> pattern, agent;
  Page page;
};
struct OutcomeStatsRow {
  std::string pattern;
  OutcomeFigures figures;
  std::int64_t agent_count = 0;  // 1 when asked for one agent
};

// Prompts (schema/010): newest first, or with `q` (an FTS5 query over the
// original idea, context and improved prompt) best match first (bm25).
// A full-text search ranks the newest this many matches (see prompt_reads.cpp).
inline constexpr std::int64_t k_search_window = 5000;
struct PromptQuery {
  std::optional<std::string> backend, model, q;
  std::optional<double> min_confidence;
  std::optional<core::TimestampMs> since;
  Page page;
};
struct PromptRow {
  std::int64_t id = 0;
  core::Digest identity{};
  std::optional<std::string> prompt_id, agent, session_id, model_version, reasoning;
  core::TimestampMs time = 0;
  std::string original_idea, context, improved_prompt, role, directive, framework, guardrails,
      backend;
  std::optional<double> confidence;
  std::optional<std::int64_t> latency_ms;
  std::optional<double> rank;  // bm25, lower is better: with `q` only
};
struct PromptStatsRow {
  std::string backend;
  std::int64_t prompts = 0;  // all time (kept when retention deletes records)
  std::optional<double> mean_confidence;
  std::optional<double> mean_latency_ms;
  // Over the records retained, nearest rank; none without a latency.
  std::optional<std::int64_t> latency_p50_ms, latency_p95_ms;
  core::TimestampMs first_seen = 0, last_seen = 0;
};

// A query the store cannot parse (a malformed full-text query): 400.
struct InvalidQuery : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct StoreHealth {
  // The file, or the URI with its password masked.
  std::string location;
  int schema_version = 0;
  std::vector<std::pair<std::string, std::int64_t>> rows;  // table, count
  std::int64_t size_bytes = 0;
};

// A read that cannot be answered now (503): cut short by
// api.query_timeout_ms, or the database cannot be opened yet.
struct Unavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A read that failed for another reason (a database error): the reader's
// connection may be unusable.
struct ReadFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Reader {
 public:
  virtual ~Reader() = default;
  virtual std::string backend() const = 0;  // "sqlite"

  virtual std::vector<PatternRow> patterns(const PatternQuery& q) = 0;
  virtual std::optional<PatternDetail> pattern(const std::string& signature) = 0;
  virtual std::vector<FailureRow> failures(const FailureQuery& q) = 0;
  virtual std::optional<FailureRow> failure(const std::string& signature) = 0;
  virtual std::vector<FixRow> fixes(const FixQuery& q) = 0;
  virtual std::vector<OutcomeStatsRow> outcome_stats(const OutcomeStatsQuery& q) = 0;
  virtual std::vector<ExtractionRow> extractions(const ExtractionQuery& q) = 0;
  virtual std::vector<SessionRow> sessions(const SessionQuery& q) = 0;
  virtual std::optional<SessionDetail> session(const std::string& session_id) = 0;
  virtual std::optional<StoredSession> stored_session(const std::string& session_id) = 0;
  virtual std::vector<StateChange> state_changes(const StateChangeQuery& q) = 0;
  virtual std::vector<CodeBlockRow> code_blocks(const CodeBlockQuery& q) = 0;
  virtual std::optional<CodeBlockRow> code_block(const core::Digest& digest) = 0;
  virtual std::vector<AgentRow> agents(const Page& page) = 0;
  virtual std::optional<AgentStats> agent_stats(const std::string& agent) = 0;
  virtual std::vector<TimelineBucket> timeline(const TimelineQuery& q) = 0;
  virtual std::vector<PromptRow> prompts(const PromptQuery& q) = 0;
  // By the producer's prompt_id, or the record's identity (64 hex digits).
  virtual std::optional<PromptRow> prompt(const std::string& id) = 0;
  virtual std::vector<PromptStatsRow> prompt_stats(const std::optional<std::string>& backend) = 0;
  virtual StoreHealth health() = 0;
};

// A reader on its own read-only connection to the store `config` names.
// Every read is cut short (Unavailable) after api.query_timeout_ms.
core::Result<std::unique_ptr<Reader>, OpenError> open_reader(const config::Config& config);

}  // namespace patternd::store
