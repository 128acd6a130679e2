#pragma once
// A session's replay (SPEC section 13: GET /v1/sessions/{id}/replay and
// `patternd replay`): its extraction events and state changes merged in
// event-time order, each an entry with the pause before it (the original
// interval divided by the speed), then an `end` entry. When retention removed
// some of the session's rows, a `notice` entry says so first.
//
// Read a page ahead at a time, each page on a reader borrowed for that page
// only: a replay that lasts an hour holds no database connection and no read
// transaction (which would hold back the checkpoint) while it waits.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/json.hpp"
#include "http/server.hpp"
#include "store/reader.hpp"

namespace patternd::api {

struct ReplayEntry {
  Json json;  // {"kind": "notice" | "extraction" | "state_change" | "end", ...}
  std::chrono::microseconds pause{0};
  // The stored row an extraction or state_change entry shows (to republish it).
  std::optional<store::ExtractionRow> extraction;
  std::optional<store::StateChange> state_change;
};

struct ReplayOptions {
  double speed = 1.0;  // 0: no pauses
  // Event types to include; "lifecycle" names the state changes. Empty: all.
  std::vector<std::string> types;
};

class Replay {
 public:
  // Runs its argument with a reader, borrowed for that call only.
  using WithReader = std::function<void(const std::function<void(store::Reader&)>&)>;

  // Opens the replay: NotFound when there is no such session.
  Replay(WithReader with_reader, std::string session_id, ReplayOptions options);

  // The next entries, at most `max`; none once the end entry was given.
  std::vector<ReplayEntry> next(std::size_t max = 200);

  // A replay's query (speed, types); BadRequest for a bad one.
  static ReplayOptions options(std::string_view query);

 private:
  static constexpr std::int64_t k_page = 200;

  bool wants(std::string_view type) const;
  void refill(store::Reader& reader);
  ReplayEntry entry(Json body, const char* kind, core::TimestampMs time);

  WithReader m_with_reader;
  std::string m_session_id;
  ReplayOptions m_options;
  std::optional<Json> m_notice;
  std::vector<store::ExtractionRow> m_events;  // the page being merged, from m_event_at
  std::vector<store::StateChange> m_changes;   // likewise, from m_change_at
  std::size_t m_event_at = 0, m_change_at = 0;
  std::optional<store::Position> m_events_after, m_changes_after;
  bool m_events_done = false, m_changes_done = false, m_ended = false;
  std::optional<core::TimestampMs> m_first, m_previous;
  std::int64_t m_extractions_sent = 0, m_state_changes_sent = 0;
};

// The replay as an HTTP body: Server-Sent Events (`event: <kind>`, `id`,
// `data: <entry>`) or, when `ndjson`, one entry per line.
std::shared_ptr<http::Stream> replay_stream(std::unique_ptr<Replay> replay, bool ndjson);

}  // namespace patternd::api
