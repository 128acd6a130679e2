#pragma once
// What one batch adds to agent_sessions: extraction events and outcomes that
// were new to the database, summed per session, then one upsert per session
// (Statements::upsert_session). A session's first event and agent are those
// of its earliest event or outcome by time, ties broken by the smaller
// identity, so its row does not depend on the order of arrival.

#include <cstdint>
#include <string_view>
#include <unordered_map>

#include "core/event.hpp"
#include "store/statements.hpp"

namespace patternd::store {

class SessionDeltas {
 public:
  // The records must outlive flush() (the batch's records do).
  void add_event(const core::Extraction& event);
  void add_outcome(const core::Outcome& outcome);

  // Upserts each session (inside the caller's transaction), clears, and
  // returns each session's agent_sessions.id.
  std::unordered_map<std::string_view, std::int64_t> flush(Statements& statements);
  void clear() { m_sessions.clear(); }

 private:
  struct Delta {
    const std::string* agent = nullptr;
    core::TimestampMs first = 0, last = 0;
    core::Digest first_identity{};
    std::int64_t events = 0, errors = 0, outcomes = 0;
  };
  Delta& add(std::string_view session, const std::string& agent, core::TimestampMs time,
             const core::Digest& identity);

  std::unordered_map<std::string_view, Delta> m_sessions;
};

}  // namespace patternd::store
