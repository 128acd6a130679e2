#pragma once
// What one batch adds to agent_sessions: the extraction events, outcomes and
// lifecycle events (the sessions stream) that were new to the database,
// summed per session, then one upsert per session. Every field is defined
// by the events whatever their order of arrival (schema/009): a session's
// first event and agent are those of its earliest event of any kind (ties:
// the smaller identity); its lifecycle fields as schema/009 says.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/event.hpp"

namespace patternd::store {

// The order key of an event: its time, then its identity, as bytes that
// compare (memcmp, SQLite's BLOB order) as (time, identity) does.
using EventRank = std::array<unsigned char, 40>;
EventRank event_rank(core::TimestampMs time, const core::Digest& identity);

// What a batch adds, backend-free: each store writes it in its own way
// (SqliteSessionDeltas here, pg::write_sessions for PostgreSQL).
class SessionDeltas {
 public:
  // The records must outlive flush() (the batch's records do).
  void add_event(const core::Extraction& event);
  void add_outcome(const core::Outcome& outcome);
  void add_lifecycle(const core::SessionEvent& event);

  void clear() { m_sessions.clear(); }

  // A text field taken from the earliest event that carries it.
  struct Earliest {
    const std::string* value = nullptr;
    EventRank rank{};
    void offer(const std::string& text, const EventRank& r) {
      if (text.empty() || (value && !(r < rank))) return;
      value = &text;
      rank = r;
    }
  };
  struct Delta {
    const std::string* agent = nullptr;
    core::TimestampMs first = 0, last = 0;
    core::Digest first_identity{};
    std::int64_t events = 0, errors = 0, outcomes = 0, state_changes = 0;
    std::optional<core::TimestampMs> started_at;
    // The latest terminal event, and the latest event.
    const core::SessionEvent* end = nullptr;
    EventRank end_rank{};
    const core::SessionEvent* latest = nullptr;
    EventRank latest_rank{};
    std::optional<std::int64_t> lines_processed;
    Earliest environment, stdout_log, stderr_log, extraction_config, environment_config;
  };
  const std::unordered_map<std::string_view, Delta>& sessions() const { return m_sessions; }

 private:
  Delta& add(std::string_view session, const std::string& agent, core::TimestampMs time,
             const core::Digest& identity);

  std::unordered_map<std::string_view, Delta> m_sessions;
};

// Writes a batch's SessionDeltas to SQLite: the statement prepared once.
class SqliteSessionDeltas : public SessionDeltas {
 public:
  explicit SqliteSessionDeltas(SQLite::Database& db);
  // Upserts each session (inside the caller's transaction), clears, and
  // returns each session's agent_sessions.id.
  std::unordered_map<std::string_view, std::int64_t> flush();

 private:
  SQLite::Statement m_upsert;
};

}  // namespace patternd::store
